/**
 * The chunk frame's own codec (chunk-frame.ts) against cborg, which the rest
 * of the protocol's frames still use: the same bytes for every index and
 * length form, the same decoded frame, and anything not in exactly the
 * canonical form left to the strict general decoder, which judges it as before.
 */
import { encode } from 'cborg'
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  MAX_CHUNK_HEAD_BYTES,
  chunkFrameHead,
  decodeChunkFrame,
  encodeChunkFrame,
} from '../../../src/shared/files/chunk-frame.js'
import {
  FileFrameError,
  decodeFileFrame,
  decodeFileFrameParts,
  encodeFileFrame,
} from '../../../src/shared/files/file-wire.js'
import { MAX_CHUNK_BYTES } from '../../../src/shared/files/file-offer.js'

const INDICES = [0, 1, 23, 24, 255, 256, 65535 % 32768, 32767]
const LENGTHS = [0, 1, 23, 24, 255, 256, 65535, 65536, 1024 * 1024, MAX_CHUNK_BYTES]

describe('chunk frames', () => {
  it('encodes exactly as cborg does, for every index and length form', () => {
    for (const i of INDICES)
      for (const n of LENGTHS) {
        const data = randomBytes(n)
        const ours = encodeChunkFrame(i, data)
        expect(Buffer.compare(ours, encode({ t: 'chunk', i, data })), `i=${i} n=${n}`).toBe(0)
        expect(Buffer.compare(encodeFileFrame({ t: 'chunk', i, data }), ours)).toBe(0)
        // What the sender puts on the stream: the head, then the data itself.
        expect(Buffer.compare(Buffer.concat([chunkFrameHead(i, n), data]), ours)).toBe(0)
      }
  })

  it('decodes cborg-encoded chunks to the same frame, the data a view, not a copy', () => {
    for (const [i, n] of [
      ...INDICES.map((x) => [x, 300] as const),
      [0, 0],
      [24, 65536],
      [32767, 1024 * 1024],
    ] as const) {
      const data = randomBytes(n)
      const bytes = encode({ t: 'chunk', i, data })
      const f = decodeFileFrame(bytes)
      expect(f).toEqual({ t: 'chunk', i, data: new Uint8Array(data) })
      const fast = decodeChunkFrame(bytes)!
      expect(fast.data.buffer).toBe(bytes.buffer)
    }
  })

  it('leaves every other form to the strict decoder', () => {
    const data = randomBytes(300)
    const good = encodeChunkFrame(7, data)
    // A longer length form than needed (0x5a: 4 bytes for 300), a non-minimal index.
    const longLen = Uint8Array.from([
      ...good.subarray(0, 17),
      ...[0x5a, 0, 0, 1, 44],
      ...good.subarray(20),
    ])
    expect([...good.subarray(17, 20)]).toEqual([0x59, 1, 44])
    const longIndex = Uint8Array.from([0xa3, 0x61, 0x69, 0x18, 7, ...good.subarray(4)])
    const trailing = Uint8Array.from([...good, 0])
    const truncated = good.subarray(0, good.length - 1)
    const otherOrder = encodeCborUnsorted(7, data)
    const extraField = encode({ t: 'chunk', i: 7, data, x: 1 })
    for (const bad of [longLen, longIndex, trailing, truncated, extraField]) {
      expect(decodeChunkFrame(bad)).toBeUndefined()
      expect(() => decodeFileFrame(bad)).toThrow(FileFrameError)
    }
    // cborg's strict mode lets an unsorted map through (cbor-strict.ts), and so did this
    // protocol before the fast path: still the general decoder's call, and the same frame.
    expect(decodeChunkFrame(otherOrder)).toBeUndefined()
    expect(decodeFileFrame(otherOrder)).toEqual({ t: 'chunk', i: 7, data: new Uint8Array(data) })
    // Other frames are not chunks.
    expect(decodeChunkFrame(encodeFileFrame({ t: 'ack', i: 7 }))).toBeUndefined()
    expect(decodeFileFrame(encodeFileFrame({ t: 'ack', i: 7 }))).toEqual({ t: 'ack', i: 7 })
  })

  it('decodes a chunk given in pieces cut anywhere, its data left in those pieces', () => {
    const data = randomBytes(70_000)
    const frame = encodeChunkFrame(300, data)
    const cuts = [[], [1], [5, 17], [MAX_CHUNK_HEAD_BYTES], [27, 40_000], [frame.length - 1]]
    for (const at of cuts) {
      const parts = cut(frame, at)
      const got = decodeFileFrameParts(parts)
      if (got.t !== 'chunk') throw new Error(`not a chunk: ${got.t}`)
      expect(got.i).toBe(300)
      expect(got.length).toBe(data.length)
      expect(Buffer.concat(got.data)).toEqual(data)
      // Views of the pieces, not a copy.
      for (const d of got.data) expect(d.buffer).toBe(frame.buffer)
    }
    // Anything else is joined and judged by the strict decoder, as one frame would be.
    const ack = encodeFileFrame({ t: 'ack', i: 3 })
    expect(decodeFileFrameParts(cut(ack, [2]))).toEqual({ t: 'ack', i: 3 })
    const unsorted = decodeFileFrameParts(cut(encodeCborUnsorted(7, data), [3, 9]))
    expect(unsorted).toMatchObject({ t: 'chunk', i: 7, length: data.length })
    expect(() => decodeFileFrameParts(cut(frame.subarray(0, 30), [4]))).toThrow(FileFrameError)
    expect(() => decodeFileFrameParts([encodeChunkFrame(32768, new Uint8Array(1))])).toThrow(
      /chunk index/,
    )
  })

  it('refuses an index past the last chunk and data over the chunk limit', () => {
    expect(() => decodeFileFrame(encodeChunkFrame(32768, new Uint8Array(1)))).toThrow(/chunk index/)
    expect(() => decodeFileFrame(encodeChunkFrame(0, new Uint8Array(MAX_CHUNK_BYTES + 1)))).toThrow(
      /chunk\.data/,
    )
  })
})

/** `bytes` cut at the given offsets into views of the same buffer. */
function cut(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const out: Uint8Array[] = []
  let from = 0
  for (const to of at) {
    out.push(bytes.subarray(from, to))
    from = to
  }
  out.push(bytes.subarray(from))
  return out
}

/** The chunk map with `t` before `i`: valid CBOR, not canonical. */
function encodeCborUnsorted(i: number, data: Uint8Array): Uint8Array {
  const good = encodeChunkFrame(i, data)
  // a3 | 61 69 07 | 61 74 65 chunk | …  →  a3 | 61 74 65 chunk | 61 69 07 | …
  return Uint8Array.from([
    0xa3,
    ...good.subarray(4, 12),
    ...good.subarray(1, 4),
    ...good.subarray(12),
  ])
}
