/**
 * The frames of `/kaiwa/file/1.0.0` (see src/overlay/files/file-protocol.ts
 * for the exchange): CBOR maps with a `t` field, each sent as one
 * varint-length-prefixed frame. Decoding is strict (cbor-strict.ts) and each
 * frame's fields are checked exactly, so a hostile peer's frame is either one
 * of these or a FileFrameError.
 */
import { decode, encode } from 'cborg'
import { STRICT_DECODE } from '../cbor-strict.js'
import { KaiwaError } from '../errors.js'
import {
  MAX_CHUNK_HEAD_BYTES,
  decodeChunkFrame,
  decodeChunkHead,
  encodeChunkFrame,
} from './chunk-frame.js'
import { MAX_CHUNK_BYTES, MAX_CHUNKS, MAX_OFFER_BYTES, OFFER_ID_BYTES } from './file-offer.js'

/** Why a receiver refuses an offer outright. */
export const REFUSAL_CODES = [
  'unauthenticated',
  'key_mismatch',
  'not_for_me',
  'too_large',
  'declined',
  'cancelled',
  'bad_offer',
  'relayed',
  'busy',
] as const
export type RefusalCode = (typeof REFUSAL_CODES)[number]

/** Why a transfer under way stops (the partial file is kept unless said otherwise). */
export const STOP_CODES = [
  'disk_full',
  'io_error',
  'hash_mismatch',
  'too_many_bad_chunks',
  'unknown_transfer',
  'paused',
  'cancelled',
  'protocol',
] as const
export type StopCode = (typeof STOP_CODES)[number]

export type FileFrame =
  /** sender → receiver, first frame: the signed offer (file-offer.ts wire bytes). */
  | { t: 'offer'; offer: Uint8Array }
  /** receiver → sender: send every chunk not set in `have` (a bitmap, chunk i = bit i). */
  | { t: 'accept'; have: Uint8Array }
  /** receiver → sender: the user has not decided; try again later (or on `ready`). */
  | { t: 'wait' }
  | { t: 'refuse'; code: RefusalCode; message: string }
  | { t: 'chunk'; i: number; data: Uint8Array }
  /** receiver → sender: chunk i is verified and on disk. */
  | { t: 'ack'; i: number }
  /** receiver → sender: chunk i did not match its hash; send it again. */
  | { t: 'nack'; i: number }
  /** sender → receiver: every chunk has been sent. */
  | { t: 'done' }
  /** receiver → sender: the whole file's hash matched; it is received. */
  | { t: 'complete' }
  | { t: 'stop'; code: StopCode; message: string }
  /** receiver → sender, first frame of a new stream: offer `id` again now. */
  | { t: 'ready'; id: Uint8Array }

/** A frame that is not one of the protocol's. */
export class FileFrameError extends KaiwaError {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`bad file-transfer frame: ${reason}`, 'invalid_input', options)
    this.name = 'FileFrameError'
  }
}

/** Largest frame either side accepts: a whole chunk or the largest offer, plus framing. */
export const MAX_FRAME_BYTES = Math.max(MAX_CHUNK_BYTES, MAX_OFFER_BYTES) + 256
/** Chunks a sender may have sent but not yet seen acknowledged. */
export const WINDOW_CHUNKS = 8

const FIELDS: Record<FileFrame['t'], string[]> = {
  offer: ['offer'],
  accept: ['have'],
  wait: [],
  refuse: ['code', 'message'],
  chunk: ['data', 'i'],
  ack: ['i'],
  nack: ['i'],
  done: [],
  complete: [],
  stop: ['code', 'message'],
  ready: ['id'],
}

const fail = (reason: string, cause?: unknown): never => {
  throw new FileFrameError(reason, cause !== undefined ? { cause } : undefined)
}

export function encodeFileFrame(frame: FileFrame): Uint8Array {
  // The data frame skips cborg's copying (chunk-frame.ts); the bytes are the same.
  if (frame.t === 'chunk') return encodeChunkFrame(frame.i, frame.data)
  return encode(frame)
}

/** A frame as decodeFileFrameParts gives it: a chunk's data in pieces. */
export type ReceivedFrame = Exclude<FileFrame, { t: 'chunk' }> | ChunkParts

/** A received chunk whose data stays in the pieces it arrived in (no copy to join them). */
export interface ChunkParts {
  t: 'chunk'
  i: number
  data: Uint8Array[]
  /** The data's length in bytes. */
  length: number
}

/**
 * decodeFileFrame for a frame given in pieces (FrameStream.readParts): a
 * canonical chunk frame keeps its data in those pieces; anything else is
 * joined and decoded as one frame, as strictly.
 */
export function decodeFileFrameParts(parts: Uint8Array[]): ReceivedFrame {
  let total = 0
  for (const p of parts) total += p.length
  const head = decodeChunkHead(joinPrefix(parts, MAX_CHUNK_HEAD_BYTES), total)
  if (head === undefined) {
    const frame = decodeFileFrame(joinPrefix(parts, total))
    return frame.t === 'chunk'
      ? { t: 'chunk', i: frame.i, data: [frame.data], length: frame.data.length }
      : frame
  }
  if (head.i >= MAX_CHUNKS) fail('chunk.i is not a chunk index')
  if (total - head.dataStart > MAX_CHUNK_BYTES) fail('chunk.data')
  const data: Uint8Array[] = []
  let skip = head.dataStart
  for (const p of parts) {
    if (skip >= p.length) {
      skip -= p.length
      continue
    }
    data.push(skip > 0 ? p.subarray(skip) : p)
    skip = 0
  }
  return { t: 'chunk', i: head.i, data, length: total - head.dataStart }
}

/** The first `n` bytes of `parts` as one array (a view when the first part holds them). */
function joinPrefix(parts: Uint8Array[], n: number): Uint8Array {
  const first = parts[0] ?? new Uint8Array(0)
  if (first.length >= n || parts.length === 1) return first.subarray(0, n)
  const out = new Uint8Array(
    Math.min(
      n,
      parts.reduce((a, p) => a + p.length, 0),
    ),
  )
  let off = 0
  for (const p of parts) {
    if (off >= out.length) break
    const take = Math.min(p.length, out.length - off)
    out.set(p.subarray(0, take), off)
    off += take
  }
  return out
}

export function decodeFileFrame(bytes: Uint8Array): FileFrame {
  const chunk = decodeChunkFrame(bytes)
  if (chunk !== undefined) {
    if (chunk.i >= MAX_CHUNKS) fail('chunk.i is not a chunk index')
    if (chunk.data.length > MAX_CHUNK_BYTES) fail('chunk.data')
    return { t: 'chunk', i: chunk.i, data: chunk.data }
  }
  let value: unknown
  try {
    value = decode(bytes, STRICT_DECODE)
  } catch (err) {
    return fail(`not CBOR (${(err as Error).message})`, err)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('not a map')
  const f = value as Record<string, unknown>
  const t = f.t
  if (typeof t !== 'string' || !Object.hasOwn(FIELDS, t)) return fail(`unknown type ${String(t)}`)
  const want = FIELDS[t as FileFrame['t']]
  for (const k of Object.keys(f)) if (k !== 't' && !want.includes(k)) fail(`${t}: field "${k}"`)
  for (const k of want) if (!Object.hasOwn(f, k)) fail(`${t}: missing "${k}"`)
  const isBytes = (k: string, max: number): void => {
    if (!(f[k] instanceof Uint8Array) || (f[k] as Uint8Array).length > max) fail(`${t}.${k}`)
  }
  const isIndex = (): void => {
    const i = f.i
    if (typeof i !== 'number' || !Number.isSafeInteger(i) || i < 0 || i >= MAX_CHUNKS)
      fail(`${t}.i is not a chunk index`)
  }
  const isText = (): void => {
    if (typeof f.message !== 'string' || f.message.length > 1000) fail(`${t}.message`)
  }
  switch (t) {
    case 'offer':
      isBytes('offer', MAX_OFFER_BYTES)
      break
    case 'accept':
      isBytes('have', MAX_CHUNKS / 8)
      break
    case 'refuse':
      if (!(REFUSAL_CODES as readonly unknown[]).includes(f.code)) fail('refuse.code')
      isText()
      break
    case 'stop':
      if (!(STOP_CODES as readonly unknown[]).includes(f.code)) fail('stop.code')
      isText()
      break
    case 'chunk':
      isIndex()
      isBytes('data', MAX_CHUNK_BYTES)
      break
    case 'ack':
    case 'nack':
      isIndex()
      break
    case 'ready':
      isBytes('id', OFFER_ID_BYTES)
      if ((f.id as Uint8Array).length !== OFFER_ID_BYTES) fail('ready.id')
      break
  }
  return f as unknown as FileFrame
}

/** A bitmap of `n` chunks, all clear. */
export function emptyBitmap(n: number): Uint8Array {
  return new Uint8Array(Math.ceil(n / 8))
}

export function hasBit(map: Uint8Array, i: number): boolean {
  return ((map[i >> 3] ?? 0) & (1 << (i & 7))) !== 0
}

export function setBit(map: Uint8Array, i: number): void {
  map[i >> 3] = (map[i >> 3] ?? 0) | (1 << (i & 7))
}

export function countBits(map: Uint8Array, n: number): number {
  let c = 0
  for (let i = 0; i < n; i++) if (hasBit(map, i)) c++
  return c
}
