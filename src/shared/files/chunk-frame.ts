/**
 * The `chunk` frame, the one that carries the file, without a general CBOR
 * pass over its megabyte of data: cborg copied it through its chunked
 * encoder (~16 ms per MiB) and its decoder copied it out again (~11 ms),
 * more than the SHA-256 of the same bytes. The bytes are exactly cborg's
 * canonical encoding of `{t: 'chunk', i, data}` (RFC 8949 §4.2.1: keys
 * sorted length-first, then bytewise: `i`, `t`, `data`; every length and
 * integer in its shortest form), so the wire does not change; the decoder
 * takes only that exact form and leaves anything else to the general, strict
 * path (file-wire.ts), which accepts or refuses it as before.
 */

const MAP3 = 0xa3
/** `i` as a one-byte text string. */
const KEY_I = [0x61, 0x69]
/** `t`: `chunk`. */
const T_CHUNK = [0x61, 0x74, 0x65, 0x63, 0x68, 0x75, 0x6e, 0x6b]
/** `data` as a four-byte text string. */
const KEY_DATA = [0x64, 0x64, 0x61, 0x74, 0x61]

/** A CBOR head (RFC 8949 §3): major type and argument, shortest form. */
function head(major: number, n: number): number[] {
  const m = major << 5
  if (n < 24) return [m | n]
  if (n < 0x100) return [m | 24, n]
  if (n < 0x10000) return [m | 25, n >> 8, n & 0xff]
  return [m | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]
}

/**
 * The bytes of `{t: 'chunk', i, data}` before `data` itself, in canonical CBOR:
 * a sender puts these and then `data` on the stream, copying nothing.
 */
export function chunkFrameHead(i: number, length: number): Uint8Array {
  return Uint8Array.from([
    MAP3,
    ...KEY_I,
    ...head(0, i),
    ...T_CHUNK,
    ...KEY_DATA,
    ...head(2, length),
  ])
}

/** `{t: 'chunk', i, data}` in canonical CBOR, as one array (one copy of `data`). */
export function encodeChunkFrame(i: number, data: Uint8Array): Uint8Array {
  const pre = chunkFrameHead(i, data.length)
  const out = new Uint8Array(pre.length + data.length)
  out.set(pre, 0)
  out.set(data, pre.length)
  return out
}

/** The longest head chunkFrameHead writes (a 4-byte index and a 4-byte length). */
export const MAX_CHUNK_HEAD_BYTES = 1 + KEY_I.length + 5 + T_CHUNK.length + KEY_DATA.length + 5

/**
 * A chunk frame in exactly the canonical form: its index and its data (a view
 * into `bytes`, not a copy). Undefined for anything else, which the general
 * decoder then judges.
 */
export function decodeChunkFrame(bytes: Uint8Array): { i: number; data: Uint8Array } | undefined {
  const head = decodeChunkHead(bytes.subarray(0, MAX_CHUNK_HEAD_BYTES), bytes.length)
  return head && { i: head.i, data: bytes.subarray(head.dataStart) }
}

/**
 * The head of a chunk frame in exactly the canonical form, from the frame's
 * first bytes (`prefix`, at least MAX_CHUNK_HEAD_BYTES of them or the whole
 * frame) and its length: its index and where its data starts, so the data can
 * stay in the pieces it arrived in. Undefined for anything else.
 */
export function decodeChunkHead(
  bytes: Uint8Array,
  frameLength: number,
): { i: number; dataStart: number } | undefined {
  let pos = 0
  const expect = (want: number[]): boolean => {
    for (const b of want) if (bytes[pos++] !== b) return false
    return true
  }
  const arg = (major: number): number | undefined => {
    const first = bytes[pos++]
    if (first == null || first >> 5 !== major) return undefined
    const info = first & 0x1f
    if (info < 24) return info
    const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : 0
    if (size === 0 || pos + size > bytes.length) return undefined
    let n = 0
    for (let k = 0; k < size; k++) n = n * 256 + bytes[pos++]!
    // Shortest form only, as the canonical encoder writes it.
    return n >= (size === 1 ? 24 : size === 2 ? 0x100 : 0x10000) ? n : undefined
  }
  if (!expect([MAP3, ...KEY_I])) return undefined
  const i = arg(0)
  if (i === undefined || !expect([...T_CHUNK, ...KEY_DATA])) return undefined
  const len = arg(2)
  if (len === undefined || pos + len !== frameLength) return undefined
  return { i, dataStart: pos }
}
