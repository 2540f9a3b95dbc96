/**
 * Which SDP bodies cross the gateway as what (RFC 3264 offer/answer as carried
 * by SIP, RFC 3261 §13.2.1 and RFC 3311 for UPDATE), and handing each one to
 * the GatewayMedia (gateway-media.ts):
 *
 * - an INVITE (initial or re-INVITE) or UPDATE with a body: the offer; the
 *   body of a 101-299 response to it is the answer;
 * - an INVITE without a body: the body of its 101-299 response is the offer,
 *   and the ACK's body the answer (§13.2.1), in the other direction;
 * - any other body (MESSAGE text, INFO DTMF relay, NOTIFY sipfrag, multipart)
 *   is not SDP offer/answer and crosses untouched. PRACK is not handled: the
 *   gateway supports no 100rel (RFC 3262), so phones never send one through it.
 *
 * A MediaNegotiationError becomes a refusal with its reason text; what to do
 * with the refusal (488, CANCEL, BYE) is media-edge.ts's business.
 */
import type { Logger } from '../../../shared/logger.js'
import type { SipRequest, SipResponse } from '../../../shared/sip/sip-message.js'
import { callId, cseq } from '../../../shared/sip/sip-message.js'
import { extractUri } from '../local-registrar.js'
import { MediaNegotiationError } from './gateway-media.js'
import type { GatewayMedia, SdpDirection } from './gateway-media.js'
import type { MaybePromise } from './lanes.js'

/** `callerTarget`: for a failed ACK answer, the Contact of the offerless INVITE it acknowledges. */
export type Crossed<M> = { ok: true; msg: M } | { ok: false; reason: string; callerTarget?: string }

/** INVITEs sent without an offer are remembered this long for their ACK (> Timer C, §16.8). */
const OFFERLESS_TTL_MS = 200_000
const MAX_OFFERLESS = 10_000

const decoder = new TextDecoder()
const encoder = new TextEncoder()

export function hasSdp(msg: SipRequest | SipResponse): boolean {
  if (msg.body.length === 0) return false
  const type = msg.headers.get('content-type') ?? ''
  return /^\s*application\/sdp\s*(;|$)/i.test(type)
}

export class SdpCrossings {
  /** `Call-ID CSeq-number` of offerless INVITEs → when they expire, and their Contact. */
  private readonly offerless = new Map<string, { until: number; contact?: string }>()

  constructor(
    private readonly media: GatewayMedia,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A request crossing in `direction`: an offer, an ACK's answer, or untouched
   * (then synchronously, so the transaction layer's timing is kept).
   */
  request(req: SipRequest, direction: SdpDirection): MaybePromise<Crossed<SipRequest>> {
    const key = offerKey(req)
    if (req.method === 'ACK') {
      const expected = this.offerless.get(key)
      this.offerless.delete(key)
      if (expected == null || !hasSdp(req)) return { ok: true, msg: req }
      return this.cross(req, 'answer', direction).then((crossed) =>
        crossed.ok || expected.contact == null
          ? crossed
          : { ...crossed, callerTarget: expected.contact },
      )
    }
    if (req.method !== 'INVITE' && req.method !== 'UPDATE') return { ok: true, msg: req }
    if (hasSdp(req)) return this.cross(req, 'offer', direction)
    if (req.method === 'INVITE') this.rememberOfferless(key, req.headers.get('contact'))
    return { ok: true, msg: req }
  }

  /** A response to `req` crossing in `direction`: the answer (or a 2xx's offer), or untouched. */
  response(
    req: SipRequest,
    res: SipResponse,
    direction: SdpDirection,
  ): MaybePromise<Crossed<SipResponse>> {
    if (req.method !== 'INVITE' && req.method !== 'UPDATE') return { ok: true, msg: res }
    if (res.status <= 100 || res.status >= 300 || !hasSdp(res)) return { ok: true, msg: res }
    return this.cross(res, hasSdp(req) ? 'answer' : 'offer', direction)
  }

  /** The dialog (or the attempt to make one) is over: the anchor frees the call. */
  end(id: string): void {
    for (const key of this.offerless.keys())
      if (key.startsWith(`${id} `)) this.offerless.delete(key)
    try {
      this.media.end(id)
    } catch (err) {
      this.log.warn(`media end for ${id} failed: ${String(err)}`)
    }
  }

  private async cross<M extends SipRequest | SipResponse>(
    msg: M,
    kind: 'offer' | 'answer',
    direction: SdpDirection,
  ): Promise<Crossed<M>> {
    let sdp: string
    try {
      sdp = await this.media.cross({
        callId: callId(msg),
        kind,
        direction,
        sdp: decoder.decode(msg.body),
      })
    } catch (err) {
      if (err instanceof MediaNegotiationError) return { ok: false, reason: err.reasonText }
      // An anchor that failed for its own reasons is not the caller's codec
      // choice, but the call cannot have media either: refuse it the same way.
      this.log.warn(`media anchor failed on an ${kind} (${direction}): ${String(err)}`)
      return { ok: false, reason: 'Media anchor unavailable' }
    }
    const headers = msg.headers.clone()
    headers.set('Content-Type', 'application/sdp')
    return { ok: true, msg: { ...msg, headers, body: encoder.encode(sdp) } }
  }

  private rememberOfferless(key: string, contact: string | undefined): void {
    const now = this.now()
    if (this.offerless.size >= MAX_OFFERLESS) {
      for (const [k, e] of this.offerless) if (e.until < now) this.offerless.delete(k)
      if (this.offerless.size >= MAX_OFFERLESS) this.offerless.clear()
    }
    const until = now + OFFERLESS_TTL_MS
    this.offerless.set(key, contact == null ? { until } : { until, contact: extractUri(contact) })
  }
}

/** The ACK of a 2xx shares its INVITE's Call-ID and CSeq number (§13.2.2.4). */
function offerKey(req: SipRequest): string {
  return `${callId(req)} ${cseq(req).seq}`
}

/** `Reason: SIP ;cause=488 ;text="…"` (RFC 3326 §2), with the text's quotes escaped. */
export function reason488(text: string): [string, string] {
  const quoted = text.replace(/[\r\n]+/g, ' ').replace(/["\\]/g, (c) => `\\${c}`)
  return ['Reason', `SIP ;cause=488 ;text="${quoted}"`]
}
