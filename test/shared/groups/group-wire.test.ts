/** Group bodies (group-wire.ts): strict parsing, the content type, one display order. */
import { describe, expect, it } from 'vitest'
import {
  GROUP_CONTENT_TYPE,
  InvalidGroupWireError,
  compareGroupOrder,
  decodeGroupWire,
  encodeGroupWire,
  isGroupContentType,
  orderKey,
} from '../../../src/shared/groups/group-wire.js'
import type { GroupMessageWire } from '../../../src/shared/groups/group-wire.js'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const message: GroupMessageWire = {
  kaiwaGroup: 1,
  type: 'message',
  group: 'a'.repeat(32),
  id: 'b'.repeat(32),
  seq: 1,
  lamport: 4,
  sentAt: '2025-01-01T10:00:00.000Z',
  text: 'hi',
  version: 2,
}

describe('group wire', () => {
  it('round-trips a message and refuses extra fields, bad IDs, empty text and non-JSON', () => {
    expect(decodeGroupWire(enc(encodeGroupWire(message)))).toEqual(message)
    for (const bad of [
      { ...message, extra: 1 },
      { ...message, group: 'nope' },
      { ...message, text: '' },
      { ...message, seq: 0 },
      { ...message, type: 'other' },
    ])
      expect(() => decodeGroupWire(enc(JSON.stringify(bad)))).toThrow(InvalidGroupWireError)
    expect(() => decodeGroupWire(new Uint8Array([0xff, 0xfe]))).toThrow(/not UTF-8 JSON/)
    expect(() => decodeGroupWire(new Uint8Array(60_000))).toThrow(/over/)
  })

  it('knows its content type with or without parameters', () => {
    expect(isGroupContentType(GROUP_CONTENT_TYPE)).toBe(true)
    expect(isGroupContentType(`${GROUP_CONTENT_TYPE.toUpperCase()}; charset=utf-8`)).toBe(true)
    expect(isGroupContentType('text/plain')).toBe(false)
    expect(isGroupContentType(undefined)).toBe(false)
  })

  it('sorts keys exactly as it compares messages, whatever the user IDs', () => {
    const names = ['ab', 'ab-0', 'ab.c', 'ab_', 'abc', 'a-b', 'zz', '0ab']
    const msgs = names.flatMap((sender) =>
      [1, 2].flatMap((lamport) => [1, 10].map((seq) => ({ lamport, sender, seq }))),
    )
    const byKey = [...msgs].sort((a, b) => (orderKey(a) < orderKey(b) ? -1 : 1))
    const byCompare = [...msgs].sort(compareGroupOrder)
    expect(byKey).toEqual(byCompare)
    expect(byCompare[0]).toEqual({ lamport: 1, sender: '0ab', seq: 1 })
  })
})
