/**
 * SIP for one node: the router, message history, offline mail and the local
 * SIP gateway for phones on this machine. It outlives role changes; the
 * signalling links it sends on are the `sipLinks` libp2p service of whichever
 * instance is current, and the supernode mailbox is a service of a
 * supernode's instance.
 *
 * Phones on the gateway keep their UDP registrations across restarts
 * (phone-registrations.ts) and are handed offline mail when they register
 * (phone-mail.ts); collected mail is always filed in the node's inbox too.
 */
import type { Ed25519PrivateKey } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'
import { OverlayTimeoutError } from '../../shared/errors.js'
import type { Logger } from '../../shared/logger.js'
import { buildRequest } from '../../shared/sip/request-builder.js'
import type { SipMessage, SipRequest, SipResponse } from '../../shared/sip/sip-message.js'
import { extractUri } from './local-registrar.js'
import type { MailboxStore } from '../mailbox/mailbox-store.js'
import { OfflineMail } from '../mailbox/offline-mail.js'
import type { MailPlaintext } from '../../shared/mail/sealed-mail.js'
import { FILE_MAIL_CONTENT_TYPE } from '../files/file-mail.js'
import type { KaiwaLibp2p } from '../node/libp2p-factory.js'
import { MessageHistory } from './message-history.js'
import { fileMessage, userOf } from './message-filing.js'
import type { StoredMessage } from './message-history.js'
import { SYNC_CONTENT_TYPE } from '../../shared/sync/sync-wire.js'
import type { SipLink, SipLinks } from './sip-links.js'
import { SipRouter } from './sip-router.js'
import { probeUser } from './node-options.js'
import { liveDevices } from './live-devices.js'
import type { MessageEvent, Resolution, ResolvedDevice } from './sip-router-types.js'
import type { ContactRecord } from '../../shared/records/contact-record.js'
import type { UserDirectory } from '../names/user-directory.js'
import type { SipGateway } from './gateway/sip-gateway.js'
import { Phones } from './phones.js'
import type { GatewayOptions } from './phones.js'
import type { PhoneMailItem } from './phone-mail.js'
import { ContactBook } from '../store/contact-book.js'
import { SenderIdentity } from './sender-identity.js'
import { IDENTITY_STATE_HEADER, formatState } from '../../shared/identity/verification-state.js'
import type { SenderState } from '../../shared/identity/verification-state.js'
import type { Role, SipGatewayStatus } from '../../shared/api/contract.js'
import { isGroupContentType } from '../../shared/groups/group-wire.js'

export type { GatewayOptions } from './phones.js'

export interface SipServiceInit {
  /** The current libp2p instance (it changes with the role). */
  node: () => KaiwaLibp2p
  role: () => Role
  directory: UserDirectory
  datastore: Datastore
  /** Offline mail this node keeps for others while it is a supernode. */
  mailboxStore: MailboxStore
  accountKey: Ed25519PrivateKey
  ownName: () => Promise<string | null>
  domain: string
  log: Logger
  /**
   * Where pinned contact keys are read, to tell a verified sender from a new
   * or changed key.
   *
   * @default a ContactBook on `datastore`
   */
  contacts?: Pick<ContactBook, 'get'>
  /**
   * Group chat (groups/group-inbound.ts): takes MESSAGEs with a group body
   * from links (after the sender is verified) and from the mailbox (after the
   * same sender check as any mail); they are never filed as one-to-one messages.
   */
  groups?: {
    fromLink(
      from: string,
      sender: SenderState,
      body: Uint8Array,
    ): Promise<{ status: number; reason: string }>
    fromMail(mail: Array<{ from: string; sender: SenderState; body: Uint8Array }>): Promise<void>
  }
  /**
   * Collected mail that carries a part of a file (file-mail.ts), after the
   * same sender check as any mail; it is not filed as a message.
   */
  onFileMail?: (from: string, body: Uint8Array) => Promise<void>
  /**
   * Account sync (sync/account-sync.ts): told of each message filed here;
   * given this account's own sync mail ('keep': it is for another device).
   */
  sync?: {
    filed(msg: StoredMessage, callId: string): void
    fromMail(body: Uint8Array): Promise<'keep' | 'done'>
  }
}

export class SipService {
  readonly router: SipRouter
  readonly history: MessageHistory
  readonly mailboxStore: MailboxStore
  private readonly offline: OfflineMail
  private collecting: Promise<void> | undefined
  /** A running collection may have fetched before the caller's mail was stored: one more after it. */
  private collectAgain: Promise<void> | undefined
  /** Signs what local UAs send and verifies what links bring (RFC 8224). */
  readonly identity: SenderIdentity
  /** The gateway and its phones' registrations and mail. */
  readonly phones: Phones

  constructor(private readonly init: SipServiceInit) {
    const log = init.log
    const contacts = init.contacts ?? new ContactBook(init.datastore)
    this.identity = new SenderIdentity({
      // A getter: restoring a backup replaces the account key at runtime.
      get accountKey() {
        return init.accountKey
      },
      ownName: init.ownName,
      lookup: (name, fresh) =>
        init.directory.lookup(name, { timeoutMs: 8000, ...(fresh === true ? { fresh } : {}) }),
      pinnedFingerprint: async (name) => (await contacts.get(name))?.fingerprint,
      log: log.child('identity'),
    })
    this.history = new MessageHistory(init.datastore, { log: log.child('history') })
    this.mailboxStore = init.mailboxStore
    this.offline = new OfflineMail({
      node: init.node,
      accountKey: init.accountKey,
      lookup: async (user) => (await init.directory.lookup(user))?.record,
      localStore: () => (init.role() === 'supernode' ? this.mailboxStore : undefined),
      log: log.child('offline'),
    })
    this.router = new SipRouter({
      selfPeer: () => init.node().peerId.toString(),
      domain: init.domain,
      ownName: init.ownName,
      resolve: (user) => this.resolve(user),
      // Every device of the (possibly cached) record failed to link: drop the
      // cached record and ask the network once more (issue 13).
      resolveFresh: (user) => this.resolveFresh(user),
      linkTo: (peer, addrs) => this.links().linkTo(peer, addrs),
      storeOffline: (req, user) => this.storeOffline(req, user),
      onMessage: (ev) => this.record(ev),
      onRegistered: () => void this.collectOfflineMail(),
      takeMessage: async (req, sender) =>
        init.groups != null && isGroupContentType(req.headers.get('content-type'))
          ? init.groups.fromLink(
              userOf(extractUri(req.headers.get('from') ?? '')),
              sender,
              req.body,
            )
          : undefined,
      identity: {
        sign: (req) => this.identity.sign(req),
        signOwn: (req) => this.identity.signOwn(req),
        verify: (req, peer) => this.identity.verify(req, peer),
      },
      log: log.child('router'),
    })
    this.phones = new Phones({
      router: this.router,
      datastore: init.datastore,
      ownName: init.ownName,
      domain: init.domain,
      log,
    })
  }

  /** What arrives on any signalling link (the `sipLinks` service's `onMessage`). */
  fromLink(msg: SipMessage, link: SipLink): void {
    void this.router.fromLink(msg, link).catch((e) => this.init.log.warn(String(e)))
  }

  private links(): SipLinks {
    return this.init.node().services.sipLinks
  }

  /**
   * Start the local SIP gateway (phones register as devices of this account).
   * It outlives role changes: it talks to the router, not to libp2p.
   * Throws SipGatewayError when the port is taken.
   */
  async startGateway(opts: GatewayOptions): Promise<SipGateway> {
    return this.phones.startGateway(opts)
  }

  stopGateway(): Promise<void> {
    return this.phones.stopGateway()
  }

  /** Where phones register and with which credentials; null when the gateway is off. */
  gatewayStatus(): Promise<SipGatewayStatus | null> {
    return this.phones.status()
  }

  /**
   * Warm the route to `user` before a request is sent (a call being set up):
   * look the record up and open links to its live devices, so the INVITE
   * that follows finds both cached, then probe them (not awaited) so their
   * nodes look us up meanwhile too. Returns how many devices were linked.
   */
  async prepare(user: string): Promise<number> {
    const res = await this.resolve(user)
    if (res.kind !== 'found') return 0
    let linked = await this.linkAll(res.devices)
    if (linked === 0 && res.devices.length > 0) {
      // No device answered: the record may be stale (the same second look as the router's).
      const again = await this.resolveFresh(user)
      linked = again.kind === 'found' ? await this.linkAll(again.devices) : 0
    }
    if (linked > 0) void this.probe(user)
    return linked
  }

  /** A signed OPTIONS to `user`'s devices, answered by their nodes once they verified us (node-options.ts). */
  async probe(user: string): Promise<SipResponse | undefined> {
    const name = await this.init.ownName()
    if (name == null) return undefined
    const to = { fromUser: name, toUser: user, domain: this.init.domain }
    return probeUser(this.router, to, this.init.node().peerId.toString())
  }

  private async linkAll(devices: ResolvedDevice[]): Promise<number> {
    const self = this.init.node().peerId.toString()
    const linked = await Promise.allSettled(
      devices.filter((d) => d.peer !== self).map((d) => this.links().linkTo(d.peer, d.addrs)),
    )
    return linked.filter((r) => r.status === 'fulfilled').length
  }

  /** The running gateway's address (127.0.0.1:PORT), if any. */
  gatewayAddress(): string | undefined {
    return this.phones.address()
  }

  /** `resolve` past the directory's cache and early stop, after dropping the cached record. */
  private resolveFresh(user: string): Promise<Resolution> {
    try {
      this.init.directory.invalidate(user)
    } catch {
      return Promise.resolve({ kind: 'unknown' }) // not a valid user ID
    }
    return this.resolve(user, true)
  }

  private async resolve(user: string, fresh = false): Promise<Resolution> {
    try {
      const found = await this.init.directory.lookup(user, {
        timeoutMs: 8000,
        ...(fresh ? { fresh } : {}),
      })
      if (found == null) return { kind: 'unknown' }
      return { kind: 'found', devices: liveDevices(found.record) }
    } catch (err) {
      if (err instanceof OverlayTimeoutError) return { kind: 'timeout' }
      if (err instanceof Error && err.name === 'InvalidUserIdError') return { kind: 'unknown' }
      throw err
    }
  }

  private async storeOffline(req: SipRequest, user: string): Promise<boolean> {
    // Offline mail is sealed and signed with the account key for our claimed
    // name; with no name there is nobody to send as (mailbox admission would
    // refuse it anyway).
    const from = await this.init.ownName()
    if (from == null) return false
    const found = await this.init.directory.lookup(user)
    if (found == null) return false
    return this.offline.store(found.record, {
      from,
      fromUri: extractUri(req.headers.get('from') ?? `sip:${from}@${this.init.domain}`),
      date: req.headers.get('date') ?? new Date().toUTCString(),
      contentType: req.headers.get('content-type') ?? 'text/plain',
      body: req.body,
    })
  }

  /** Seal `plaintext` to `recipient` and store it in its mailbox (files use this too). */
  storeMail(recipient: ContactRecord, plaintext: MailPlaintext): Promise<boolean> {
    return this.offline.store(recipient, plaintext)
  }

  /** Collect mail kept for us while offline, deliver it, then delete it (see collectAgain). */
  collectOfflineMail(): Promise<void> {
    if (this.collecting == null) {
      this.collecting = this.collect().finally(() => {
        this.collecting = undefined
      })
      return this.collecting
    }
    this.collectAgain ??= this.collecting
      .catch(() => {})
      .then(() => {
        this.collectAgain = undefined
        return this.collectOfflineMail()
      })
    return this.collectAgain
  }

  private async collect(): Promise<void> {
    const name = await this.init.ownName()
    if (name == null) return
    const { mail, ack } = await this.offline.collect()
    if (mail.length === 0) return
    const forPhones: PhoneMailItem[] = []
    const forGroups: Array<{ from: string; sender: SenderState; body: Uint8Array }> = []
    const keep = new Set<string>()
    for (const m of mail) {
      // The supernode admits only mail signed by the sender name's verified
      // key; this is the same check at delivery, against the record as this
      // node sees it now. Refused mail is acked below so it is not fetched
      // again, and is never shown as coming from the claimed user.
      const sender = m.senderVerified ? await this.senderState(m.from) : undefined
      if (sender == null) {
        this.init.log.warn(
          `offline mail ${m.id} claims to be from ${m.from} but its key does not match ${m.from}'s record; refused`,
        )
        continue
      }
      if (m.contentType === SYNC_CONTENT_TYPE && this.init.sync != null) {
        // Only this account's own devices may sync; anything else is dropped.
        const r = m.from === name ? await this.init.sync.fromMail(m.body).catch(() => 'done') : 0
        if (r === 'keep') keep.add(m.id)
        continue
      }
      if (m.contentType === FILE_MAIL_CONTENT_TYPE && this.init.onFileMail != null) {
        await this.init
          .onFileMail(m.from, m.body)
          .catch((err) => this.init.log.warn(`file part ${m.id} from ${m.from}: ${String(err)}`))
        continue
      }
      if (this.init.groups != null && isGroupContentType(m.contentType)) {
        forGroups.push({ from: m.from, sender, body: m.body })
        continue
      }
      // Filed in the node's inbox with its original From and Date (RFC 3428 §7
      // allows Date), and kept for the phones (phone-mail.ts), which get it as
      // a MESSAGE now or when they next register.
      const identity = formatState(sender)
      const req = buildRequest({
        method: 'MESSAGE',
        uri: `sip:${name}@${this.init.domain}`,
        from: m.fromUri,
        viaHost: `${this.init.node().peerId.toString()}.invalid`,
        headers: [
          ['Call-ID', `${m.id}@${this.init.domain}`],
          ['Date', m.date],
          ['Content-Type', m.contentType],
          [IDENTITY_STATE_HEADER, identity],
        ],
        body: m.body,
      })
      await this.record({ direction: 'in', request: req, status: 200 })
      forPhones.push({
        id: m.id,
        fromUri: m.fromUri,
        date: m.date,
        contentType: m.contentType,
        body: m.body,
        identity,
      })
    }
    // Both on disk before the mailbox deletes them: nothing is lost in between.
    if (forGroups.length > 0) await this.init.groups?.fromMail(forGroups)
    await this.phones.keepMail(forPhones)
    await ack(keep)
    this.init.log.info(
      `filed ${forPhones.length} message(s) kept while this node was offline; phones get them as they register`,
    )
  }

  /** Verification state of `name`'s current record key, undefined if it has no record. */
  private async senderState(name: string): Promise<SenderState | undefined> {
    try {
      const found = await this.init.directory.lookup(name, { timeoutMs: 8000 })
      if (found == null) return undefined
      return await this.identity.stateFor(name, found.record.publicKey, found.conflict != null)
    } catch (err) {
      this.init.log.warn(`could not look up the sender ${name}: ${String(err)}`)
      return undefined
    }
  }

  private record(ev: MessageEvent): Promise<void> {
    return fileMessage(ev, this.history, this.init.sync?.filed)
  }
}
