/**
 * The memory of which peers needed TURN for files (turn-memory.ts), and the
 * dial race file-protocol.ts runs with it (dial-race.ts): a remembered peer
 * is dialled through TURN at once until the entry expires or a direct dial
 * succeeds; the first attempt with a link wins; a later attempt waits out its
 * head start unless the earlier one failed first.
 */
import { describe, expect, it } from 'vitest'
import { firstOf, headStart } from '../../../src/overlay/files/dial-race.js'
import { TURN_MEMORY_MS, TurnMemory } from '../../../src/overlay/files/turn-memory.js'

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start
  return { now: () => t, advance: (ms) => void (t += ms) }
}

/** A promise and its resolver, to settle attempts in a chosen order. */
function deferred<T>(): {
  promise: Promise<T>
  resolve: (v: T) => void
  reject: (e: Error) => void
} {
  let resolve!: (v: T) => void
  let reject!: (e: Error) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

describe('TurnMemory', () => {
  it('remembers a peer that needed TURN until the entry expires', () => {
    const c = clock()
    const m = new TurnMemory({ now: c.now })
    expect(m.needsTurn('bob')).toBe(false)
    m.neededTurn('bob')
    expect(m.needsTurn('bob')).toBe(true)
    expect(m.needsTurn('carol')).toBe(false)
    c.advance(TURN_MEMORY_MS - 1)
    expect(m.needsTurn('bob')).toBe(true)
    expect(m.age('bob')).toBe(TURN_MEMORY_MS - 1)
    c.advance(1)
    // Expired: bob is tried directly first again, and the entry is gone.
    expect(m.needsTurn('bob')).toBe(false)
    expect(m.age('bob')).toBeUndefined()
    expect(m.size).toBe(0)
  })

  it('a direct failure again renews the entry; a direct link forgets it at once', () => {
    const c = clock()
    const m = new TurnMemory({ ttlMs: 1000, now: c.now })
    m.neededTurn('bob')
    c.advance(900)
    m.neededTurn('bob')
    c.advance(900)
    expect(m.needsTurn('bob')).toBe(true)
    m.wentDirect('bob')
    expect(m.needsTurn('bob')).toBe(false)
  })

  it('holds at most maxPeers, dropping the least recently renewed', () => {
    const c = clock()
    const m = new TurnMemory({ maxPeers: 2, now: c.now })
    m.neededTurn('a')
    m.neededTurn('b')
    m.neededTurn('a')
    m.neededTurn('c')
    expect(m.size).toBe(2)
    expect(m.needsTurn('b')).toBe(false)
    expect(m.needsTurn('a')).toBe(true)
    expect(m.needsTurn('c')).toBe(true)
  })
})

describe('firstOf', () => {
  it('takes the first attempt that gives a value, whichever order they settle in', async () => {
    const direct = deferred<string | undefined>()
    const turn = deferred<string | undefined>()
    const race = firstOf([direct.promise, turn.promise])
    turn.resolve('turn link')
    direct.resolve('direct link')
    expect(await race).toBe('turn link')
  })

  it('waits past attempts that fail or give nothing', async () => {
    const direct = deferred<string | undefined>()
    const turn = deferred<string | undefined>()
    const race = firstOf([direct.promise, turn.promise])
    direct.reject(new Error('no route'))
    turn.resolve('turn link')
    expect(await race).toBe('turn link')
  })

  it('gives nothing once every attempt gave nothing', async () => {
    expect(await firstOf([Promise.resolve(undefined), Promise.reject(new Error('x'))])).toBe(
      undefined,
    )
    expect(await firstOf([])).toBeUndefined()
  })
})

describe('headStart', () => {
  it('starts the next attempt at once when the earlier one failed', async () => {
    const t0 = Date.now()
    expect(await headStart(Promise.resolve(undefined), 60_000, new AbortController().signal)).toBe(
      true,
    )
    expect(Date.now() - t0).toBeLessThan(30_000)
  })

  it('does not start it when the earlier one gave a link', async () => {
    expect(await headStart(Promise.resolve('tcp'), 60_000, new AbortController().signal)).toBe(
      false,
    )
  })

  it('starts it after the head start while the earlier one is still dialling', async () => {
    const never = new Promise<string | undefined>(() => {})
    expect(await headStart(never, 10, new AbortController().signal)).toBe(true)
  })

  it('does not start it once the dial was abandoned', async () => {
    const ctl = new AbortController()
    const never = new Promise<string | undefined>(() => {})
    const go = headStart(never, 60_000, ctl.signal)
    ctl.abort()
    expect(await go).toBe(false)
  })
})
