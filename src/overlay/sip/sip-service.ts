/**
 * SIP for one node: the router, message history, offline mail and the local
 * SIP gateway for phones on this machine. It outlives role changes; the
 * signalling links it sends on are the `sipLinks` libp2p service of whichever
 * instance is current, and the supernode mailbox is a service of a
 * supernode's instance.
 */
import { multiaddr } from '@multiformats/multiaddr'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'
import { OverlayTimeoutError } from '../../shared/errors.js'
import type { Logger } from '../../shared/logger.js'
import { buildRequest } from '../../shared/sip/request-builder.js'
import type { SipMessage, SipRequest } from '../../shared/sip/sip-message.js'
import { extractUri } from './local-registrar.js'
import type { MailboxStore } from '../mailbox/mailbox-store.js'
import { OfflineMail } from '../mailbox/offline-mail.js'
import type { KaiwaLibp2p } from '../node/libp2p-factory.js'
import { MessageHistory } from './message-history.js'
import type { SipLink, SipLinks } from './sip-links.js'
import { SipRouter } from './sip-router.js'
import type { MessageEvent, Resolution, ResolvedDevice } from './sip-router.js'
import type { ContactRecord } from '../../shared/records/contact-record.js'
import { peerIdFromBytes } from '../../shared/records/contact-record.js'
import type { UserDirectory } from '../user-directory.js'
import { SipGateway } from './gateway/sip-gateway.js'
import type { SipGatewayTuning } from './gateway/sip-gateway.js'
import type { Role, SipGatewayStatus } from '../../shared/api/contract.js'

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
}

export interface GatewayOptions {
  /** UDP and TCP port on 127.0.0.1 (0: any free port). */
  port: number
  password: string
  tuning?: Partial<SipGatewayTuning>
}

export class SipService {
  readonly router: SipRouter
  readonly history: MessageHistory
  readonly mailboxStore: MailboxStore
  private readonly offline: OfflineMail
  private collecting: Promise<void> | undefined
  private readonly decoded = new WeakMap<
    ContactRecord,
    Array<ResolvedDevice & { expiresAt: number }>
  >()
  private gateway: SipGateway | undefined

  constructor(private readonly init: SipServiceInit) {
    const log = init.log
    this.history = new MessageHistory(init.datastore)
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
      linkTo: (peer, addrs) => this.links().linkTo(peer, addrs),
      storeOffline: (req, user) => this.storeOffline(req, user),
      onMessage: (ev) => this.record(ev),
      onRegistered: () => void this.collectOfflineMail(),
      log: log.child('router'),
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
    if (this.gateway != null) return this.gateway
    const gateway = new SipGateway({
      router: this.router,
      domain: this.init.domain,
      username: this.init.ownName,
      password: opts.password,
      log: this.init.log.child('gateway'),
      ...(opts.tuning != null ? { tuning: opts.tuning } : {}),
    })
    await gateway.start(opts.port)
    this.gateway = gateway
    return gateway
  }

  async stopGateway(): Promise<void> {
    const g = this.gateway
    this.gateway = undefined
    await g?.stop()
  }

  /** Where phones register and with which credentials; null when the gateway is off. */
  async gatewayStatus(): Promise<SipGatewayStatus | null> {
    const g = this.gateway
    if (g == null) return null
    return {
      address: g.address,
      domain: g.domain,
      username: await this.init.ownName(),
      password: g.password,
    }
  }

  /**
   * Warm the route to `user` before a request is sent (a call being set up):
   * look the record up and open links to its live devices, so the INVITE
   * that follows finds both cached. Returns how many devices were linked.
   */
  async prepare(user: string): Promise<number> {
    const res = await this.resolve(user)
    if (res.kind !== 'found') return 0
    const linked = await Promise.allSettled(
      res.devices
        .filter((d) => d.peer !== this.init.node().peerId.toString())
        .map((d) => this.links().linkTo(d.peer, d.addrs)),
    )
    return linked.filter((r) => r.status === 'fulfilled').length
  }

  /** The running gateway's address (127.0.0.1:PORT), if any. */
  gatewayAddress(): string | undefined {
    return this.gateway?.address
  }

  private async resolve(user: string): Promise<Resolution> {
    try {
      const found = await this.init.directory.lookup(user, { timeoutMs: 8000 })
      if (found == null) return { kind: 'unknown' }
      return { kind: 'found', devices: this.devicesOf(found.record) }
    } catch (err) {
      if (err instanceof OverlayTimeoutError) return { kind: 'timeout' }
      if (err instanceof Error && err.name === 'InvalidUserIdError') return { kind: 'unknown' }
      throw err
    }
  }

  /**
   * Live devices of a record as peer IDs and multiaddrs. Decoding multiaddrs is
   * not free and a cached record is resolved for every request, so the decoded
   * form is memoised per record object.
   */
  private devicesOf(record: ContactRecord): ResolvedDevice[] {
    let all = this.decoded.get(record)
    if (all == null) {
      all = record.devices.map((d) => ({
        peer: peerIdFromBytes(d.peerId).toString(),
        addrs: d.addrs.map((a) => multiaddr(a)),
        expiresAt: d.expiresAt,
      }))
      this.decoded.set(record, all)
    }
    const now = Date.now()
    return all.filter((d) => d.expiresAt > now)
  }

  private async storeOffline(req: SipRequest, user: string): Promise<boolean> {
    const found = await this.init.directory.lookup(user)
    const from = (await this.init.ownName()) ?? 'anonymous'
    if (found == null) return false
    return this.offline.store(found.record, {
      from,
      fromUri: extractUri(req.headers.get('from') ?? `sip:${from}@${this.init.domain}`),
      date: req.headers.get('date') ?? new Date().toUTCString(),
      contentType: req.headers.get('content-type') ?? 'text/plain',
      body: req.body,
    })
  }

  /** Collect mail kept for us while we were offline, deliver it, then delete it. */
  collectOfflineMail(): Promise<void> {
    this.collecting ??= this.collect().finally(() => {
      this.collecting = undefined
    })
    return this.collecting
  }

  private async collect(): Promise<void> {
    const name = await this.init.ownName()
    if (name == null) return
    const { mail, ack } = await this.offline.collect()
    if (mail.length === 0) return
    for (const m of mail) {
      // Delivered with its original From and Date (RFC 3428 §7 allows Date).
      const req = buildRequest({
        method: 'MESSAGE',
        uri: `sip:${name}@${this.init.domain}`,
        from: m.fromUri,
        viaHost: `${this.init.node().peerId.toString()}.invalid`,
        headers: [
          ['Call-ID', `${m.id}@${this.init.domain}`],
          ['Date', m.date],
          ['Content-Type', m.contentType],
        ],
        body: m.body,
      })
      const status = await this.router.deliverLocally(req)
      if (!m.senderVerified)
        this.init.log.warn(`offline mail from ${m.from}: its key does not match ${m.from}'s record`)
      if (status >= 300)
        this.init.log.warn(`offline mail ${m.id} was refused locally (${status}); kept in history`)
    }
    await ack()
    this.init.log.info(`delivered ${mail.length} message(s) kept while this node was offline`)
  }

  private async record(ev: MessageEvent): Promise<void> {
    const req = ev.request
    const from = extractUri(req.headers.get('from') ?? '')
    const to = extractUri(req.headers.get('to') ?? '')
    const base = {
      from,
      to,
      date: toIso(req.headers.get('date')),
      contentType: req.headers.get('content-type') ?? 'text/plain',
      text: new TextDecoder().decode(req.body),
      code: ev.status,
    }
    if (ev.direction === 'in') {
      await this.history.add({ ...base, direction: 'in', peer: from, status: 'received' })
    } else {
      const status = ev.status === 202 ? 'stored' : ev.status < 300 ? 'delivered' : 'failed'
      await this.history.add({ ...base, direction: 'out', peer: to, status })
    }
  }
}

function toIso(date: string | undefined): string {
  const t = date == null ? NaN : Date.parse(date)
  return new Date(Number.isNaN(t) ? Date.now() : t).toISOString()
}
