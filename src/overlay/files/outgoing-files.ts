/**
 * Files this node sends. `send` hashes and signs the offer, keeps it, and
 * tries at once; a transfer that cannot go now is kept and tried again
 * (every `retryMs`, when the receiver says `ready`, and at start-up), always
 * as the same signed offer, so the receiver resumes from its verified chunks.
 *
 * Bulk data goes only over a direct connection (TCP or WebRTC) or, when none
 * can be made, WebRTC through a supernode's TURN relay (file-protocol.ts);
 * never over a circuit relay (its limits are for signalling). When neither
 * carries it, a small file (MAILBOX_FILE_BYTES) goes sealed to the
 * recipient's mailbox like offline mail, and a larger one waits, saying why.
 */
import type { Ed25519PrivateKey } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from '../../shared/logger.js'
import { ConflictError, NotFoundError } from '../../shared/errors.js'
import {
  chunkCount,
  decodeFileOffer,
  encodeFileOffer,
  offerIdHex,
} from '../../shared/files/file-offer.js'
import type { FileOffer } from '../../shared/files/file-offer.js'
import { encodeFileFrame } from '../../shared/files/file-wire.js'
import type { FileStore, StoredOutgoingFile } from './file-store.js'
import { fromB64, mib, toB64 } from './file-util.js'
import type { FrameStream } from './frame-stream.js'
import { prepareOffer } from './prepare-offer.js'
import { sendSession } from './send-session.js'
import type { SendOutcome } from './send-session.js'

/** Files up to this size go to the mailbox when the recipient cannot be reached directly. */
export const MAILBOX_FILE_BYTES = 256 * 1024

/**
 * How a transfer can go: a stream (directly, or through a supernode's TURN),
 * or how far the peer can be reached and, where TURN was considered, why it
 * did not carry the file ('none': no supernode offers TURN; 'failed': it
 * refused or could not connect the two).
 */
export type DirectPath =
  | { ok: true; fs: FrameStream; via?: 'direct' | 'turn' }
  | { ok: false; reach: 'relay' | 'none'; turn?: 'none' | 'failed' }

export interface OutgoingFilesInit {
  store: FileStore
  readonly accountKey: Ed25519PrivateKey
  ownName: () => Promise<string | null>
  /** Live devices of a user; null when there is no such user. */
  devices: (name: string) => Promise<Array<{ peer: string; addrs: Multiaddr[] }> | null>
  /** A stream to `peer` on a direct connection, or how far it can be reached. */
  openDirect: (peer: string, addrs: Multiaddr[], signal: AbortSignal) => Promise<DirectPath>
  /** Seal the file into the recipient's mailbox; true when a supernode kept it. */
  mail: (offer: FileOffer, offerBytes: Uint8Array, path: string) => Promise<boolean>
  onChange: (id: string) => void
  log: Logger
  /** How often waiting transfers are tried again. @default 15000 */
  retryMs?: number
}

/** What the API shows of a transfer in progress (kept in memory only). */
export interface SendStats {
  resumedFrom: number
  sessionBytes: number
  ackedBytes: number
  samples: Array<[number, number]>
}

const FINAL = new Set<StoredOutgoingFile['status']>([
  'complete',
  'mailed',
  'declined',
  'failed',
  'cancelled',
])

export class OutgoingFiles {
  private readonly running = new Map<string, AbortController>()
  readonly stats = new Map<string, SendStats>()
  private timer: ReturnType<typeof setInterval> | undefined

  constructor(private readonly init: OutgoingFilesInit) {}

  start(): void {
    this.timer ??= setInterval(() => void this.retryAll(), this.init.retryMs ?? 15_000)
    this.timer.unref?.()
    void this.retryAll()
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
    for (const c of this.running.values()) c.abort(new Error('the node is stopping'))
  }

  /** Hash, sign and keep the offer; then try to send it (in the background). */
  async send(to: string, path: string): Promise<StoredOutgoingFile> {
    const from = await this.init.ownName()
    if (from == null) throw new NotFoundError('claim a user ID first: kaiwa claim NAME')
    const offer = await prepareOffer({ from, to, path, accountKey: this.init.accountKey })
    const id = offerIdHex(offer.id)
    const now = Date.now()
    const entry = await this.init.store.updateOut(id, () => ({
      id,
      to,
      path,
      offer: toB64(encodeFileOffer(offer)),
      status: 'offering',
      ackedChunks: 0,
      note: null,
      createdAt: now,
      updatedAt: now,
    }))
    void this.attempt(id)
    return entry!
  }

  /** The receiver asked for `id` again (it accepted or resumed). */
  nudged(id: string): void {
    void this.attempt(id, true)
  }

  async retryAll(): Promise<void> {
    for (const e of await this.init.store.listOut().catch(() => [])) {
      if (!FINAL.has(e.status) && e.status !== 'paused') void this.attempt(e.id)
    }
  }

  async pause(id: string): Promise<StoredOutgoingFile> {
    const e = await this.change(id, (s) => !FINAL.has(s), { status: 'paused', note: 'paused here' })
    this.running.get(id)?.abort(new Error('paused'))
    return e
  }

  async resume(id: string): Promise<StoredOutgoingFile> {
    const e = await this.change(id, (s) => s === 'paused' || s === 'queued' || s === 'awaiting', {
      status: 'queued',
      note: null,
    })
    void this.attempt(id, true)
    return e
  }

  async cancel(id: string): Promise<StoredOutgoingFile> {
    const e = await this.change(id, (s) => !FINAL.has(s), {
      status: 'cancelled',
      note: 'cancelled here',
    })
    this.running.get(id)?.abort(new Error('cancelled'))
    return e
  }

  private async change(
    id: string,
    allowed: (s: StoredOutgoingFile['status']) => boolean,
    patch: Partial<StoredOutgoingFile>,
  ): Promise<StoredOutgoingFile> {
    let found: StoredOutgoingFile | undefined
    const next = await this.init.store.updateOut(id, (cur) => {
      found = cur
      return cur != null && allowed(cur.status)
        ? { ...cur, ...patch, updatedAt: Date.now() }
        : undefined
    })
    if (found == null) throw new NotFoundError(`no outgoing file ${id}`)
    if (next == null) throw new ConflictError(`outgoing file ${id} is ${found.status}`)
    this.init.onChange(id)
    return next
  }

  private async set(id: string, patch: Partial<StoredOutgoingFile>): Promise<void> {
    await this.init.store.updateOut(id, (cur) => {
      // A pause or cancel from the API wins over what a session reports.
      if (cur == null || cur.status === 'paused' || cur.status === 'cancelled') return undefined
      return { ...cur, ...patch, updatedAt: Date.now() }
    })
    this.init.onChange(id)
  }

  /** One try at delivering `id`: direct to a device, else the mailbox or the queue. */
  private async attempt(id: string, force = false): Promise<void> {
    if (this.running.has(id)) return
    const ctl = new AbortController()
    this.running.set(id, ctl)
    try {
      const entry = await this.init.store.getOut(id)
      if (entry == null || FINAL.has(entry.status) || entry.status === 'paused') return
      if (entry.status === 'awaiting' && !force && Date.now() - entry.updatedAt < 60_000) return
      const offerBytes = fromB64(entry.offer)
      const offer = decodeFileOffer(offerBytes)
      await this.set(id, { status: entry.status === 'queued' ? 'offering' : entry.status })
      const devices = (await this.init.devices(entry.to).catch(() => [])) ?? []
      let reach: 'relay' | 'none' = 'none'
      let turn: 'none' | 'failed' | undefined
      for (const d of devices) {
        const path = await this.init.openDirect(d.peer, d.addrs, ctl.signal)
        if (!path.ok) {
          if (path.reach === 'relay') reach = 'relay'
          if (path.turn != null && turn !== 'failed') turn = path.turn
          continue
        }
        await this.run(entry, offer, offerBytes, path.fs, ctl.signal, path.via)
        return
      }
      await this.noDirectPath(entry, offer, offerBytes, reach, turn)
    } catch (err) {
      const why = ctl.signal.aborted
        ? String(ctl.signal.reason?.message ?? 'stopped')
        : String((err as Error).message ?? err)
      this.init.log.info(`file ${id}: ${why}`)
      await this.set(id, {
        status: err instanceof Error && err.name === 'FileChangedError' ? 'failed' : 'queued',
        note: why,
      }).catch(() => {})
    } finally {
      this.running.delete(id)
    }
  }

  private async run(
    entry: StoredOutgoingFile,
    offer: FileOffer,
    offerBytes: Uint8Array,
    fs: FrameStream,
    signal: AbortSignal,
    via?: 'direct' | 'turn',
  ): Promise<void> {
    const id = entry.id
    const stats: SendStats = { resumedFrom: 0, sessionBytes: 0, ackedBytes: 0, samples: [] }
    this.stats.set(id, stats)
    await this.set(id, {
      status: 'sending',
      note:
        via === 'turn'
          ? `no direct link to ${entry.to}: sending through a supernode's TURN relay`
          : null,
    })
    let acked = 0
    let outcome: SendOutcome
    const onAbort = (): void => {
      const code = String(signal.reason?.message) === 'cancelled' ? 'cancelled' : 'paused'
      void fs
        .write(encodeFileFrame({ t: 'stop', code, message: `the sender ${code} it` }))
        .finally(() => fs.stream.abort(new Error(code)))
    }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      outcome = await sendSession(
        fs,
        offer,
        offerBytes,
        entry.path,
        {
          resumedFrom: (b) => {
            stats.resumedFrom = b
            stats.ackedBytes = b
            acked = Math.ceil(b / offer.chunkSize)
          },
          sent: (b) => (stats.sessionBytes += b),
          acked: (_i, b) => {
            stats.ackedBytes += b
            acked++
            stats.samples.push([Date.now(), stats.ackedBytes])
            if (stats.samples.length > 64) stats.samples.shift()
            if (acked % 16 === 0) void this.set(id, { ackedChunks: acked })
          },
        },
        signal,
      )
    } catch (err) {
      const pct = offer.size === 0 ? 100 : Math.floor((100 * stats.ackedBytes) / offer.size)
      throw new Error(
        `the connection to ${entry.to} dropped at ${pct} % (${String((err as Error).message ?? err)}); ` +
          'it resumes from the last verified chunk when both are online',
        { cause: err },
      )
    } finally {
      signal.removeEventListener('abort', onAbort)
      await fs.stream.close().catch(() => fs.stream.abort(new Error('closed')))
    }
    const n = chunkCount(offer.size, offer.chunkSize)
    if (outcome.kind === 'complete') {
      stats.ackedBytes = offer.size
      await this.set(id, {
        status: 'complete',
        ackedChunks: n,
        note: `${entry.to} has the file (SHA-256 verified)`,
      })
      this.init.log.info(`sent ${offer.name} to ${entry.to} (${offer.size} bytes)`)
    } else if (outcome.kind === 'wait') {
      await this.set(id, {
        status: 'awaiting',
        note: `waiting for ${entry.to} to accept ${offer.name}; it is sent when they do`,
      })
    } else if (outcome.kind === 'refused') {
      const retry = outcome.code === 'relayed' || outcome.code === 'busy'
      const status = outcome.code === 'declined' ? 'declined' : retry ? 'queued' : 'failed'
      await this.set(id, { status, note: `${entry.to} refused it: ${outcome.message}` })
    } else {
      const final =
        outcome.code === 'cancelled' ||
        outcome.code === 'hash_mismatch' ||
        outcome.code === 'too_many_bad_chunks'
      await this.set(id, {
        status: final ? 'failed' : outcome.code === 'paused' ? 'awaiting' : 'queued',
        ackedChunks: acked,
        note: `${entry.to}'s node stopped it: ${outcome.message}`,
      })
    }
  }

  private async noDirectPath(
    entry: StoredOutgoingFile,
    offer: FileOffer,
    offerBytes: Uint8Array,
    reach: 'relay' | 'none',
    turn?: 'none' | 'failed',
  ): Promise<void> {
    const who = entry.to
    const mailed = offer.size <= MAILBOX_FILE_BYTES && entry.ackedChunks === 0
    if (mailed && (await this.init.mail(offer, offerBytes, entry.path).catch(() => false))) {
      await this.set(entry.id, {
        status: 'mailed',
        note: `${who} could not be reached directly; ${offer.name} was sealed to ${who}'s mailbox and arrives when ${who}'s node collects its mail`,
      })
      return
    }
    const size = `${offer.name} (${mib(offer.size)} MiB)`
    const note =
      reach !== 'relay'
        ? `${who} is offline; ${size} waits until both are online and is then sent automatically`
        : turn === 'none'
          ? `${who} can't be reached directly and no supernode offers a relay for files ` +
            `(the circuit relay carries signalling, not files); ${size} waits and is sent automatically when you are both on a direct link`
          : turn === 'failed'
            ? `${who} can't be reached directly and no supernode will relay ${size} ` +
              `(its TURN relay refused, is at its caps, or could not connect you); it waits and is sent automatically ` +
              `when you are both on a direct link or a relay has room`
            : `could not reach ${who} directly (only through a relay, which carries signalling, not files); ` +
              `${size} waits until a direct connection opens and is then sent automatically`
    await this.set(entry.id, { status: 'queued', note })
  }
}
