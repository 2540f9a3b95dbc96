import { describe, expect, it } from 'vitest'
import { decode } from 'cborg'
import {
  ClockWireError,
  clockSignedBytes,
  parseClockReply,
  parseClockRequest,
} from '../../../src/shared/clock/clock-wire.js'

const nonce = new Uint8Array(16).fill(7)

describe('clock wire', () => {
  it('parses a request and refuses a bad nonce or version', () => {
    expect(parseClockRequest({ v: 1, nonce })).toEqual({ v: 1, nonce })
    expect(() => parseClockRequest({ v: 1, nonce: new Uint8Array(8) })).toThrow(ClockWireError)
    expect(() => parseClockRequest({ v: 1, nonce: 'x' })).toThrow(ClockWireError)
    expect(() => parseClockRequest({ v: 9, nonce })).toThrow(/version/)
  })

  it('parses a reply that echoes the nonce', () => {
    const sig = new Uint8Array(64)
    const r = parseClockReply({ v: 1, nonce: nonce.slice(), t1: 10, t2: 12, sig }, nonce)
    expect(r).toMatchObject({ t1: 10, t2: 12 })
  })

  it('refuses a reply with another nonce, bad times or no signature', () => {
    const sig = new Uint8Array(64)
    const other = new Uint8Array(16)
    const bad: Array<Record<string, unknown>> = [
      { v: 1, nonce: other, t1: 1, t2: 1, sig },
      { v: 1, nonce, t1: -1, t2: 1, sig },
      { v: 1, nonce, t1: 1.5, t2: 2, sig },
      { v: 1, nonce, t1: 1, t2: '2', sig },
      { v: 1, nonce, t1: 1, t2: 2 },
      { v: 1, nonce, t1: 1, t2: 2, sig: new Uint8Array(0) },
      { v: 1, nonce, t1: 1, t2: 2, sig: new Uint8Array(4096) },
      { nonce, t1: 1, t2: 2, sig },
    ]
    for (const m of bad) expect(() => parseClockReply(m, nonce)).toThrow(ClockWireError)
  })

  it('signs the requester, the nonce and both times under a context string', () => {
    const bytes = clockSignedBytes('12D3KooWasker', nonce, 10, 12)
    expect(decode(bytes)).toEqual(['kaiwa/time/1 reply', '12D3KooWasker', nonce, 10, 12])
    expect(clockSignedBytes('12D3KooWother', nonce, 10, 12)).not.toEqual(bytes)
  })
})
