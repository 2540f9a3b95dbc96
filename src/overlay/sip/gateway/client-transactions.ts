/**
 * Client transactions for requests the gateway sends to phones (RFC 3261
 * §17.1), with the gateway acting as the last proxy hop (§16.6 step 8, §16.7
 * step 3): it pushes its own Via so the phone answers to the gateway, matches
 * responses by that Via's branch (§17.1.3), pops it, and hands each response
 * to the router once.
 *
 * - UDP: the request is retransmitted per Timer A (INVITE) / Timer E (others);
 *   no final within Timer B / Timer F (64*T1) gives the router a synthetic 408.
 *   TCP: no retransmissions, the same timeouts.
 * - A fatal transport error is a 503 (§8.1.3.1).
 * - An INVITE's 300-699 final is ACKed here, hop by hop (§17.1.1.3); a
 *   retransmitted final is ACKed again and absorbed, and the router's ACK for
 *   it is absorbed too. A 2xx is passed up once per To tag, retransmissions
 *   are absorbed (RFC 6026 Accepted state, Timer M = 64*T1).
 * - CANCEL reuses the INVITE's branch (§9.1) and waits for a provisional
 *   response before it is sent (§9.1). An ACK for a 2xx gets a new branch.
 */
import type { Logger } from '../../../shared/logger.js'
import {
  SipHeaders,
  buildCancel,
  createResponse,
  cseq,
  serializeSipMessage,
  splitHeaderList,
  toTag,
  topVia,
  transactionKey,
} from '../../../shared/sip/sip-message.js'
import type { SipRequest, SipResponse } from '../../../shared/sip/sip-message.js'
import { randomToken } from '../../../shared/sip/responses.js'
import { BRANCH_PREFIX } from './gateway-types.js'
import type { GatewayFlow, SipTimers } from './gateway-types.js'

type State = 'calling' | 'proceeding' | 'completed' | 'accepted'

interface ClientTx {
  readonly key: string
  readonly invite: boolean
  /** The request as sent, with our Via on top. */
  readonly sent: SipRequest
  /** The request as the router gave it (for synthetic responses). */
  readonly upstream: SipRequest
  readonly flow: GatewayFlow
  readonly onResponse: (res: SipResponse) => void
  readonly upstreamKey?: string
  state: State
  timers: Array<ReturnType<typeof setTimeout>>
  okTags?: Set<string>
  ack?: Uint8Array
  pendingCancel?: boolean
}

export interface ClientTransactionsInit {
  timers: SipTimers
  log: Logger
  /** The gateway's own address for its Via (sent-by, §18.1.1). */
  sentBy: () => string
  maxTransactions?: number
}

/** An INVITE answered provisionally is bounded by the router's Timer C; this only frees memory. */
const PROCEEDING_INVITE_MS = 200_000

export class ClientTransactions {
  private readonly byKey = new Map<string, ClientTx>()
  /** INVITEs by binding contact + the router's transaction key, for its CANCEL and ACK. */
  private readonly invites = new Map<string, ClientTx>()

  constructor(private readonly init: ClientTransactionsInit) {}

  get size(): number {
    return this.byKey.size
  }

  /** Send `req` (from the router, for the binding `contact`) to a phone over `flow`. */
  send(
    contact: string,
    req: SipRequest,
    flow: GatewayFlow,
    onResponse: (res: SipResponse) => void,
  ): void {
    let inviteKey: string | undefined
    try {
      inviteKey = `${contact}|${transactionKey(req, 'INVITE')}`
    } catch {
      inviteKey = undefined
    }
    if (req.method === 'CANCEL') {
      const inv = inviteKey == null ? undefined : this.invites.get(inviteKey)
      if (inv == null || !inv.invite) return // nothing to cancel; the router ignores the answer
      if (inv.state === 'calling') inv.pendingCancel = true
      else if (inv.state === 'proceeding') this.sendCancel(inv)
      return
    }
    if (req.method === 'ACK') {
      const inv = inviteKey == null ? undefined : this.invites.get(inviteKey)
      if (inv != null && inv.state === 'completed') return // we ACKed that final ourselves
      // ACK for a 2xx: a transaction of its own with a new branch (§17.1.1.3, §13.2.2.4).
      const ack = this.withOurVia(req, flow, newBranch())
      this.write(flow, ack)
      return
    }
    if (this.byKey.size >= (this.init.maxTransactions ?? 50_000)) {
      onResponse(createResponse(req, 503, 'Gateway overloaded', [], randomToken()))
      return
    }
    const branch = newBranch()
    const sent = this.withOurVia(req, flow, branch)
    const invite = req.method === 'INVITE'
    const tx: ClientTx = {
      key: `${branch}|${invite ? 'INVITE' : req.method}`,
      invite,
      sent,
      upstream: req,
      flow,
      onResponse,
      ...(invite && inviteKey != null ? { upstreamKey: inviteKey } : {}),
      state: 'calling',
      timers: [],
    }
    this.launch(tx)
  }

  /** A response from a phone; false if it matches none of our transactions. */
  onResponse(res: SipResponse): boolean {
    let key: string
    try {
      const via = topVia(res)
      if (via.branch == null || !via.branch.startsWith(BRANCH_PREFIX + 'kw')) return false
      const m = cseq(res).method
      key = `${via.branch}|${m === 'ACK' ? 'INVITE' : m}`
    } catch {
      return false
    }
    const tx = this.byKey.get(key)
    if (tx == null) return false
    const up = popVia(res)
    if (tx.invite) this.inviteResponse(tx, res, up)
    else this.nonInviteResponse(tx, up)
    return true
  }

  close(): void {
    for (const tx of this.byKey.values()) this.clearTimers(tx)
    this.byKey.clear()
    this.invites.clear()
  }

  private launch(tx: ClientTx): void {
    const { t1, t2 } = this.init.timers
    this.byKey.set(tx.key, tx)
    if (tx.upstreamKey != null) this.invites.set(tx.upstreamKey, tx)
    const bytes = this.write(tx.flow, tx.sent)
    if (bytes == null) {
      this.fail(tx, 503, 'Service Unavailable (transport error)')
      return
    }
    if (!tx.flow.reliable) {
      // Timer A (INVITE: doubling) / Timer E (non-INVITE: doubling, capped at T2).
      let interval = t1
      const again = (): void => {
        if (tx.state !== 'calling' && !(tx.state === 'proceeding' && !tx.invite)) return
        tx.flow.send(bytes)
        interval = tx.invite
          ? interval * 2
          : tx.state === 'proceeding'
            ? t2
            : Math.min(interval * 2, t2)
        tx.timers.push(unref(setTimeout(again, interval)))
      }
      tx.timers.push(unref(setTimeout(again, interval)))
    }
    // Timer B / Timer F.
    tx.timers.push(
      unref(
        setTimeout(() => {
          if (tx.state === 'calling' || (!tx.invite && tx.state === 'proceeding'))
            this.fail(tx, 408, 'Request Timeout')
        }, 64 * t1),
      ),
    )
  }

  private inviteResponse(tx: ClientTx, raw: SipResponse, res: SipResponse): void {
    const { t1 } = this.init.timers
    if (res.status < 200) {
      if (tx.state !== 'calling' && tx.state !== 'proceeding') return
      if (tx.state === 'calling') {
        tx.state = 'proceeding'
        this.clearTimers(tx)
        tx.timers.push(unref(setTimeout(() => this.forget(tx), PROCEEDING_INVITE_MS)))
      }
      if (tx.pendingCancel === true) {
        tx.pendingCancel = false
        this.sendCancel(tx)
      }
      this.up(tx, res)
      return
    }
    if (res.status < 300) {
      const tag = toTag(res) ?? ''
      if (tx.state === 'accepted' && tx.okTags?.has(tag)) return // a retransmitted 2xx
      if (tx.state === 'calling' || tx.state === 'proceeding') {
        tx.state = 'accepted'
        this.clearTimers(tx)
        tx.timers.push(unref(setTimeout(() => this.forget(tx), 64 * t1))) // Timer M
      }
      ;(tx.okTags ??= new Set()).add(tag)
      this.up(tx, res)
      return
    }
    if (tx.state === 'completed') {
      if (tx.ack != null) tx.flow.send(tx.ack) // §17.1.1.2: ACK each retransmitted final
      return
    }
    if (tx.state !== 'calling' && tx.state !== 'proceeding') return
    tx.state = 'completed'
    this.clearTimers(tx)
    tx.ack = this.write(tx.flow, buildAck(tx.sent, raw))
    // Timer D: at least 32 s on UDP, 0 on TCP.
    tx.timers.push(unref(setTimeout(() => this.forget(tx), tx.flow.reliable ? 0 : 32_000)))
    this.up(tx, res)
  }

  private nonInviteResponse(tx: ClientTx, res: SipResponse): void {
    if (tx.state === 'completed') return // a retransmitted final
    if (res.status < 200) {
      tx.state = 'proceeding'
      this.up(tx, res)
      return
    }
    tx.state = 'completed'
    this.clearTimers(tx)
    // Timer K: T4 on UDP, 0 on TCP.
    const k = tx.flow.reliable ? 0 : this.init.timers.t4
    tx.timers.push(unref(setTimeout(() => this.forget(tx), k)))
    this.up(tx, res)
  }

  private sendCancel(inv: ClientTx): void {
    const cancel = buildCancel(inv.sent) // same top Via (our branch), Request-URI, CSeq number
    this.launch({
      key: `${topVia(inv.sent).branch}|CANCEL`,
      invite: false,
      sent: cancel,
      upstream: cancel,
      flow: inv.flow,
      onResponse: () => {},
      state: 'calling',
      timers: [],
    })
  }

  private fail(tx: ClientTx, status: number, reason: string): void {
    this.clearTimers(tx)
    this.forget(tx)
    this.init.log.debug(`${tx.sent.method} to ${tx.sent.uri}: ${status} ${reason}`)
    this.up(tx, createResponse(tx.upstream, status, reason, [], randomToken()))
  }

  private up(tx: ClientTx, res: SipResponse): void {
    try {
      tx.onResponse(res)
    } catch (err) {
      this.init.log.warn(`response handler failed: ${String(err)}`)
    }
  }

  private forget(tx: ClientTx): void {
    this.clearTimers(tx)
    if (this.byKey.get(tx.key) === tx) this.byKey.delete(tx.key)
    if (tx.upstreamKey != null && this.invites.get(tx.upstreamKey) === tx)
      this.invites.delete(tx.upstreamKey)
  }

  private clearTimers(tx: ClientTx): void {
    for (const t of tx.timers) clearTimeout(t)
    tx.timers = []
  }

  /** A copy of `req` (the router shares headers between forks) with our Via on top (§16.6 step 8). */
  private withOurVia(req: SipRequest, flow: GatewayFlow, branch: string): SipRequest {
    const headers = req.headers.clone()
    headers.prepend('Via', `SIP/2.0/${flow.transport} ${this.init.sentBy()};branch=${branch};rport`)
    return { ...req, headers }
  }

  private write(flow: GatewayFlow, msg: SipRequest): Uint8Array | undefined {
    try {
      const bytes = serializeSipMessage(msg)
      return flow.open && flow.send(bytes) ? bytes : undefined
    } catch (err) {
      this.init.log.debug(`cannot send ${msg.method}: ${String(err)}`)
      return undefined
    }
  }
}

function newBranch(): string {
  return `${BRANCH_PREFIX}kw${randomToken(10)}`
}

function unref(t: ReturnType<typeof setTimeout>): ReturnType<typeof setTimeout> {
  t.unref?.()
  return t
}

/** The response without its top Via value, ours (§16.7 step 3). */
function popVia(res: SipResponse): SipResponse {
  const headers = new SipHeaders()
  let popped = false
  for (const h of res.headers) {
    if (!popped && h.name.toLowerCase() !== 'via' && h.name.toLowerCase() !== 'v') {
      headers.add(h.name, h.value)
      continue
    }
    if (!popped) {
      popped = true
      const rest = splitHeaderList(h.value).slice(1)
      if (rest.length > 0) headers.add(h.name, rest.join(', '))
      continue
    }
    headers.add(h.name, h.value)
  }
  return { ...res, headers }
}

/** The ACK for a non-2xx final (§17.1.1.3): the INVITE's top Via, its To from the response. */
function buildAck(invite: SipRequest, res: SipResponse): SipRequest {
  const headers = new SipHeaders()
  headers.add('Via', splitHeaderList(invite.headers.get('via')!)[0]!)
  headers.add('Max-Forwards', '70')
  for (const name of ['From', 'Call-ID']) headers.add(name, invite.headers.get(name)!)
  headers.add('To', res.headers.get('to') ?? invite.headers.get('to')!)
  headers.add('CSeq', `${cseq(invite).seq} ACK`)
  for (const r of invite.headers.getAll('route')) headers.add('Route', r)
  headers.add('Content-Length', '0')
  return {
    kind: 'request',
    method: 'ACK',
    uri: invite.uri,
    version: 'SIP/2.0',
    headers,
    body: new Uint8Array(0),
  }
}
