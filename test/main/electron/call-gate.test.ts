import { describe, expect, it } from 'vitest'
import { CallGate } from '../../../src/main/electron/call-gate.js'

describe('CallGate', () => {
  it('opens on the first call and closes after the last', () => {
    const changes: boolean[] = []
    const gate = new CallGate((a) => changes.push(a))
    expect(gate.active).toBe(false)
    expect(gate.start()).toBe(true)
    expect(gate.start()).toBe(true) // call waiting
    expect(gate.active).toBe(true)
    gate.end()
    expect(gate.active).toBe(true)
    gate.end()
    expect(gate.active).toBe(false)
    expect(changes).toEqual([true, false])
  })

  it('ignores ends without a start', () => {
    const changes: boolean[] = []
    const gate = new CallGate((a) => changes.push(a))
    gate.end()
    gate.end()
    expect(gate.calls).toBe(0)
    expect(gate.start()).toBe(true)
    expect(changes).toEqual([true])
  })

  it('caps concurrent calls', () => {
    const gate = new CallGate(() => {}, 2)
    expect(gate.start()).toBe(true)
    expect(gate.start()).toBe(true)
    expect(gate.start()).toBe(false)
    expect(gate.calls).toBe(2)
  })

  it('resets when the page goes away', () => {
    const changes: boolean[] = []
    const gate = new CallGate((a) => changes.push(a))
    gate.reset()
    expect(changes).toEqual([])
    gate.start()
    gate.start()
    gate.reset()
    expect(gate.active).toBe(false)
    expect(changes).toEqual([true, false])
  })
})
