/**
 * Sends sync events to the account's other devices. Events queue for a
 * moment (so a burst becomes one batch), then each target device gets them
 * sealed (sync-wire.ts), straight over the overlay when it answers, else as
 * mail to the account's own mailbox addressed to that device (the device
 * collects it when it returns; other devices leave it there). Events that
 * neither path took stay queued for the next flush: nothing is dropped
 * while the node runs.
 */
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { encode } from 'cborg'
import type { Logger } from '../../shared/logger.js'
import type { MailPlaintext } from '../../shared/mail/sealed-mail.js'
import type { ContactRecord } from '../../shared/records/contact-record.js'
import { peerIdFromBytes } from '../../shared/records/contact-record.js'
import { SYNC_CONTENT_TYPE, sealSyncBatch } from '../../shared/sync/sync-wire.js'
import type { SyncEvent } from '../../shared/sync/sync-wire.js'
import type { KaiwaLibp2p } from '../node/libp2p-factory.js'
import { pushSyncBatch } from './sync-protocol.js'

/** Plaintext budget of one batch, well under MAX_SYNC_BATCH_BYTES once sealed. */
const BATCH_BUDGET = 32 * 1024
const FLUSH_DELAY_MS = 150

export interface SyncOutboxInit {
  node: () => KaiwaLibp2p
  readonly accountKey: Ed25519PrivateKey
  ownName: () => Promise<string | null>
  /** The account's own record (its devices' addresses; the mailbox to seal to). */
  ownRecord: () => Promise<ContactRecord | undefined>
  /** Open (or reuse) a connection to a device, as SIP links do (direct or relayed). */
  linkTo: (peer: string, addrs: ReturnType<typeof multiaddr>[]) => Promise<unknown>
  storeMail: (recipient: ContactRecord, plaintext: MailPlaintext) => Promise<boolean>
  domain: string
  log: Logger
}

/** Split events into batches whose CBOR stays under the budget. */
export function chunkEvents(events: SyncEvent[], budget = BATCH_BUDGET): SyncEvent[][] {
  const out: SyncEvent[][] = []
  let cur: SyncEvent[] = []
  let size = 0
  for (const e of events) {
    const n = encode(e).byteLength
    if (cur.length > 0 && size + n > budget) {
      out.push(cur)
      cur = []
      size = 0
    }
    cur.push(e)
    size += n
  }
  // An empty batch still goes: it is a greeting (the receiver learns this device).
  if (cur.length > 0 || out.length === 0) out.push(cur)
  return out
}

export class SyncOutbox {
  private readonly queues = new Map<string, SyncEvent[]>()
  private timer: ReturnType<typeof setTimeout> | undefined
  private flushing: Promise<void> | undefined

  constructor(private readonly init: SyncOutboxInit) {}

  /** Queue `events` for each of `targets` (peer id strings); sent shortly. */
  enqueue(targets: string[], events: SyncEvent[]): void {
    if (events.length === 0) return
    for (const t of targets) this.queues.set(t, [...(this.queues.get(t) ?? []), ...events])
    this.schedule()
  }

  /** Queue `events` for `target` even when there are none: a greeting to a new device. */
  greet(target: string, events: SyncEvent[]): void {
    this.queues.set(target, [...(this.queues.get(target) ?? []), ...events])
    this.schedule()
  }

  /** Send everything queued now (and wait for it). */
  async flush(): Promise<void> {
    while (this.flushing != null) await this.flushing
    this.flushing = this.sendAll().finally(() => (this.flushing = undefined))
    await this.flushing
  }

  pending(): number {
    let n = 0
    for (const q of this.queues.values()) n += q.length
    return n
  }

  stop(): void {
    if (this.timer != null) clearTimeout(this.timer)
    this.timer = undefined
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined
      void this.flush().catch((err) => this.init.log.warn(`sync: ${String(err)}`))
    }, FLUSH_DELAY_MS)
  }

  private async sendAll(): Promise<void> {
    const queues = [...this.queues]
    this.queues.clear()
    if (queues.length === 0) return
    const record = await this.init.ownRecord().catch(() => undefined)
    await Promise.all(
      queues.map(async ([target, events]) => {
        const left = await this.sendTo(target, events, record)
        if (left.length > 0) this.queues.set(target, [...left, ...(this.queues.get(target) ?? [])])
      }),
    )
  }

  /** Returns the events neither path took. */
  private async sendTo(
    target: string,
    events: SyncEvent[],
    record: ContactRecord | undefined,
  ): Promise<SyncEvent[]> {
    const node = this.init.node()
    const listed = record?.devices.find((d) => {
      try {
        return peerIdFromBytes(d.peerId).toString() === target
      } catch {
        return false
      }
    })
    const chunks = chunkEvents(events)
    let live = listed != null && listed.expiresAt > Date.now()
    const left: SyncEvent[] = []
    for (const chunk of chunks) {
      const batch = await sealSyncBatch({
        accountKey: this.init.accountKey,
        from: node.peerId.toMultihash().bytes,
        to: peerIdFromString(target).toMultihash().bytes,
        events: chunk,
      })
      if (live) {
        try {
          await this.init.linkTo(
            target,
            listed!.addrs.map((a) => multiaddr(a)),
          )
          await pushSyncBatch(node, peerIdFromString(target), batch)
          continue
        } catch (err) {
          this.init.log.debug(`sync to ${target} directly failed: ${String(err)}`)
          if (err instanceof Error && err.name === 'SyncRefusedError') continue // never retried
          live = false // the rest go by mail
        }
      }
      if (await this.byMail(batch, record))
        this.init.log.info(`sync: ${chunk.length} event(s) for ${target} left in the mailbox`)
      else left.push(...chunk)
    }
    if (left.length > 0) this.init.log.info(`sync: ${left.length} event(s) for ${target} wait`)
    return left
  }

  private async byMail(batch: Uint8Array, record: ContactRecord | undefined): Promise<boolean> {
    const name = await this.init.ownName()
    if (name == null || record == null) return false
    return this.init
      .storeMail(record, {
        from: name,
        fromUri: `sip:${name}@${this.init.domain}`,
        date: new Date().toUTCString(),
        contentType: SYNC_CONTENT_TYPE,
        body: batch,
      })
      .catch(() => false)
  }
}
