/**
 * File transfer for one node (issue 15 §1): what outlives a role change. It
 * keeps the transfers (file-store.ts), answers offers (incoming-files.ts),
 * sends files (outgoing-files.ts), and talks to the current libp2p instance's
 * `files` service (file-protocol.ts) for streams and to the mailbox for small
 * files to offline users (file-mail.ts).
 *
 * A sender is authenticated like a SIP request's (sender-identity.ts): the
 * offer is signed by an account key, that key must be the one the sender
 * name's record carries, the peer it came from must be one of that record's
 * devices, and a pinned contact's key must be the pinned one.
 */
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import type { Datastore } from 'interface-datastore'
import type { FileSettings } from '../../shared/api/contract.js'
import type { Logger } from '../../shared/logger.js'
import { decodeFileOffer, offerIdHex } from '../../shared/files/file-offer.js'
import type { FileOffer } from '../../shared/files/file-offer.js'
import { emptyBitmap, setBit } from '../../shared/files/file-wire.js'
import type { MailPlaintext } from '../../shared/mail/sealed-mail.js'
import type { ContactRecord } from '../../shared/records/contact-record.js'
import { fingerprint, peerIdFromBytes } from '../../shared/records/contact-record.js'
import type { LookupResult } from '../names/user-directory.js'
import type { KaiwaLibp2p } from '../node/libp2p-factory.js'
import { FileStore } from './file-store.js'
import type { StoredIncomingFile } from './file-store.js'
import { decodeFilePart, fileMails, partCount, PART_BYTES } from './file-mail.js'
import type { FileProtocol } from './file-protocol.js'
import { equalBytes, fromB64, toB64 } from './file-util.js'
import type { FrameStream } from './frame-stream.js'
import { IncomingFiles, OfferRefused } from './incoming-files.js'
import type { SenderCheck } from './incoming-files.js'
import { OutgoingFiles } from './outgoing-files.js'
import { PartFile } from './part-file.js'
import { finish } from './receive-session.js'
import { transferView } from './transfer-view.js'
import type { ReceivedFile, TransferView } from './transfer-view.js'

export interface FileTransfersInit {
  node: () => KaiwaLibp2p & { services: { files: FileProtocol } }
  datastore: Datastore
  readonly accountKey: Ed25519PrivateKey
  ownName: () => Promise<string | null>
  domain: string
  settings: () => Promise<FileSettings>
  lookup: (name: string, fresh?: boolean) => Promise<LookupResult | undefined>
  pinnedFingerprint: (name: string) => Promise<string | undefined>
  /** Seal and store one mail for `recipient` (OfflineMail.store). */
  storeMail: (recipient: ContactRecord, plaintext: MailPlaintext) => Promise<boolean>
  log: Logger
  /** @default 15000 */
  retryMs?: number
}

export class FileTransfers {
  readonly store: FileStore
  readonly incoming: IncomingFiles
  readonly outgoing: OutgoingFiles
  private readonly listeners = new Set<(id: string) => void>()

  constructor(private readonly init: FileTransfersInit) {
    const log = init.log
    this.store = new FileStore(init.datastore, { log })
    const onChange = (id: string): void => {
      for (const l of this.listeners) l(id)
    }
    this.incoming = new IncomingFiles({
      store: this.store,
      settings: init.settings,
      ownName: init.ownName,
      checkSender: (offer, peer) => this.checkSender(offer, peer),
      nudge: (entry) => this.nudge(entry),
      onChange,
      log,
    })
    this.outgoing = new OutgoingFiles({
      store: this.store,
      get accountKey() {
        return init.accountKey
      },
      ownName: init.ownName,
      devices: (name) => this.devices(name),
      openDirect: (peer, addrs, signal) => this.service().openDirect(peer, addrs, signal),
      mail: (offer, offerBytes, path) => this.mail(offer, offerBytes, path),
      onChange,
      log,
      ...(init.retryMs != null ? { retryMs: init.retryMs } : {}),
    })
  }

  private service(): FileProtocol {
    return this.init.node().services.files
  }

  /** Start sending what waits, and ask senders of unfinished files to go on. */
  start(): void {
    this.outgoing.start()
    void this.incoming.resumeAll().catch((err) => this.init.log.debug(String(err)))
  }

  /** Stop sending, and save what every receiving session has verified (before libp2p ends them). */
  async stop(): Promise<void> {
    this.outgoing.stop()
    await this.incoming.saveAll()
  }

  /** Called with a transfer's id whenever it changes (the API's events). */
  onChange(listener: (id: string) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** The `files` service's offer handler. */
  fromOffer(fs: FrameStream, offer: Uint8Array, peer: string, relayed: boolean): Promise<void> {
    return this.incoming.receive(fs, offer, peer, relayed)
  }

  /** The `files` service's ready handler. */
  fromReady(id: Uint8Array): void {
    this.outgoing.nudged(offerIdHex(id))
  }

  async send(to: string, path: string): Promise<TransferView> {
    const entry = await this.outgoing.send(to, path)
    return this.view(entry.id)
  }

  async list(): Promise<TransferView[]> {
    const out = await this.store.listOut()
    const ins = await this.store.listIn()
    const views = [
      ...out.map((e) => transferView({ out: e }, this.outgoing.stats.get(e.id))),
      ...ins.map((e) => transferView({ in: e })),
    ]
    return views.sort((a, b) => a.createdAt.localeCompare(b.createdAt))
  }

  async view(id: string): Promise<TransferView> {
    const out = await this.store.getOut(id)
    if (out != null) return transferView({ out }, this.outgoing.stats.get(id))
    const inc = await this.store.getIn(id)
    if (inc != null) return transferView({ in: inc })
    throw new OfferRefused('bad_offer', `no transfer ${id}`)
  }

  /** Received files whose whole SHA-256 matched, oldest first. */
  async received(): Promise<ReceivedFile[]> {
    const views = (await this.store.listIn()).filter(
      (e) => e.status === 'complete' && e.path != null,
    )
    return views
      .map((e) => {
        const offer = decodeFileOffer(fromB64(e.offer))
        return {
          id: e.id,
          sender: e.from,
          name: offer.name,
          size: offer.size,
          mime: offer.mime,
          sha256: Buffer.from(offer.sha256).toString('hex'),
          path: e.path!,
          time: new Date(e.receivedAt ?? e.createdAt).toISOString(),
          via: e.via,
        }
      })
      .sort((a, b) => a.time.localeCompare(b.time))
  }

  /** The user accepts (or resumes) an incoming file. */
  async accept(id: string): Promise<TransferView> {
    const entry = await this.store.getIn(id)
    if (entry?.via === 'mailbox' && entry.status === 'offered') {
      await this.store.updateIn(id, (cur) => cur && { ...cur, status: 'receiving' })
      await this.completeMailed(id)
      return this.view(id)
    }
    await this.incoming.accept(id)
    return this.view(id)
  }

  private async checkSender(offer: FileOffer, peer: string | undefined): Promise<SenderCheck> {
    const who = offer.from
    let found = await this.init.lookup(who).catch(() => undefined)
    const listed = (r: LookupResult | undefined): boolean =>
      peer == null || (r?.record.devices ?? []).some((d) => peerIdOf(d.peerId) === peer)
    const matches = (r: LookupResult | undefined): boolean =>
      r != null && equalBytes(r.record.publicKey, offer.senderKey) && listed(r)
    // A key or device added since the cached answer: ask the network once more.
    if (!matches(found)) found = await this.init.lookup(who, true).catch(() => found)
    if (found == null)
      return { ok: false, code: 'unauthenticated', message: `no user ${who} in the overlay` }
    if (!equalBytes(found.record.publicKey, offer.senderKey))
      return {
        ok: false,
        code: 'unauthenticated',
        message: `the offer is not signed by ${who}'s key`,
      }
    if (!listed(found))
      return { ok: false, code: 'unauthenticated', message: `${peer} is not a device of ${who}` }
    const pinned = await this.init.pinnedFingerprint(who)
    if (pinned == null || found.conflict != null) return { ok: true, verification: 'new' }
    if (pinned !== fingerprint(offer.senderKey))
      return {
        ok: false,
        code: 'key_mismatch',
        message: `${who}'s key is not the one pinned for ${who}`,
      }
    return { ok: true, verification: 'verified' }
  }

  private async devices(
    name: string,
  ): Promise<Array<{ peer: string; addrs: ReturnType<typeof multiaddr>[] }> | null> {
    const found = await this.init.lookup(name, true)
    if (found == null) return null
    const self = this.init.node().peerId.toString()
    const now = Date.now()
    return found.record.devices
      .filter((d) => d.expiresAt > now)
      .map((d) => ({ peer: peerIdOf(d.peerId) ?? '', addrs: d.addrs.map((a) => multiaddr(a)) }))
      .filter((d) => d.peer !== '' && d.peer !== self)
  }

  /** Tell the sender's device to offer again now (accepted here, or resumed after a restart). */
  private async nudge(entry: StoredIncomingFile): Promise<void> {
    const id = decodeFileOffer(fromB64(entry.offer)).id
    const devices = (await this.devices(entry.from).catch(() => null)) ?? []
    const first = devices.find((d) => d.peer === entry.peer)
    for (const d of first != null ? [first, ...devices.filter((x) => x !== first)] : devices) {
      if (
        await this.service()
          .ready(d.peer, d.addrs, id)
          .catch(() => false)
      )
        return
    }
  }

  private async mail(offer: FileOffer, offerBytes: Uint8Array, path: string): Promise<boolean> {
    const found = await this.init.lookup(offer.to)
    if (found == null) return false
    const mails = await fileMails(offer, offerBytes, path, `sip:${offer.from}@${this.init.domain}`)
    for (const m of mails) if (!(await this.init.storeMail(found.record, m))) return false
    return true
  }

  /**
   * A collected mail with a file part (sip-service.ts hands these over after
   * checking the mail's own signature). The offer inside is checked as a
   * direct one is; parts are written at their offsets until all are there.
   */
  async fromMail(from: string, body: Uint8Array): Promise<void> {
    const part = decodeFilePart(body)
    const admitted = await this.incoming.admit(part.offer, undefined)
    if (admitted.offer.from !== from)
      throw new OfferRefused(
        'unauthenticated',
        `a part from ${from} carries ${admitted.offer.from}'s offer`,
      )
    if (partCount(admitted.offer.size) !== part.count)
      throw new OfferRefused('bad_offer', 'the part count does not fit the size')
    const entry = await this.incoming.entryFor(admitted, part.offer, null, 'mailbox')
    if (entry.status === 'complete' || entry.status === 'declined' || entry.status === 'cancelled')
      return
    const pf = await PartFile.open(entry.partPath, dirOfPart(entry.partPath))
    try {
      await pf.write(part.data, part.index * PART_BYTES)
      await pf.sync()
    } finally {
      await pf.close()
    }
    const updated = await this.store.updateIn(entry.id, (cur) => {
      if (cur == null) return undefined
      const parts = cur.mailParts != null ? fromB64(cur.mailParts) : emptyBitmap(part.count)
      setBit(parts, part.index)
      return { ...cur, mailParts: toB64(parts) }
    })
    const parts = fromB64(updated!.mailParts!)
    for (let i = 0; i < part.count; i++) if (((parts[i >> 3] ?? 0) & (1 << (i & 7))) === 0) return
    if (updated!.status === 'interrupted') {
      await this.store.updateIn(entry.id, (cur) => cur && { ...cur, status: 'receiving' })
      await this.completeMailed(entry.id)
    }
  }

  /** Every part of a mailed file is on disk: check the hashes and move it into place. */
  private async completeMailed(id: string): Promise<void> {
    const entry = (await this.store.getIn(id))!
    const offer = decodeFileOffer(fromB64(entry.offer))
    const have = emptyBitmap(Math.ceil(offer.size / offer.chunkSize))
    for (let i = 0; i * offer.chunkSize < offer.size; i++) setBit(have, i)
    await finish(
      {
        store: this.store,
        log: this.init.log,
        maxBadChunks: 0,
        onChange: () => {},
        register: () => {},
        unregister: () => {},
      },
      offer,
      id,
      entry.partPath,
      have,
    )
    for (const l of this.listeners) l(id)
  }
}

function dirOfPart(path: string): string {
  return path.slice(0, path.lastIndexOf('/')) || '/'
}

function peerIdOf(bytes: Uint8Array): string | undefined {
  try {
    return peerIdFromBytes(bytes).toString()
  } catch {
    return undefined
  }
}
