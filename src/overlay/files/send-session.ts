/**
 * One transfer on one stream, sending side (file-protocol.ts draws the
 * exchange): the signed offer, then the answer. On `accept` the chunks the
 * receiver does not hold yet are read from the file, checked against the
 * offer (a file changed since it was offered is never sent as this one) and
 * sent with at most WINDOW_CHUNKS unacknowledged, so memory stays flat for
 * any size and a slow receiver slows the sender; a `nack` sends that chunk
 * again. After `done`, `complete` means the receiver verified the whole file.
 */
import { open } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { chunkCount, chunkHash, chunkLength } from '../../shared/files/file-offer.js'
import type { FileOffer } from '../../shared/files/file-offer.js'
import {
  WINDOW_CHUNKS,
  decodeFileFrame,
  encodeFileFrame,
  hasBit,
} from '../../shared/files/file-wire.js'
import type { RefusalCode, StopCode } from '../../shared/files/file-wire.js'
import { KaiwaError } from '../../shared/errors.js'
import { chunkFrameHead } from '../../shared/files/chunk-frame.js'
import { equalBytes, sha256 } from './file-util.js'
import type { FrameStream } from './frame-stream.js'

export type SendOutcome =
  | { kind: 'complete' }
  | { kind: 'wait' }
  | { kind: 'refused'; code: RefusalCode; message: string }
  | { kind: 'stopped'; code: StopCode; message: string }

/** The file on disk is not the one that was offered any more. */
export class FileChangedError extends KaiwaError {
  constructor(path: string) {
    super(`${path} changed since it was offered; send it again as a new file`, 'conflict')
    this.name = 'FileChangedError'
  }
}

export interface SendProgress {
  /** The receiver already had this many bytes when the session began. */
  resumedFrom(bytes: number): void
  /** Bytes put on the stream (a resent chunk counts again). */
  sent(bytes: number): void
  /** Chunk verified by the receiver. */
  acked(index: number, bytes: number): void
}

export async function sendSession(
  fs: FrameStream,
  offer: FileOffer,
  offerBytes: Uint8Array,
  path: string,
  progress: SendProgress,
  signal: AbortSignal,
): Promise<SendOutcome> {
  await fs.write(encodeFileFrame({ t: 'offer', offer: offerBytes }), signal)
  const answer = await readFrame(fs, signal)
  if (answer.t === 'complete') return { kind: 'complete' }
  if (answer.t === 'wait') return { kind: 'wait' }
  if (answer.t === 'refuse') return { kind: 'refused', code: answer.code, message: answer.message }
  if (answer.t === 'stop') return { kind: 'stopped', code: answer.code, message: answer.message }
  if (answer.t !== 'accept') throw new KaiwaError(`unexpected ${answer.t} answer to an offer`)
  const n = chunkCount(offer.size, offer.chunkSize)
  const todo: number[] = []
  let had = 0
  for (let i = 0; i < n; i++) {
    if (hasBit(answer.have, i)) had += chunkLength(offer, i)
    else todo.push(i)
  }
  progress.resumedFrom(had)
  const fh = await open(path, 'r')
  try {
    return await pump(fs, offer, fh, path, todo, progress, signal)
  } finally {
    await fh.close().catch(() => {})
  }
}

async function pump(
  fs: FrameStream,
  offer: FileOffer,
  fh: FileHandle,
  path: string,
  todo: number[],
  progress: SendProgress,
  signal: AbortSignal,
): Promise<SendOutcome> {
  const inFlight = new Set<number>()
  let wake: (() => void) | undefined
  let outcome: SendOutcome | undefined
  let failure: unknown
  // Replies arrive while chunks go out: one reader, the writer waits on it for room.
  const reader = (async () => {
    try {
      for (;;) {
        const f = await readFrame(fs, signal)
        if (f.t === 'ack') {
          if (inFlight.delete(f.i)) progress.acked(f.i, chunkLength(offer, f.i))
        } else if (f.t === 'nack') {
          if (inFlight.delete(f.i)) todo.unshift(f.i)
        } else if (f.t === 'complete') {
          outcome = { kind: 'complete' }
          return
        } else if (f.t === 'stop') {
          outcome = { kind: 'stopped', code: f.code, message: f.message }
          return
        } else {
          throw new KaiwaError(`unexpected ${f.t} frame while sending`)
        }
        wake?.()
      }
    } catch (err) {
      failure = err
    } finally {
      wake?.()
    }
  })()
  const ended = (): boolean => outcome !== undefined || failure !== undefined
  let sentDone = false
  while (!ended()) {
    if (todo.length > 0 && inFlight.size < WINDOW_CHUNKS) {
      const i = todo.shift()!
      const data = await readChunk(fh, offer, i)
      if (!equalBytes(sha256(data), chunkHash(offer, i))) {
        await fs.write(
          encodeFileFrame({
            t: 'stop',
            code: 'cancelled',
            message: 'the file changed at the sender',
          }),
        )
        throw new FileChangedError(path)
      }
      inFlight.add(i)
      // The same bytes as encodeFileFrame({t: 'chunk', i, data}), without joining them.
      await fs.writeParts([chunkFrameHead(i, data.length), data], signal)
      progress.sent(data.length)
      continue
    }
    if (todo.length === 0 && inFlight.size === 0 && !sentDone) {
      sentDone = true
      await fs.write(encodeFileFrame({ t: 'done' }), signal)
    }
    await new Promise<void>((resolve) => {
      wake = resolve
      if (ended()) resolve()
    })
    wake = undefined
  }
  await reader
  if (failure !== undefined) throw failure
  return outcome!
}

async function readChunk(fh: FileHandle, offer: FileOffer, i: number): Promise<Uint8Array> {
  const len = chunkLength(offer, i)
  const buf = new Uint8Array(len)
  let off = 0
  while (off < len) {
    const { bytesRead } = await fh.read(buf, off, len - off, i * offer.chunkSize + off)
    if (bytesRead === 0) break
    off += bytesRead
  }
  return off === len ? buf : buf.subarray(0, off)
}

async function readFrame(fs: FrameStream, signal: AbortSignal) {
  const raw = await fs.read(signal)
  if (raw == null) throw new KaiwaError('the receiver closed the stream', 'unavailable')
  return decodeFileFrame(raw)
}
