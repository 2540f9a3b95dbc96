/**
 * The gateway's edge between a phone and the overlay for everything beyond
 * transactions: dialog routes (dialog-routes.ts) and SDP bodies (sdp-crossing.ts,
 * into the GatewayMedia). Requests and responses cross here in both
 * directions; when the media anchor refuses a body (MediaNegotiationError):
 *
 * - an offer in a request: that request is answered 488 with
 *   `Reason: SIP ;cause=488 ;text="…"` (RFC 3326) where it came from, and it
 *   goes no further;
 * - an answer (or a 2xx's offer) in a response: the request's sender gets a
 *   488 instead; the other leg is CANCELled (a provisional) or, for a 2xx,
 *   ACKed and ended with a BYE (§13.2.2.4: a UA that cannot use a 2xx's
 *   session still ACKs it, then sends BYE);
 * - an answer in an ACK (offerless INVITE): the ACK goes on without its body
 *   and both legs get a BYE.
 *
 * `GatewayMedia.end` is called when a dialog ends: BYE or CANCEL either way,
 * a final non-2xx (including the transaction layer's 408 and
 * 503) to a dialog-creating INVITE, and a refusal of one. An INVITE from the
 * overlay that the router forked to several of the user's phones (RFC 3261
 * §16.6) is one anchored call (one Call-ID): one fork's failure, its CANCEL
 * when another phone answered (§16.7 step 10) or a refusal of its answer ends
 * only that fork, and the media ends when the last fork fails with none
 * answered.
 *
 * Messages of one Call-ID pass in order (lanes.ts, one lane per Call-ID, and
 * one per transaction for its responses): crossing an offer may take the
 * anchor a while, and a CANCEL or ACK must not overtake the INVITE it belongs
 * to. A message with nothing to cross passes synchronously.
 */
import type { Logger } from '../../../shared/logger.js'
import { buildCancel, callId, cseq } from '../../../shared/sip/sip-message.js'
import type { SipRequest, SipResponse } from '../../../shared/sip/sip-message.js'
import { respond } from '../../../shared/sip/responses.js'
import { dialogOf2xx, dialogOfAck, dialogRequest, nextSeq } from './call-legs.js'
import { ConfirmedDialogs } from './confirmed-dialogs.js'
import { createsDialog } from './dialog-routes.js'
import type { DialogRoutes } from './dialog-routes.js'
import type { GatewayMedia } from './gateway-media.js'
import type { GatewayFlow } from './gateway-types.js'
import { Lanes, thenMaybe } from './lanes.js'
import type { MaybePromise } from './lanes.js'
import { SdpCrossings, reason488 } from './sdp-crossing.js'

type OnResponse = (res: SipResponse) => void

/** Bound on Call-IDs with forks in flight whose dialog never ended. */
const MAX_FORKED = 10_000

/**
 * Forks of the overlay's dialog-creating INVITEs to this gateway's phones, by
 * Call-ID: how many are still waiting for a final response, and whether one
 * answered 2xx.
 */
class Forks {
  private readonly calls = new Map<string, { open: number; answered: boolean }>()

  opened(id: string): void {
    const call = this.calls.get(id)
    if (call != null) return void call.open++
    if (this.calls.size >= MAX_FORKED) {
      const oldest = this.calls.keys().next().value
      if (oldest !== undefined) this.calls.delete(oldest)
    }
    this.calls.set(id, { open: 1, answered: false })
  }

  answered(id: string): void {
    const call = this.calls.get(id)
    if (call == null) return
    call.open = Math.max(0, call.open - 1)
    call.answered = true
  }

  hasAnswer(id: string): boolean {
    return this.calls.get(id)?.answered === true
  }

  /** One fork failed: true when the call's media should end (no fork left, none answered). */
  failed(id: string): boolean {
    const call = this.calls.get(id)
    if (call == null) return true
    call.open = Math.max(0, call.open - 1)
    return call.open === 0 && !call.answered
  }

  ended(id: string): void {
    this.calls.delete(id)
  }
}

export interface MediaEdgeInit {
  media: GatewayMedia
  routes: DialogRoutes
  log: Logger
  /** Hand a request the gateway built to the router (its responses are not needed). */
  toOverlay(req: SipRequest): void
  /** Send a request to the phone at `contact` in a client transaction over `flow`. */
  toPhone(contact: string, req: SipRequest, flow: GatewayFlow, onResponse: OnResponse): void
  /** The gateway's `127.0.0.1:PORT`, for the Via of requests it originates. */
  sentBy(): string
}

/** A request from the phone, ready for the router, and where its responses go. */
export interface PhoneRequest {
  req: SipRequest
  reply: OnResponse
}

export class MediaEdge {
  private readonly sdp: SdpCrossings
  private readonly lanes: Lanes
  private readonly forks = new Forks()
  private readonly dialogs = new ConfirmedDialogs()
  private txSeq = 0

  constructor(private readonly init: MediaEdgeInit) {
    this.sdp = new SdpCrossings(init.media, init.log)
    this.lanes = new Lanes((err) => init.log.warn(`a message could not cross: ${String(err)}`))
  }

  /**
   * A request from a phone (authenticated; not REGISTER, not an ACK): resolves
   * with what to route, or undefined when the gateway has answered it itself.
   */
  fromPhone(
    req: SipRequest,
    flow: GatewayFlow,
    reply: OnResponse,
  ): Promise<PhoneRequest | undefined> {
    return this.lanes.value(laneOf(req), () => {
      this.init.routes.fromPhone(req)
      this.dialogs.saw(req, true)
      if (req.method === 'BYE' || req.method === 'CANCEL') this.sdp.end(callId(req))
      return thenMaybe(this.sdp.request(req, 'phone-to-overlay'), (crossed) => {
        if (!crossed.ok) {
          reply(respond(req, 488, 'Not Acceptable Here', [reason488(crossed.reason)]))
          if (createsDialog(req)) this.sdp.end(callId(req))
          return undefined
        }
        return { req: crossed.msg, reply: this.toPhoneResponses(crossed.msg, flow, reply) }
      })
    })
  }

  /** The ACK of a 2xx from a phone: resolves with the ACK to route. */
  ackFromPhone(ack: SipRequest, flow: GatewayFlow): Promise<SipRequest> {
    return this.lanes.value(laneOf(ack), () => {
      this.init.routes.fromPhone(ack)
      return thenMaybe(this.sdp.request(ack, 'phone-to-overlay'), (crossed) => {
        if (crossed.ok) return crossed.msg
        this.init.log.info(`the phone's answer in an ACK was refused: ${crossed.reason}`)
        this.sdp.end(callId(ack))
        const seq = nextSeq(ack)
        this.init.toOverlay(dialogRequest('BYE', dialogOfAck(ack, false), seq, this.via(flow)))
        if (crossed.callerTarget != null) {
          const bye = dialogRequest('BYE', dialogOfAck(ack, true, crossed.callerTarget), seq)
          this.init.toPhone(crossed.callerTarget, bye, flow, ignore)
        }
        return withoutBody(ack)
      })
    })
  }

  /** A request from the overlay for the phone bound at `contact`, reached over `flow`. */
  deliver(contact: string, req: SipRequest, flow: GatewayFlow, onResponse: OnResponse): void {
    this.lanes.run(laneOf(req), () => {
      this.dialogs.saw(req, false)
      // Once one fork answered, the router CANCELs the others (§16.7 step
      // 10): that CANCEL ends only its fork, not the answered call's media.
      if (req.method === 'BYE') this.endMedia(callId(req))
      if (req.method === 'CANCEL' && !this.forks.hasAnswer(callId(req))) this.endMedia(callId(req))
      if (req.method === 'INVITE' && createsDialog(req)) this.forks.opened(callId(req))
      return thenMaybe(this.sdp.request(req, 'overlay-to-phone'), (crossed) => {
        if (!crossed.ok) return this.refuseFromOverlay(contact, req, flow, onResponse, crossed)
        const out = this.init.routes.requestToPhone(crossed.msg, flow.transport)
        const responses =
          out.method === 'ACK' || out.method === 'CANCEL'
            ? onResponse
            : this.toOverlayResponses(contact, out, flow, onResponse)
        this.init.toPhone(contact, out, flow, responses)
      })
    })
  }

  private refuseFromOverlay(
    contact: string,
    req: SipRequest,
    flow: GatewayFlow,
    onResponse: OnResponse,
    refusal: { reason: string; callerTarget?: string },
  ): void {
    this.init.log.info(`refused an SDP ${req.method} from the overlay: ${refusal.reason}`)
    if (req.method !== 'ACK') {
      onResponse(respond(req, 488, 'Not Acceptable Here', [reason488(refusal.reason)]))
      if (createsDialog(req)) this.forkFailed(req)
      return
    }
    this.endMedia(callId(req))
    this.init.toPhone(contact, withoutBody(req), flow, ignore)
    const seq = nextSeq(req)
    this.init.toPhone(contact, dialogRequest('BYE', dialogOfAck(req, false), seq), flow, ignore)
    if (refusal.callerTarget != null) {
      const dialog = dialogOfAck(req, true, refusal.callerTarget)
      this.init.toOverlay(dialogRequest('BYE', dialog, seq, this.via(flow)))
    }
  }

  /** Responses from the overlay to the phone's `req`, in order. */
  private toPhoneResponses(req: SipRequest, flow: GatewayFlow, reply: OnResponse): OnResponse {
    let refused = false
    // Read now: the router turns the request's Contact into a GRUU on its way out.
    const phoneContact = req.headers.get('contact')
    return this.ordered((res) => {
      if (refused) {
        if (req.method === 'INVITE' && res.status >= 200 && res.status < 300)
          this.hangUpOverlay(req, res, flow)
        return
      }
      return thenMaybe(this.sdp.response(req, res, 'overlay-to-phone'), (crossed) => {
        if (!crossed.ok) {
          refused = true
          this.init.log.info(`refused the overlay's SDP in a ${res.status}: ${crossed.reason}`)
          reply(respond(req, 488, 'Not Acceptable Here', [reason488(crossed.reason)]))
          if (res.status >= 200) this.hangUpOverlay(req, res, flow)
          else if (req.method === 'INVITE') this.init.toOverlay(buildCancel(req))
          if (createsDialog(req)) this.sdp.end(callId(req))
          return
        }
        if (res.status >= 300 && createsDialog(req)) this.sdp.end(callId(req))
        if (isDialog2xx(req, res)) this.dialogs.phoneCalled(req, crossed.msg, flow, phoneContact)
        reply(this.init.routes.responseToPhone(req, crossed.msg, flow.transport))
      })
    })
  }

  /** Responses from the phone to the overlay's `req`, in order. */
  private toOverlayResponses(
    contact: string,
    req: SipRequest,
    flow: GatewayFlow,
    onResponse: OnResponse,
  ): OnResponse {
    let refused = false
    return this.ordered((res) => {
      this.init.routes.fromPhone(res)
      if (refused) {
        if (req.method === 'INVITE' && res.status >= 200 && res.status < 300)
          this.hangUpPhone(contact, req, res, flow)
        return
      }
      return thenMaybe(this.sdp.response(req, res, 'phone-to-overlay'), (crossed) => {
        if (!crossed.ok) {
          refused = true
          this.init.log.info(`refused the phone's SDP in a ${res.status}: ${crossed.reason}`)
          onResponse(respond(req, 488, 'Not Acceptable Here', [reason488(crossed.reason)]))
          if (res.status >= 200) this.hangUpPhone(contact, req, res, flow)
          else if (req.method === 'INVITE')
            this.init.toPhone(contact, buildCancel(req), flow, ignore)
          if (createsDialog(req)) this.forkFailed(req)
          return
        }
        if (createsDialog(req) && req.method === 'INVITE') {
          if (res.status >= 300) this.forkFailed(req)
          else if (res.status >= 200) this.forks.answered(callId(req))
        }
        if (isDialog2xx(req, res)) this.dialogs.phoneAnswered(req, crossed.msg, flow)
        onResponse(crossed.msg)
      })
    })
  }

  /**
   * The media anchor freed `id` on its own (no media for its idle timeout):
   * end the dialog at both ends with a BYE carrying `reason` (RFC 3326), each
   * speaking for the other party (confirmed-dialogs.ts). A call that never
   * got a 2xx has nothing to end here: its INVITE transaction times out.
   */
  hangUp(id: string, reason: string): void {
    this.lanes.run(`call ${id}`, () => {
      const d = this.dialogs.take(id)
      if (d == null) return
      this.endMedia(id)
      this.init.log.info(`ending call ${id} at both ends: ${reason}`)
      const toPhone = dialogRequest('BYE', d.phone, d.overlaySeq + 1, undefined, reason)
      this.init.toPhone(d.phone.uri, toPhone, d.flow, ignore)
      this.init.toOverlay(dialogRequest('BYE', d.overlay, d.phoneSeq + 1, this.via(d.flow), reason))
    })
  }

  /** One fork of the overlay's INVITE failed: the media ends with the last one, unless one answered. */
  private forkFailed(req: SipRequest): void {
    if (this.forks.failed(callId(req))) this.endMedia(callId(req))
  }

  private endMedia(id: string): void {
    this.forks.ended(id)
    this.sdp.end(id)
  }

  /** ACK and BYE a 2xx from the overlay that the phone will never see (§13.2.2.4). */
  private hangUpOverlay(req: SipRequest, ok: SipResponse, flow: GatewayFlow): void {
    const dialog = dialogOf2xx(req, ok)
    if (dialog == null) return
    const seq = cseq(req).seq
    this.init.toOverlay(dialogRequest('ACK', dialog, seq, this.via(flow)))
    this.init.toOverlay(dialogRequest('BYE', dialog, seq + 1, this.via(flow)))
  }

  /** ACK and BYE a phone's 2xx that the overlay will never see. */
  private hangUpPhone(contact: string, req: SipRequest, ok: SipResponse, flow: GatewayFlow): void {
    const dialog = dialogOf2xx(req, ok)
    if (dialog == null) return
    const seq = cseq(req).seq
    this.init.toPhone(contact, dialogRequest('ACK', dialog, seq), flow, ignore)
    this.init.toPhone(contact, dialogRequest('BYE', dialog, seq + 1), flow, ignore)
  }

  private via(flow: GatewayFlow): string {
    return `${flow.transport} ${this.init.sentBy()}`
  }

  /** Run `step` for each response in arrival order, even when crossing one takes a while. */
  private ordered(step: (res: SipResponse) => MaybePromise<void>): OnResponse {
    const lane = `tx ${++this.txSeq}`
    return (res) => this.lanes.run(lane, () => step(res))
  }
}

/** Requests of one dialog (one Call-ID) cross in order. */
function laneOf(req: SipRequest): string {
  return `call ${req.headers.get('call-id') ?? ''}`
}

/** A 2xx to an INVITE that creates a dialog (§12.1). */
function isDialog2xx(req: SipRequest, res: SipResponse): boolean {
  return req.method === 'INVITE' && createsDialog(req) && res.status >= 200 && res.status < 300
}

function withoutBody(req: SipRequest): SipRequest {
  const headers = req.headers.clone()
  headers.remove('content-type')
  return { ...req, headers, body: new Uint8Array(0) }
}

function ignore(): void {}
