/**
 * Files offered to this node. An offer is checked before anything else
 * happens (receive-session.ts then moves the bytes):
 *
 *   relayed connection ─▶ refuse `relayed` (circuit limits are for signalling)
 *   bad CBOR, bad signature, not for this user ─▶ refuse
 *   sender's key not its record's, or not from one of its devices ─▶ `unauthenticated`
 *   another key than the pinned one ─▶ `key_mismatch`
 *   larger than Settings allow ─▶ `too_large`
 *   known transfer ─▶ resume from its verified chunks (or `wait`, or `complete`)
 *   new: a pinned contact under the auto-accept size ─▶ accept; else `wait`
 *
 * The user's answers (accept, decline, pause, resume, cancel) change the
 * stored entry; accept and resume also tell the sender to offer again now.
 */
import type { FileSettings } from '../../shared/api/contract.js'
import type { Logger } from '../../shared/logger.js'
import {
  chunkCount,
  decodeFileOffer,
  offerIdHex,
  verifyFileOffer,
} from '../../shared/files/file-offer.js'
import type { FileOffer } from '../../shared/files/file-offer.js'
import { emptyBitmap, encodeFileFrame } from '../../shared/files/file-wire.js'
import type { RefusalCode, StopCode } from '../../shared/files/file-wire.js'
import { NotFoundError, ConflictError } from '../../shared/errors.js'
import type { FileStore, StoredIncomingFile } from './file-store.js'
import { fromB64, mib, toB64 } from './file-util.js'
import type { FrameStream } from './frame-stream.js'
import { partPathFor, removePart } from './part-file.js'
import { SessionStop, receiveSession } from './receive-session.js'

export type SenderCheck =
  { ok: true; verification: 'verified' | 'new' } | { ok: false; code: RefusalCode; message: string }

export interface IncomingFilesInit {
  store: FileStore
  settings: () => Promise<FileSettings>
  ownName: () => Promise<string | null>
  /** Is the offer from who it names, and (when `peer` is given) from one of its devices? */
  checkSender: (offer: FileOffer, peer: string | undefined) => Promise<SenderCheck>
  /** Ask the sender to offer the transfer again now (after an accept or a resume here). */
  nudge: (entry: StoredIncomingFile) => Promise<void>
  onChange: (id: string) => void
  log: Logger
  /** Corrupt copies of one chunk tolerated before the transfer is stopped. @default 3 */
  maxBadChunks?: number
}

const MiB = 1024 * 1024

/** An offer refused before any byte moved. */
export class OfferRefused extends Error {
  constructor(
    readonly code: RefusalCode,
    message: string,
  ) {
    super(message)
    this.name = 'OfferRefused'
  }
}

export interface AdmittedOffer {
  offer: FileOffer
  verification: 'verified' | 'new'
}

export class IncomingFiles {
  private readonly active = new Map<string, (code: StopCode, message: string) => void>()
  /** Each running session's save of its verified-chunk bitmap. */
  private readonly savers = new Map<string, () => Promise<void>>()

  constructor(private readonly init: IncomingFilesInit) {}

  /** An `offer` frame arrived on `fs` from `peer`: answer it and run the transfer. */
  async receive(
    fs: FrameStream,
    offerBytes: Uint8Array,
    peer: string,
    relayed: boolean,
  ): Promise<void> {
    try {
      if (relayed)
        throw new OfferRefused(
          'relayed',
          'files never go over a relayed connection; use a direct one',
        )
      const admitted = await this.admit(offerBytes, peer)
      const entry = await this.entryFor(admitted, offerBytes, peer, 'direct')
      const { status } = entry
      if (status === 'complete') return await fs.write(encodeFileFrame({ t: 'complete' }))
      if (status === 'declined')
        throw new OfferRefused('declined', `${entry.from}'s file was declined`)
      if (status === 'cancelled') throw new OfferRefused('cancelled', 'the receiver cancelled it')
      if (status === 'offered' || status === 'paused')
        return await fs.write(encodeFileFrame({ t: 'wait' }))
      // A session still running for it is a stale one (its connection died quietly).
      this.active.get(entry.id)?.('protocol', 'a newer session took over')
      await receiveSession(
        {
          store: this.init.store,
          log: this.init.log,
          maxBadChunks: this.init.maxBadChunks ?? 3,
          onChange: this.init.onChange,
          register: (id, end, save) => {
            this.active.set(id, end)
            this.savers.set(id, save)
          },
          unregister: (id) => {
            this.active.delete(id)
            this.savers.delete(id)
          },
        },
        fs,
        admitted.offer,
        entry,
      )
    } catch (err) {
      if (err instanceof OfferRefused) {
        this.init.log.info(`file offer from ${peer} refused: ${err.message}`)
        await fs
          .write(encodeFileFrame({ t: 'refuse', code: err.code, message: err.message }))
          .catch(() => {})
        return
      }
      if (err instanceof SessionStop) {
        this.init.log.info(`file transfer from ${peer} stopped: ${err.message}`)
        await fs
          .write(encodeFileFrame({ t: 'stop', code: err.code, message: err.message }))
          .catch(() => {})
        return
      }
      throw err
    }
  }

  /** Decode, verify and check the sender of an offer; throws OfferRefused. */
  async admit(offerBytes: Uint8Array, peer: string | undefined): Promise<AdmittedOffer> {
    let offer: FileOffer
    try {
      offer = decodeFileOffer(offerBytes)
    } catch (err) {
      throw new OfferRefused('bad_offer', (err as Error).message)
    }
    if (!(await verifyFileOffer(offer)))
      throw new OfferRefused('unauthenticated', 'the offer is not signed by the key it names')
    const own = await this.init.ownName()
    if (own == null || offer.to !== own)
      throw new OfferRefused('not_for_me', `this node is ${own ?? 'unclaimed'}, not ${offer.to}`)
    const check = await this.init.checkSender(offer, peer)
    if (!check.ok) throw new OfferRefused(check.code, check.message)
    const { maxMiB } = await this.init.settings()
    if (offer.size > maxMiB * MiB)
      throw new OfferRefused(
        'too_large',
        `${offer.name} is ${mib(offer.size)} MiB; ${offer.to} accepts files up to ${maxMiB} MiB`,
      )
    return { offer, verification: check.verification }
  }

  /** The stored entry of an admitted offer; made, and the accept decided, on first sight. */
  async entryFor(
    { offer, verification }: AdmittedOffer,
    offerBytes: Uint8Array,
    peer: string | null,
    via: 'direct' | 'mailbox',
  ): Promise<StoredIncomingFile> {
    const id = offerIdHex(offer.id)
    const settings = await this.init.settings()
    const auto = verification === 'verified' && offer.size <= settings.autoAcceptMiB * MiB
    const entry = await this.init.store.updateIn(id, (cur) => {
      if (cur != null) return { ...cur, peer: peer ?? cur.peer }
      return {
        id,
        from: offer.from,
        peer,
        offer: toB64(offerBytes),
        status: auto ? 'interrupted' : 'offered',
        have: toB64(emptyBitmap(chunkCount(offer.size, offer.chunkSize))),
        mailParts: null,
        partPath: partPathFor(settings.receiveDir, id),
        path: null,
        verification,
        via,
        note: auto
          ? null
          : `${offer.from} offers ${offer.name} (${mib(offer.size)} MiB): accept or decline`,
        createdAt: Date.now(),
        receivedAt: null,
      }
    })
    if (!auto && entry?.createdAt != null) this.init.log.info(entry.note ?? `offer ${id}`)
    this.init.onChange(id)
    return entry!
  }

  /** The user accepts an offered file (or resumes a paused one): the sender is asked to go on. */
  async accept(id: string): Promise<StoredIncomingFile> {
    const entry = await this.change(id, ['offered', 'paused', 'interrupted'], (cur) => ({
      ...cur,
      status: 'interrupted',
      note: `accepted; waiting for ${cur.from}'s node to send it`,
    }))
    await this.init
      .nudge(entry)
      .catch((err: unknown) =>
        this.init.log.debug(`could not tell ${entry.from} to go on: ${String(err)}`),
      )
    return entry
  }

  async decline(id: string): Promise<StoredIncomingFile> {
    const entry = await this.change(id, ['offered'], (cur) => ({
      ...cur,
      status: 'declined',
      note: 'declined',
    }))
    await removePart(entry.partPath)
    // Ask the sender to offer again now: the offer is refused as declined, so it learns at once.
    void this.init.nudge(entry).catch(() => {})
    return entry
  }

  /**
   * Save every running session's bitmap of verified chunks, as the node shuts
   * down: libp2p then ends the sessions, and their own last save can come
   * after the store has closed, so a restart would resume from an older one.
   */
  async saveAll(): Promise<void> {
    const saves = [...this.savers.values()].map((save) => save())
    const failed = (await Promise.allSettled(saves)).filter((r) => r.status === 'rejected')
    for (const f of failed) this.init.log.warn(`could not save a transfer: ${String(f.reason)}`)
  }

  async pause(id: string): Promise<StoredIncomingFile> {
    const entry = await this.change(id, ['receiving', 'interrupted'], (cur) => ({
      ...cur,
      status: 'paused',
      note: 'paused here; the partial file is kept',
    }))
    this.active.get(id)?.('paused', 'the receiver paused it')
    return entry
  }

  async cancel(id: string): Promise<StoredIncomingFile> {
    const entry = await this.change(
      id,
      ['offered', 'receiving', 'interrupted', 'paused'],
      (cur) => ({
        ...cur,
        status: 'cancelled',
        note: 'cancelled here',
      }),
    )
    this.active.get(id)?.('cancelled', 'the receiver cancelled it')
    await removePart(entry.partPath)
    return entry
  }

  /** Unfinished accepted transfers: ask their senders to go on (at start-up). */
  async resumeAll(): Promise<void> {
    for (const e of await this.init.store.listIn()) {
      if (e.status !== 'interrupted' && e.status !== 'receiving') continue
      if (e.status === 'receiving')
        await this.init.store.updateIn(e.id, (cur) => cur && { ...cur, status: 'interrupted' })
      void this.init.nudge(e).catch(() => {})
    }
  }

  /** The offer of a stored entry. */
  offerOf(entry: StoredIncomingFile): FileOffer {
    return decodeFileOffer(fromB64(entry.offer))
  }

  private async change(
    id: string,
    from: ReadonlyArray<StoredIncomingFile['status']>,
    to: (cur: StoredIncomingFile) => StoredIncomingFile,
  ): Promise<StoredIncomingFile> {
    let found: StoredIncomingFile | undefined
    const next = await this.init.store.updateIn(id, (cur) => {
      found = cur
      return cur != null && from.includes(cur.status) ? to(cur) : undefined
    })
    if (found == null) throw new NotFoundError(`no incoming file ${id}`)
    if (next == null) throw new ConflictError(`incoming file ${id} is ${found.status}`)
    this.init.onChange(id)
    return next
  }
}
