/**
 * One accepted transfer on one stream, receiving side (file-protocol.ts draws
 * the exchange): `accept` with the chunks already verified, then each `chunk`
 * is hashed against the signed offer before it is written at its offset
 * (`ack`), or refused and asked for again (`nack`); `done` hashes the whole
 * file from disk, and only a match moves it into the receive folder
 * (`complete`). The bitmap of verified chunks is saved after the data it
 * covers is flushed, so a dropped connection or a restart resumes from the
 * last verified chunk, and a full disk keeps the partial file.
 */
import { createHash } from 'node:crypto'
import type { Hash } from 'node:crypto'
import type { Logger } from '../../shared/logger.js'
import { chunkCount, chunkHash, chunkLength, safeFileName } from '../../shared/files/file-offer.js'
import type { FileOffer } from '../../shared/files/file-offer.js'
import {
  decodeFileFrameParts,
  encodeFileFrame,
  hasBit,
  setBit,
} from '../../shared/files/file-wire.js'
import type { ReceivedFrame, StopCode } from '../../shared/files/file-wire.js'
import type { FileStore, StoredIncomingFile } from './file-store.js'
import { dirOf, equalBytes, fromB64, toB64 } from './file-util.js'
import type { FrameStream } from './frame-stream.js'
import { DiskFullError, PartFile, hashFile, moveIntoPlace, removePart } from './part-file.js'

/**
 * Save the verified-chunk bitmap at least this often while receiving. The
 * flush and the save run beside the stream (one at a time), so a disk's
 * fdatasync does not stall the chunks behind it.
 */
const SAVE_EVERY_CHUNKS = 16
const SAVE_EVERY_MS = 1000

/** How a session ended early: the frame sent to the sender and the note kept. */
export class SessionStop extends Error {
  constructor(
    readonly code: StopCode,
    message: string,
  ) {
    super(message)
    this.name = 'SessionStop'
  }
}

export interface ReceiveContext {
  store: FileStore
  log: Logger
  maxBadChunks: number
  onChange: (id: string) => void
  /**
   * Lets the API end this session (pause, cancel), and the node save its
   * bitmap of verified chunks now (`save`: before it shuts down).
   */
  register: (
    id: string,
    end: (code: StopCode, message: string) => void,
    save: () => Promise<void>,
  ) => void
  unregister: (id: string) => void
}

export async function receiveSession(
  ctx: ReceiveContext,
  fs: FrameStream,
  offer: FileOffer,
  start: StoredIncomingFile,
): Promise<void> {
  const id = start.id
  const n = chunkCount(offer.size, offer.chunkSize)
  const have = fromB64(start.have)
  let part: PartFile
  try {
    part = await PartFile.open(start.partPath, dirOf(start.partPath))
  } catch (err) {
    throw await stopped(ctx, id, have, stopFor(err))
  }
  let endedBy: SessionStop | undefined
  ctx.register(
    id,
    (code, message) => {
      endedBy = new SessionStop(code, message)
      void fs
        .write(encodeFileFrame({ t: 'stop', code, message }))
        .finally(() => fs.stream.abort(endedBy!))
    },
    () => save(),
  )
  const bad = new Map<number, number>()
  // The whole file's hash as it arrives, while chunks come in order from the
  // first (a fresh transfer); otherwise the file is hashed from disk at the end.
  let whole: Hash | undefined = have.every((b) => b === 0) ? createHash('sha256') : undefined
  let inOrder = 0
  let unsaved = 0
  let savedAt = Date.now()
  /** Flush what is written, then save the bitmap of it (a copy: chunks keep arriving). */
  const saveNow = async (): Promise<void> => {
    const written = have.slice()
    unsaved = 0
    savedAt = Date.now()
    await part.sync()
    await ctx.store.updateIn(id, (cur) => cur && { ...cur, have: toB64(written) })
    ctx.onChange(id)
  }
  let saving: Promise<void> | undefined
  let saveFailed: unknown
  /** saveNow beside the stream; a failure (a full disk) stops the session at the next chunk. */
  const saveBeside = (): void => {
    saving ??= saveNow()
      .catch((err: unknown) => void (saveFailed ??= err))
      .finally(() => (saving = undefined))
  }
  const save = async (): Promise<void> => {
    await saving
    if (saveFailed !== undefined) throw saveFailed
    await saveNow()
  }
  try {
    await ctx.store.updateIn(id, (cur) => cur && { ...cur, status: 'receiving', note: null })
    ctx.onChange(id)
    await fs.write(encodeFileFrame({ t: 'accept', have }))
    for (;;) {
      // The chunk's data stays in the pieces it arrived in: hashed and written without a copy.
      const raw = await fs.readParts()
      if (raw == null) throw new SessionStop('protocol', 'the sender closed the stream early')
      const frame = decodeOrStop(raw)
      if (frame.t === 'chunk') {
        if (saveFailed !== undefined) throw saveFailed
        const { i, data } = frame
        if (i >= n) throw new SessionStop('unknown_transfer', `chunk ${i} is not in this file`)
        if (!hasBit(have, i)) {
          // The chunk's hash and the whole file's in one pass over each piece while it is in
          // the CPU's cache; the whole file's takes the chunk only once it matched (a copy).
          const next = whole != null && i === inOrder ? whole.copy() : undefined
          const own = createHash('sha256')
          for (const d of data) {
            own.update(d)
            next?.update(d)
          }
          if (
            frame.length !== chunkLength(offer, i) ||
            !equalBytes(new Uint8Array(own.digest()), chunkHash(offer, i))
          ) {
            const count = (bad.get(i) ?? 0) + 1
            bad.set(i, count)
            ctx.log.warn(`chunk ${i} of ${offer.name} from ${offer.from} does not match its hash`)
            if (count > ctx.maxBadChunks)
              throw new SessionStop(
                'too_many_bad_chunks',
                `chunk ${i} arrived corrupt ${count} times`,
              )
            await fs.write(encodeFileFrame({ t: 'nack', i }))
            continue
          }
          await part.write(data, i * offer.chunkSize)
          setBit(have, i)
          if (next != null) inOrder++
          whole = next
          if (++unsaved >= SAVE_EVERY_CHUNKS || Date.now() - savedAt > SAVE_EVERY_MS) saveBeside()
        }
        await fs.write(encodeFileFrame({ t: 'ack', i }))
      } else if (frame.t === 'done') {
        await save()
        for (let i = 0; i < n; i++)
          if (!hasBit(have, i)) throw new SessionStop('protocol', `done with chunk ${i} missing`)
        await part.close()
        const digest = whole != null && inOrder === n ? new Uint8Array(whole.digest()) : undefined
        await finish(ctx, offer, id, part.path, have, digest)
        await fs.write(encodeFileFrame({ t: 'complete' }))
        return
      } else if (frame.t === 'stop') {
        await save()
        const cancelled = frame.code === 'cancelled'
        await ctx.store.updateIn(
          id,
          (cur) =>
            cur && {
              ...cur,
              status: cancelled ? 'cancelled' : 'interrupted',
              note: `${offer.from} ${cancelled ? 'cancelled' : 'paused'} it: ${frame.message}`,
            },
        )
        if (cancelled) await removePart(start.partPath)
        ctx.onChange(id)
        return
      } else {
        throw new SessionStop('protocol', `unexpected ${frame.t} frame`)
      }
    }
  } catch (err) {
    // A save beside the stream lands first, so the one below (newer) is the one kept.
    await saving
    throw await stopped(ctx, id, have, endedBy ?? stopFor(err), part)
  } finally {
    await part.close()
    ctx.unregister(id)
  }
}

/** Keep what was verified, note why it stopped; the returned stop is sent to the sender. */
async function stopped(
  ctx: ReceiveContext,
  id: string,
  have: Uint8Array,
  stop: SessionStop,
  part?: PartFile,
): Promise<SessionStop> {
  await part?.sync().catch(() => {})
  const note =
    stop.code === 'disk_full'
      ? `${stop.message}; the partial file is kept and the transfer resumes when there is room`
      : stop.message
  await ctx.store
    .updateIn(id, (cur) => {
      if (cur == null) return undefined
      if (cur.status === 'receiving')
        return { ...cur, have: toB64(have), status: 'interrupted', note }
      // A pause from the API set its own state; keep what was verified.
      if (cur.status === 'paused' || cur.status === 'interrupted')
        return { ...cur, have: toB64(have) }
      // A failed whole-file check reset the bitmap; a cancel removed the file.
      return cur
    })
    .catch((err: unknown) => ctx.log.warn(`could not save transfer ${id}: ${String(err)}`))
  ctx.onChange(id)
  return stop
}

/** Hash the whole partial file; on a match move it into place, else discard it. */
export async function finish(
  ctx: ReceiveContext,
  offer: FileOffer,
  id: string,
  partPath: string,
  have: Uint8Array,
  /** The whole file's hash computed as it arrived; absent: read the file again. */
  arrived?: Uint8Array,
): Promise<void> {
  const digest = arrived ?? (await hashFile(partPath))
  if (!equalBytes(digest, offer.sha256)) {
    // Every chunk matched its hash but the whole does not: the offer itself lies.
    have.fill(0)
    await removePart(partPath)
    await ctx.store.updateIn(
      id,
      (cur) =>
        cur && {
          ...cur,
          status: 'failed',
          have: toB64(have),
          note: 'the whole file did not match its SHA-256; it was discarded',
        },
    )
    ctx.onChange(id)
    throw new SessionStop('hash_mismatch', 'the whole file does not match its SHA-256')
  }
  const path = await moveIntoPlace(partPath, dirOf(partPath), safeFileName(offer.name))
  await ctx.store.updateIn(
    id,
    (cur) =>
      cur && {
        ...cur,
        status: 'complete',
        path,
        note: null,
        receivedAt: Date.now(),
      },
  )
  ctx.onChange(id)
  ctx.log.info(`received ${path} (${offer.size} bytes) from ${offer.from}, SHA-256 verified`)
}

function decodeOrStop(raw: Uint8Array[]): ReceivedFrame {
  try {
    return decodeFileFrameParts(raw)
  } catch (err) {
    throw new SessionStop('protocol', (err as Error).message)
  }
}

export function stopFor(err: unknown): SessionStop {
  if (err instanceof SessionStop) return err
  if (err instanceof DiskFullError) return new SessionStop('disk_full', err.message)
  if (err instanceof Error && err.name === 'PartFileError')
    return new SessionStop('io_error', err.message)
  return new SessionStop('protocol', err instanceof Error ? err.message : String(err))
}
