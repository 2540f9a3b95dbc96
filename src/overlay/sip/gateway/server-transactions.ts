/**
 * Server transactions for requests from phones (RFC 3261 §17.2), so the router
 * above sees each request once and phones on UDP get their answers reliably:
 *
 * - a retransmitted request is absorbed and the last response re-sent
 *   (§17.2.1 Proceeding/Completed, §17.2.2 Trying/Proceeding/Completed);
 * - an INVITE gets 100 Trying at once (§17.2.1);
 * - an INVITE's 300-699 final is retransmitted per Timer G until the ACK, up to
 *   Timer H; the ACK is absorbed (it is hop-by-hop, §17.1.1.3);
 * - an INVITE's 2xx is retransmitted to a UDP phone until its ACK arrives
 *   (§13.3.1.4: T1 doubling up to T2, for at most 64*T1), because the UAS at
 *   the far end sits on a reliable link and will not retransmit it; the
 *   transaction then stays "Accepted" (RFC 6026 §7.1) to absorb late INVITE
 *   retransmissions;
 * - a non-INVITE final is kept for Timer J (64*T1) to answer retransmissions.
 *
 * Transactions are matched per flow (source ip:port, or TCP connection).
 * Over TCP there are no retransmissions: only INVITE transactions are kept, so
 * the ACK of a non-2xx can be absorbed. Finished transactions are swept once a
 * second rather than each holding a timer.
 */
import type { Logger } from '../../../shared/logger.js'
import {
  callId,
  cseq,
  serializeSipMessage,
  toTag,
  transactionKey,
} from '../../../shared/sip/sip-message.js'
import type { SipRequest, SipResponse } from '../../../shared/sip/sip-message.js'
import { createResponse } from '../../../shared/sip/sip-message.js'
import { respond } from '../../../shared/sip/responses.js'
import type { GatewayFlow, SipTimers } from './gateway-types.js'

type State = 'proceeding' | 'completed' | 'accepted' | 'confirmed'

interface ServerTx {
  readonly invite: boolean
  readonly flow: GatewayFlow
  state: State
  last?: Uint8Array
  expiresAt: number
  timerG?: ReturnType<typeof setTimeout>
}

interface OkRetransmit {
  timer: ReturnType<typeof setTimeout>
}

export type ReceiveResult =
  /** A retransmission or the ACK of a non-2xx: nothing for the router. */
  | { kind: 'absorbed' }
  /** A new request: pass it up; responses go through `reply`. */
  | { kind: 'new'; reply: (res: SipResponse) => void }
  /** An ACK for a 2xx (its own transaction, §17.1.1.3): pass it up, it gets no response. */
  | { kind: 'ack' }

export interface ServerTransactionsInit {
  timers: SipTimers
  log: Logger
  /** Most transactions kept at once; past that new requests get 503. */
  maxTransactions?: number
  now?: () => number
}

/** A pending INVITE waits for Timer C of the router (> 3 min, §16.8) at most. */
const PENDING_INVITE_MS = 200_000

export class ServerTransactions {
  private readonly table = new Map<string, ServerTx>()
  private readonly okRetransmits = new Map<string, OkRetransmit>()
  private readonly sweeper: ReturnType<typeof setInterval>
  private readonly now: () => number
  private readonly max: number

  constructor(private readonly init: ServerTransactionsInit) {
    this.now = init.now ?? Date.now
    this.max = init.maxTransactions ?? 100_000
    this.sweeper = setInterval(() => this.sweep(), 1000)
    this.sweeper.unref?.()
  }

  get size(): number {
    return this.table.size
  }

  receive(req: SipRequest, flow: GatewayFlow): ReceiveResult {
    // §17.2.3 matching, within one flow: a phone retransmits from the socket it
    // sent from, and another source reusing a branch must not join (or hijack
    // the responses of) someone else's transaction.
    const key = `${flow.key}|${transactionKey(req)}`
    const t1 = this.init.timers.t1
    if (req.method === 'ACK') {
      const tx = this.table.get(key)
      if (tx != null && tx.invite && (tx.state === 'completed' || tx.state === 'confirmed')) {
        if (tx.state === 'completed') {
          // §17.2.1: Confirmed; Timer I (T4 on UDP, 0 on TCP) absorbs further ACKs.
          tx.state = 'confirmed'
          if (tx.timerG != null) clearTimeout(tx.timerG)
          tx.expiresAt = this.now() + (flow.reliable ? 0 : this.init.timers.t4)
        }
        return { kind: 'absorbed' }
      }
      this.stopOkRetransmit(req)
      return { kind: 'ack' }
    }
    const existing = this.table.get(key)
    if (existing != null) {
      // §17.2.1 / §17.2.2: a retransmission; re-send the last response (not in
      // Accepted, where the 2xx has its own retransmission schedule).
      if (existing.last != null && existing.state !== 'accepted') existing.flow.send(existing.last)
      return { kind: 'absorbed' }
    }
    const invite = req.method === 'INVITE'
    if (this.table.size >= this.max) {
      this.sendNow(flow, respond(req, 503, 'Service Unavailable', [['Retry-After', '5']]))
      return { kind: 'absorbed' }
    }
    let tx: ServerTx | undefined
    if (invite || !flow.reliable) {
      tx = {
        invite,
        flow,
        state: 'proceeding',
        expiresAt: this.now() + (invite ? PENDING_INVITE_MS : 64 * t1 + 5000),
      }
      this.table.set(key, tx)
    }
    if (invite) {
      // §17.2.1: 100 Trying at once; it stops the phone's Timer A (§17.1.1.2). No To tag (§8.2.6.2).
      const trying = this.sendNow(flow, createResponse(req, 100, 'Trying'))
      if (tx != null && trying != null) tx.last = trying
    }
    return {
      kind: 'new',
      reply: (res) => (tx == null ? void this.sendNow(flow, res) : this.reply(tx, req, res)),
    }
  }

  /** Stop every timer; the gateway is closing. */
  close(): void {
    clearInterval(this.sweeper)
    for (const tx of this.table.values()) if (tx.timerG != null) clearTimeout(tx.timerG)
    for (const r of this.okRetransmits.values()) clearTimeout(r.timer)
    this.table.clear()
    this.okRetransmits.clear()
  }

  private reply(tx: ServerTx, req: SipRequest, res: SipResponse): void {
    const { t1, t2 } = this.init.timers
    const now = this.now()
    if (!tx.invite) {
      if (tx.state === 'completed') return // §17.2.2: later finals are discarded
      const bytes = this.sendNow(tx.flow, res)
      if (bytes != null) tx.last = bytes
      if (res.status >= 200) {
        tx.state = 'completed'
        tx.expiresAt = now + (tx.flow.reliable ? 0 : 64 * t1) // Timer J
      }
      return
    }
    if (res.status < 200) {
      if (tx.state !== 'proceeding') return
      const bytes = this.sendNow(tx.flow, res)
      if (bytes != null) tx.last = bytes
      return
    }
    if (res.status < 300) {
      // Every 2xx (forked answers carry different To tags) goes to the phone.
      if (tx.state !== 'proceeding' && tx.state !== 'accepted') return
      const bytes = this.sendNow(tx.flow, res)
      tx.state = 'accepted'
      tx.expiresAt = now + 64 * t1 // RFC 6026 Timer L
      if (bytes != null && !tx.flow.reliable) this.startOkRetransmit(res, bytes, tx.flow)
      return
    }
    if (tx.state !== 'proceeding') return
    const bytes = this.sendNow(tx.flow, res)
    tx.state = 'completed'
    tx.expiresAt = now + 64 * t1 // Timer H
    if (bytes == null) return
    tx.last = bytes
    if (tx.flow.reliable) return
    // Timer G: T1, doubling, capped at T2, until the ACK or Timer H.
    let interval = t1
    const again = (): void => {
      if (tx.state !== 'completed') return
      if (this.now() >= tx.expiresAt) {
        this.init.log.debug(`no ACK for ${res.status} to ${req.method} (Timer H); giving up`)
        return
      }
      tx.flow.send(bytes)
      interval = Math.min(interval * 2, t2)
      tx.timerG = setTimeout(again, interval)
      tx.timerG.unref?.()
    }
    tx.timerG = setTimeout(again, interval)
    tx.timerG.unref?.()
  }

  /** §13.3.1.4: re-send a 2xx to a UDP phone until its ACK, T1 doubling to T2, for 64*T1. */
  private startOkRetransmit(res: SipResponse, bytes: Uint8Array, flow: GatewayFlow): void {
    const key = okKey(res)
    if (key == null || this.okRetransmits.has(key)) return
    const { t1, t2 } = this.init.timers
    const deadline = this.now() + 64 * t1
    let interval = t1
    const again = (): void => {
      if (this.now() >= deadline) {
        this.okRetransmits.delete(key)
        this.init.log.debug(`no ACK for a 2xx within 64*T1 (${key}); stopped retransmitting`)
        return
      }
      flow.send(bytes)
      interval = Math.min(interval * 2, t2)
      entry.timer = setTimeout(again, interval)
      entry.timer.unref?.()
    }
    const entry: OkRetransmit = { timer: setTimeout(again, interval) }
    entry.timer.unref?.()
    this.okRetransmits.set(key, entry)
  }

  private stopOkRetransmit(ack: SipRequest): void {
    const key = okKey(ack)
    const r = key == null ? undefined : this.okRetransmits.get(key)
    if (r == null) return
    clearTimeout(r.timer)
    this.okRetransmits.delete(key!)
  }

  private sendNow(flow: GatewayFlow, res: SipResponse): Uint8Array | undefined {
    try {
      const bytes = serializeSipMessage(res)
      flow.send(bytes)
      return bytes
    } catch (err) {
      this.init.log.debug(`cannot send a ${res.status}: ${String(err)}`)
      return undefined
    }
  }

  private sweep(): void {
    const now = this.now()
    for (const [key, tx] of this.table) {
      if (now < tx.expiresAt) continue
      if (tx.timerG != null) clearTimeout(tx.timerG)
      this.table.delete(key)
    }
  }
}

/** A 2xx and the ACK for it share Call-ID, CSeq number and To tag (§13.2.2.4, §17.1.1.3). */
function okKey(msg: SipRequest | SipResponse): string | undefined {
  try {
    return `${callId(msg)}|${cseq(msg).seq}|${toTag(msg) ?? ''}`
  } catch {
    return undefined
  }
}
