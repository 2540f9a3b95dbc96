import { describe, it, expect } from 'vitest'
import {
  chooseSupernodes,
  SHED_ABOVE_LOAD,
  type SupernodeView,
} from '../../../src/shared/election/attachment.js'

const sn = (id: string, clients: number, steppingDown = false): SupernodeView<string> => ({
  id,
  clients,
  target: 200,
  steppingDown,
})

describe('chooseSupernodes', () => {
  it('a new client attaches to the two least-loaded it knows', () => {
    const plan = chooseSupernodes({
      current: [],
      known: [sn('a', 190), sn('b', 50), sn('c', 120), sn('d', 10)],
      random: 0.5,
    })
    expect(plan).toEqual({ keep: [], attach: ['d', 'b'], detach: [] })
  })

  it('keeps its current supernodes while they serve, even if lighter ones exist', () => {
    const plan = chooseSupernodes({
      current: ['a', 'c'],
      known: [sn('a', 250), sn('b', 0), sn('c', 220)],
      random: 0,
    })
    expect(plan).toEqual({ keep: ['a', 'c'], attach: [], detach: [] })
  })

  it('replaces a supernode that left (missing from known)', () => {
    const plan = chooseSupernodes({
      current: ['a', 'gone'],
      known: [sn('a', 200), sn('b', 150), sn('c', 100)],
      random: 0.5,
    })
    expect(plan).toEqual({ keep: ['a'], attach: ['c'], detach: ['gone'] })
  })

  it('hands off: leaves a stepping-down supernode for another', () => {
    const plan = chooseSupernodes({
      current: ['a', 'b'],
      known: [sn('a', 200), sn('b', 150, true), sn('c', 100)],
      random: 0.5,
    })
    expect(plan).toEqual({ keep: ['a'], attach: ['c'], detach: ['b'] })
  })

  it('never attaches to a stepping-down supernode, but keeps one while nothing else is known', () => {
    expect(
      chooseSupernodes({ current: [], known: [sn('b', 10, true)], random: 0.5 }).attach,
    ).toEqual([])
    const alone = chooseSupernodes({ current: ['b'], known: [sn('b', 10, true)], random: 0.5 })
    expect(alone).toEqual({ keep: ['b'], attach: [], detach: [] })
  })

  it('every client of a stepping-down supernode moves when others exist', () => {
    const known = [sn('x', 200, true), sn('y', 200), sn('z', 180)]
    for (let i = 0; i < 100; i++) {
      const plan = chooseSupernodes({ current: ['x', 'y'], known, random: i / 100 })
      expect(plan.detach).toContain('x')
      expect([...plan.keep, ...plan.attach]).toHaveLength(2)
    }
  })

  it('sheds a crowded supernode with probability (L − 1)/L when a light one is known', () => {
    const crowded = 2 * 200 // load 2: half its clients should move
    expect(2).toBeGreaterThan(SHED_ABOVE_LOAD)
    const known = [sn('a', crowded), sn('b', 190), sn('c', 20)]
    const moved = chooseSupernodes({ current: ['a', 'b'], known, random: 0.49 })
    expect(moved).toEqual({ keep: ['b'], attach: ['c'], detach: ['a'] })
    const stayed = chooseSupernodes({ current: ['a', 'b'], known, random: 0.51 })
    expect(stayed).toEqual({ keep: ['a', 'b'], attach: [], detach: [] })
  })

  it('does not shed when no supernode below target is known', () => {
    const known = [sn('a', 400), sn('b', 210), sn('c', 205)]
    const plan = chooseSupernodes({ current: ['a', 'b'], known, random: 0 })
    expect(plan.detach).toEqual([])
  })

  it('fills up to count, takes what exists, and drops duplicates or extras', () => {
    expect(chooseSupernodes({ current: [], known: [sn('a', 0)], random: 0 }).attach).toEqual(['a'])
    const plan = chooseSupernodes({
      current: ['a', 'a', 'b'],
      known: [sn('a', 0), sn('b', 0), sn('c', 0)],
      random: 0,
      count: 1,
    })
    expect(plan).toEqual({ keep: ['a'], attach: [], detach: ['b'] })
  })
})
