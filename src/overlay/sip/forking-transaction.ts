/**
 * One request forked to several branches (devices in the overlay, or local
 * user agents), and the choice of what goes back upstream: RFC 3261 §16.7.
 * Provisional responses are relayed (not 100, which is hop-by-hop); for INVITE
 * every 2xx is relayed (the caller must ACK and may BYE extra answers) and the
 * first one CANCELs the other branches (§16.7 step 10); a 6xx ends the fork; the
 * other finals are collected and the best one is sent once every branch has
 * answered (§16.7 step 6). Timer C (§16.8) bounds an INVITE, Timer F a
 * non-INVITE request.
 */
import type { Logger } from '../../shared/logger.js'
import { bestFinalIndex } from '../../shared/sip/overlay-uri.js'
import { buildCancel } from '../../shared/sip/sip-message.js'
import { respond } from '../../shared/sip/responses.js'
import type { SipRequest, SipResponse } from '../../shared/sip/sip-message.js'

export interface ForkTarget {
  id: string
  send(req: SipRequest): Promise<void>
}

export interface ForkingTransactionInit {
  request: SipRequest
  targets: ForkTarget[]
  upstream: (res: SipResponse) => void
  onAllUnreachable: () => Promise<SipResponse>
  onFinal?: (status: number) => void
  onDone: () => void
  log: Logger
  /** Timer C for INVITE (RFC 3261 §16.8: > 3 min), Timer F (64*T1) otherwise. */
  timeoutMs?: number
}

type BranchState = 'trying' | 'proceeding' | 'final' | 'unreachable'

/** After an INVITE's final response, how long late 2xx and ACKs still match (64*T1). */
const LINGER_MS = 32_000

export class ForkingTransaction {
  answered2xx = false
  private finalSent = false
  /** Pending branches are being CANCELled (a late first provisional triggers its CANCEL). */
  private cancelling = false
  private readonly states = new Map<string, BranchState>()
  private readonly finals: SipResponse[] = []
  private timer: ReturnType<typeof setTimeout> | undefined
  private readonly isInvite: boolean

  constructor(private readonly init: ForkingTransactionInit) {
    this.isInvite = init.request.method === 'INVITE'
  }

  start(): void {
    const ms = this.init.timeoutMs ?? (this.isInvite ? 180_000 : 32_000)
    this.timer = setTimeout(() => this.timeout(), ms)
    this.timer.unref?.()
    if (this.init.targets.length === 0) {
      void this.allUnreachable()
      return
    }
    for (const t of this.init.targets) {
      this.states.set(t.id, 'trying')
      t.send(this.init.request).catch((err) => {
        this.init.log.debug(`branch ${t.id} unreachable: ${String(err)}`)
        if (this.states.get(t.id) === 'trying') this.states.set(t.id, 'unreachable')
        this.checkAllDone()
      })
    }
  }

  bindingFor(_res: SipResponse): string | undefined {
    return this.init.targets.length === 1 ? this.init.targets[0]!.id : undefined
  }

  onBranchResponse(res: SipResponse, branch?: string): void {
    const id = branch ?? this.bindingFor(res)
    const state = id != null ? this.states.get(id) : undefined
    if (id == null || state == null) {
      // From a branch we do not know: only a 2xx matters (must reach the UAC).
      if (res.status >= 200 && res.status < 300 && this.isInvite) this.init.upstream(res)
      return
    }
    if (res.status < 200) {
      if (state === 'trying') {
        this.states.set(id, 'proceeding')
        if (this.cancelling) this.sendCancel(id)
      }
      if (res.status > 100 && !this.finalSent) this.init.upstream(res)
      return
    }
    const wasFinal = state === 'final'
    this.states.set(id, 'final')
    if (res.status < 300) {
      if (this.isInvite || !this.finalSent) this.init.upstream(res)
      const first = !this.answered2xx
      this.answered2xx = true
      if (first) {
        this.finish(res.status)
        this.cancelPending()
      }
      return
    }
    if (wasFinal || this.finalSent) return
    this.finals.push(res)
    if (res.status >= 600) {
      this.init.upstream(res)
      this.finish(res.status)
      this.cancelPending()
      return
    }
    this.checkAllDone()
  }

  /** The UAC cancelled: CANCEL every branch still pending (RFC 3261 §16.10). */
  cancel(_cancel: SipRequest): void {
    this.cancelPending()
  }

  /** ACK for a non-2xx final goes to the branches that sent finals. */
  forwardAck(ack: SipRequest): void {
    for (const t of this.init.targets) {
      if (this.states.get(t.id) === 'final') void t.send(ack).catch(() => {})
    }
  }

  /**
   * RFC 3261 §9.1: "If no provisional response has been received, the CANCEL
   * request MUST NOT be sent; rather, the client MUST wait for the arrival of a
   * provisional response". A branch still 'trying' gets its CANCEL with its first
   * provisional response: sent earlier, it can overtake the INVITE (a link still
   * dialling, or a remote router still handling it) and find no transaction (481).
   */
  private cancelPending(): void {
    if (!this.isInvite) return
    this.cancelling = true
    for (const t of this.init.targets) {
      if (this.states.get(t.id) === 'proceeding') this.sendCancel(t.id)
    }
  }

  private sendCancel(id: string): void {
    const t = this.init.targets.find((x) => x.id === id)
    void t?.send(buildCancel(this.init.request)).catch(() => {})
  }

  private checkAllDone(): void {
    if (this.finalSent) return
    const states = [...this.states.values()]
    if (states.some((s) => s === 'trying' || s === 'proceeding')) return
    if (this.finals.length > 0) return this.sendBest()
    void this.allUnreachable()
  }

  /** §16.7 step 6: the best final collected goes upstream. */
  private sendBest(): void {
    let best = this.finals[bestFinalIndex(this.finals.map((f) => f.status))]!
    // §16.7 step 6: "If the only response that was received is a 503, the proxy
    // SHOULD generate a 500": a 503 would tell the UAC that this node, not one
    // device, is unavailable.
    if (best.status === 503) best = respond(this.init.request, 500, 'Server Internal Error')
    this.init.upstream(best)
    this.finish(best.status)
  }

  private async allUnreachable(): Promise<void> {
    if (this.finalSent) return
    this.finalSent = true
    let res: SipResponse
    try {
      res = await this.init.onAllUnreachable()
    } catch (err) {
      this.init.log.warn(`fallback for unreachable branches failed: ${String(err)}`)
      res = respond(this.init.request, 480, 'Temporarily Unavailable')
    }
    this.init.upstream(res)
    this.finalSent = false
    this.finish(res.status)
  }

  private timeout(): void {
    if (this.finalSent) return
    this.cancelPending()
    // §16.8: a branch that times out counts as a 408 in the response context, so a
    // final already collected (a 486, a 3xx) can still be the best (§16.7 step 6).
    this.finals.push(respond(this.init.request, 408, 'Request Timeout'))
    this.sendBest()
  }

  private finish(status: number): void {
    if (this.finalSent) return
    this.finalSent = true
    this.init.onFinal?.(status)
    if (this.timer != null) clearTimeout(this.timer)
    // Links are reliable, so a non-INVITE transaction has nothing left to match
    // (UDP retransmissions are absorbed by the gateway's own transactions). An
    // INVITE lingers for further 2xx from other branches and their ACKs.
    if (!this.isInvite) {
      this.init.onDone()
      return
    }
    const t = setTimeout(() => this.init.onDone(), LINGER_MS)
    t.unref?.()
  }
}
