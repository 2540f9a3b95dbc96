/**
 * The SIP router: the overlay as registrar and proxy. It sits below SIP's
 * transaction users and adds no Via (sip.js drops responses whose Via is not
 * its own), routing instead by what it knows:
 *
 * - out-of-dialog requests to `sip:user@<overlay>` are resolved with one DHT
 *   lookup and forked in parallel to the user's devices (RFC 3261 §16.6); the
 *   first 2xx wins and the other branches are CANCELled (§16.7 step 10); when
 *   no device could be linked the record may be stale (its relay supernode
 *   died), so the user is resolved once more past every cache and, if that
 *   names other devices or addresses, forked again before any 480;
 * - in-dialog requests follow the remote Contact, a GRUU naming the device's
 *   peer ID (see overlay-uri.ts), with no lookup;
 * - responses go back to where the request came from, matched by transaction
 *   (top Via branch and CSeq method, §17.2.3).
 *
 * Requests from the overlay are delivered to the node's local user agents
 * (registered phones, the UI) and forked locally the same way.
 */
import { transactionKey } from '../../shared/sip/sip-message.js'
import { respond } from '../../shared/sip/responses.js'
import type { SipMessage, SipRequest, SipResponse } from '../../shared/sip/sip-message.js'
import { aor, gruu, parseOverlayTarget } from '../../shared/sip/overlay-uri.js'
import { extractUri, LocalRegistrar } from './local-registrar.js'
import { ForkingTransaction } from './forking-transaction.js'
import type { ForkTarget } from './forking-transaction.js'
import type { SipLink } from './sip-links.js'
import type { ResolvedDevice, SipFlow, SipRouterInit } from './sip-router-types.js'
import { sameDevices } from './fresh-retry.js'
import { answerOptions, isNodeOptions } from './node-options.js'

const DEFAULT_MAX_PENDING = 4096

export class SipRouter {
  readonly registrar: LocalRegistrar
  /** Requests from local UAs (or from ourselves) forked into the overlay. */
  private readonly outbound = new Map<string, ForkingTransaction>()
  /** Requests from the overlay being delivered to local bindings. */
  private readonly inbound = new Map<string, ForkingTransaction>()
  /** Requests from links whose Identity is being checked (retransmissions are dropped meanwhile). */
  private readonly verifying = new Set<string>()

  constructor(private readonly init: SipRouterInit) {
    this.registrar = new LocalRegistrar(init.now, () => init.onRegistered?.())
  }

  pendingTransactions(): number {
    return this.outbound.size + this.inbound.size
  }

  // ---- from local user agents -------------------------------------------

  async fromLocal(msg: SipMessage, flow: SipFlow): Promise<void> {
    if (msg.kind === 'response') return this.responseFromLocal(msg, flow.binding)
    const req = msg
    if (req.method === 'REGISTER') {
      const name = await this.init.ownName()
      flow.send(this.registrar.register(req, name, this.init.domain, flow.deliver ?? (() => {})))
      return
    }
    // ACK and CANCEL open no transaction (and an ACK is never answered, RFC 3261
    // §17.1.1.3): a full router must still let a caller cancel or acknowledge.
    const opensTx = req.method !== 'ACK' && req.method !== 'CANCEL'
    if (opensTx && this.pendingTransactions() >= (this.init.maxPending ?? DEFAULT_MAX_PENDING)) {
      flow.send(respond(req, 503, 'Service Unavailable', [['Retry-After', '5']]))
      return
    }
    // RFC 8224 §6.1: this node is the authentication service of its local UAs.
    // A CANCEL is answered here and rebuilt per branch (signed in forkTarget).
    if (req.method !== 'CANCEL' && this.init.identity != null) {
      const refusal = await this.init.identity.sign(req)
      if (refusal != null) {
        this.init.log.info(`refused to sign ${req.method}: ${refusal.detail}`)
        if (req.method !== 'ACK') flow.send(respond(req, refusal.status, refusal.reason))
        return
      }
    }
    const key = transactionKey(req)
    if (req.method === 'CANCEL') {
      const tx = this.outbound.get(transactionKey(req, 'INVITE'))
      flow.send(
        respond(req, tx == null ? 481 : 200, tx == null ? 'Call/Transaction Does Not Exist' : 'OK'),
      )
      tx?.cancel(req)
      return
    }
    if (req.method === 'ACK') {
      // ACK for a non-2xx answer belongs to the INVITE's transaction and goes
      // where the INVITE went; ACK for a 2xx is in-dialog (routed by Contact).
      const tx = this.outbound.get(transactionKey(req, 'INVITE'))
      if (tx != null && !tx.answered2xx) return tx.forwardAck(req)
    }
    await this.rewriteContact(req, flow.binding)
    const target = parseOverlayTarget(req.uri)
    if (target == null) {
      if (req.method !== 'ACK') flow.send(respond(req, 416, 'Unsupported URI Scheme'))
      return
    }
    if (target.domain !== this.init.domain) {
      if (req.method !== 'ACK')
        flow.send(respond(req, 404, `Only sip:user@${this.init.domain} is routed`))
      return
    }
    const mf = req.headers.get('max-forwards')
    if (mf != null && Number(mf) === 0) {
      if (req.method !== 'ACK') flow.send(respond(req, 483, 'Too Many Hops'))
      return
    }
    if (mf != null) req.headers.set('Max-Forwards', String(Number(mf) - 1))

    let targets: ForkTarget[]
    let resolved: ResolvedDevice[] | undefined
    if (target.peer != null) {
      targets = [this.forkTarget({ peer: target.peer, addrs: [] })]
    } else {
      const res = await this.init.resolve(target.user)
      if (res.kind !== 'found') {
        if (req.method !== 'ACK') {
          flow.send(
            res.kind === 'unknown'
              ? respond(req, 404, `No user ${target.user} in the overlay`)
              : respond(req, 408, 'Overlay lookup timed out'),
          )
        }
        return
      }
      resolved = res.devices
      targets = res.devices.map((d) => this.forkTarget(d))
    }
    if (req.method === 'ACK') {
      for (const t of targets) void t.send(req)
      return
    }
    const fallback = async (): Promise<SipResponse> => {
      if (req.method === 'MESSAGE' && target.peer == null && this.init.storeOffline != null) {
        if (await this.init.storeOffline(req, target.user))
          return respond(req, 202, 'Stored for later delivery')
      }
      return respond(req, 480, 'Temporarily Unavailable')
    }
    const tx: ForkingTransaction = new ForkingTransaction({
      request: req,
      targets,
      upstream: (res) => flow.send(res),
      onFinal: (status) => {
        if (req.method === 'MESSAGE')
          void Promise.resolve(
            this.init.onMessage?.({ direction: 'out', request: req, status }),
          ).catch((err: unknown) => this.init.log.warn(`message history: ${String(err)}`))
      },
      onAllUnreachable: async () =>
        (resolved != null
          ? await this.forkAgain(req, target.user, resolved, flow, fallback)
          : null) ?? fallback(),
      onDone: () => this.outbound.get(key) === tx && this.outbound.delete(key),
      log: this.init.log,
    })
    this.outbound.set(key, tx)
    tx.start()
  }

  /**
   * Every device of `user`'s record failed to link: look again past the cache
   * and, if the fresh record names other devices or addresses, fork the request
   * to them in a second transaction that takes over the first one's key (so
   * responses, CANCEL and ACK find it). Resolves with the second fork's final
   * response for the first one to send upstream (provisionals and extra 2xx go
   * straight up), or null when there is nothing new to try.
   */
  private async forkAgain(
    req: SipRequest,
    user: string,
    tried: ResolvedDevice[],
    flow: SipFlow,
    fallback: () => Promise<SipResponse>,
  ): Promise<SipResponse | null> {
    if (this.init.resolveFresh == null) return null
    const res = await this.init.resolveFresh(user).catch(() => null)
    if (res?.kind !== 'found' || sameDevices(res.devices, tried)) return null
    this.init.log.info(`no device of ${user} was reachable; trying its fresh record`)
    const key = transactionKey(req)
    return new Promise<SipResponse>((resolve) => {
      let settled = false
      const tx: ForkingTransaction = new ForkingTransaction({
        request: req,
        targets: res.devices.map((d) => this.forkTarget(d)),
        upstream: (r) => {
          if (r.status < 200 || settled) return flow.send(r)
          settled = true
          resolve(r)
        },
        onAllUnreachable: fallback,
        onDone: () => this.outbound.get(key) === tx && this.outbound.delete(key),
        log: this.init.log,
      })
      this.outbound.set(key, tx)
      tx.start()
    })
  }

  private responseFromLocal(res: SipResponse, binding?: string): void {
    const tx = this.inbound.get(transactionKey(res))
    if (tx == null) {
      this.init.log.debug(`response ${res.status} from a local UA matches no transaction; dropped`)
      return
    }
    void this.rewriteContact(res, binding ?? tx.bindingFor(res)).then(() =>
      tx.onBranchResponse(res, binding),
    )
  }

  /**
   * Deliver a request that did not come over a link (offline mail collected
   * from the mailbox) to the local user agents; resolves with the final status.
   */
  deliverLocally(req: SipRequest): Promise<number> {
    return new Promise((resolve) => {
      void this.deliverInbound(req, (res) => {
        if (res.status >= 200) resolve(res.status)
      })
    })
  }

  // ---- from the overlay -------------------------------------------------

  async fromLink(msg: SipMessage, link: SipLink): Promise<void> {
    if (msg.kind === 'response') {
      const tx = this.outbound.get(transactionKey(msg))
      if (tx == null) {
        this.init.log.debug(
          `response ${msg.status} from ${link.peer} matches no transaction; dropped`,
        )
        return
      }
      tx.onBranchResponse(msg, link.peer)
      return
    }
    const reply = (res: SipResponse): void => {
      // Responses return to the peer that sent the request, reopening the link
      // if a relay limit closed it meanwhile.
      if (!link.send(res))
        void this.init
          .linkTo(link.peer, [])
          .then((l) => l.send(res))
          .catch(() => {})
    }
    const identity = this.init.identity
    if (identity == null) return this.deliverInbound(msg, reply)
    // Verify once per request, after transaction matching (RFC 3261 §17.2.3):
    // a retransmission of a request already accepted or being checked is
    // absorbed here, so it is neither delivered twice nor taken for a replay.
    const key = transactionKey(msg)
    const absorbs = msg.method !== 'ACK' && msg.method !== 'CANCEL'
    if (absorbs && (this.inbound.has(key) || this.verifying.has(key))) return
    if (absorbs) this.verifying.add(key)
    try {
      const verdict = await identity.verify(msg, link.peer)
      if ('status' in verdict) {
        this.init.log.info(
          `${msg.method} from ${link.peer} refused: ${verdict.status} ${verdict.reason} (${verdict.detail})`,
        )
        if (msg.method !== 'ACK') reply(respond(msg, verdict.status, verdict.reason))
        return
      }
      if (msg.method === 'MESSAGE' && this.init.takeMessage != null) {
        const taken = await this.init.takeMessage(msg, verdict)
        if (taken != null) return reply(respond(msg, taken.status, taken.reason))
      }
      await this.deliverInbound(msg, reply)
    } finally {
      if (absorbs) this.verifying.delete(key)
    }
  }

  /** A request from the overlay (or forked to ourselves) for our local UAs. */
  private async deliverInbound(req: SipRequest, reply: (res: SipResponse) => void): Promise<void> {
    const key = transactionKey(req)
    if (req.method === 'CANCEL') {
      const tx = this.inbound.get(transactionKey(req, 'INVITE'))
      reply(
        respond(req, tx == null ? 481 : 200, tx == null ? 'Call/Transaction Does Not Exist' : 'OK'),
      )
      tx?.cancel(req)
      return
    }
    if (this.inbound.has(key) && req.method !== 'ACK') return // a duplicate over a reopened link
    const target = parseOverlayTarget(req.uri)
    const name = await this.init.ownName()
    let bindings = this.registrar.active()
    if (target?.peer != null) {
      if (target.peer !== this.init.selfPeer()) {
        if (req.method !== 'ACK') reply(respond(req, 404, 'Not this device'))
        return
      }
      const b = target.binding != null ? this.registrar.get(target.binding) : undefined
      bindings = b == null ? [] : [b]
    } else if (target == null || name == null || target.user !== name) {
      if (req.method !== 'ACK') reply(respond(req, 404, 'Not Found'))
      return
    }
    if (isNodeOptions(req)) return reply(answerOptions(req)) // a probe: RFC 3261 §16.3, §11
    if (req.method === 'ACK') {
      const tx = this.inbound.get(transactionKey(req, 'INVITE'))
      if (tx != null) return tx.forwardAck(req)
      for (const b of bindings) b.sendRequest(withUri(req, b.contact), ignore)
      return
    }
    if (bindings.length === 0) {
      if (req.method === 'MESSAGE') {
        // No UA registered: the node itself keeps the message in its inbox,
        // and says 200 only once it is on disk (a full disk gets a 500, and the
        // sender's side keeps the message as failed, not delivered).
        try {
          await this.init.onMessage?.({ direction: 'in', request: req, status: 200 })
          reply(respond(req, 200, 'OK'))
        } catch (err) {
          this.init.log.warn(`could not store an incoming message: ${String(err)}`)
          reply(respond(req, 500, 'Could not store the message'))
        }
      } else reply(respond(req, 480, 'Temporarily Unavailable'))
      return
    }
    const tx: ForkingTransaction = new ForkingTransaction({
      request: req,
      targets: bindings.map((b) => ({
        id: b.id,
        send: async (r: SipRequest) => {
          // Responses to CANCEL and ACK are hop-by-hop: nothing goes upstream.
          const onResponse =
            r.method === 'CANCEL' || r.method === 'ACK'
              ? ignore
              : (res: SipResponse) => {
                  void this.rewriteContact(res, b.id).then(() => tx.onBranchResponse(res, b.id))
                }
          b.sendRequest(withUri(r, b.contact), onResponse)
        },
      })),
      upstream: reply,
      onFinal: (status) => {
        if (req.method === 'MESSAGE' && status < 300)
          void Promise.resolve(
            this.init.onMessage?.({ direction: 'in', request: req, status }),
          ).catch((err: unknown) => this.init.log.warn(`message history: ${String(err)}`))
      },
      onAllUnreachable: async () => respond(req, 480, 'Temporarily Unavailable'),
      onDone: () => this.inbound.delete(key),
      log: this.init.log,
    })
    this.inbound.set(key, tx)
    tx.start()
  }

  private forkTarget(device: ResolvedDevice): ForkTarget {
    if (device.peer === this.init.selfPeer()) {
      // Our own account on this very node: deliver locally, as if it came in
      // (a GRUU's binding is read from the Request-URI there).
      return {
        id: device.peer,
        send: async (req) => {
          await this.deliverInbound(req, (res) => {
            const tx = this.outbound.get(transactionKey(res))
            tx?.onBranchResponse(res, device.peer)
          })
        },
      }
    }
    return {
      id: device.peer,
      send: async (req) => {
        const link = await this.init.linkTo(device.peer, device.addrs)
        // A CANCEL is built per branch from the INVITE (RFC 3261 §9.1: same
        // From, To, Call-ID and CSeq number); it needs its own token.
        if (req.method === 'CANCEL' && !req.headers.has('Identity') && this.init.identity != null) {
          const refusal = await this.init.identity.signOwn(req)
          if (refusal != null) throw new Error(`cannot sign CANCEL: ${refusal.detail}`)
        }
        if (!link.send(req)) throw new Error(`link to ${device.peer} closed`)
      },
    }
  }

  /** Contacts leaving this node become GRUUs naming this device and binding. */
  private async rewriteContact(msg: SipMessage, binding?: string): Promise<void> {
    const contact = msg.headers.get('contact')
    if (contact == null || contact.trim() === '*') return
    const name = (await this.init.ownName()) ?? 'anonymous'
    const id = binding ?? this.registrar.byContact(extractUri(contact))?.id ?? 'node'
    msg.headers.set('Contact', `<${gruu(name, this.init.domain, this.init.selfPeer(), id)}>`)
  }

  ownAor(name: string): string {
    return aor(name, this.init.domain)
  }
}

function ignore(): void {}

function withUri(req: SipRequest, uri: string): SipRequest {
  return { ...req, uri }
}
