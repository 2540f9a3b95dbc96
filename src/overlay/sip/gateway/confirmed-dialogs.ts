/**
 * Confirmed INVITE dialogs between a phone and the overlay, as the gateway
 * sees them, so that the gateway itself can end one: when the media anchor
 * frees a call whose media stopped (the far end vanished without a BYE, a
 * network died), both ends must learn the call is over rather than keep a
 * silent call up forever.
 *
 * The gateway is a proxy, so a BYE it originates speaks for one party toward
 * the other. It must look like that party's next request in the dialog
 * (RFC 3261 §12.2.1.1): the dialog's Call-ID and tags, the remote target as
 * Request-URI, and a CSeq above every one that party has sent, or the
 * receiver answers 500 (§12.2.2, "lower than the remote sequence number").
 * So each dialog keeps both legs' identifiers and the highest CSeq seen from
 * each side.
 */
import type { SipRequest, SipResponse } from '../../../shared/sip/sip-message.js'
import { callId, cseq, toTag } from '../../../shared/sip/sip-message.js'
import { extractUri } from '../local-registrar.js'
import type { DialogIds } from './call-legs.js'
import { dialogOf2xx } from './call-legs.js'
import type { GatewayFlow } from './gateway-types.js'

export interface ConfirmedDialog {
  /** The dialog toward the phone, seen from the overlay party (From is the overlay party). */
  phone: DialogIds
  /** The dialog toward the overlay, seen from the phone (From is the phone). */
  overlay: DialogIds
  /** The phone's flow when the dialog was confirmed. */
  flow: GatewayFlow
  /** Highest CSeq the phone has sent in the dialog (0: none). */
  phoneSeq: number
  /** Highest CSeq the overlay party has sent in the dialog (0: none). */
  overlaySeq: number
}

/** Bound on tracked dialogs: the oldest is forgotten first (it then simply ends by BYE as before). */
const MAX_DIALOGS = 10_000

export class ConfirmedDialogs {
  private readonly dialogs = new Map<string, ConfirmedDialog>()

  get size(): number {
    return this.dialogs.size
  }

  /**
   * A 2xx from the overlay to the phone's dialog-creating INVITE `invite`.
   * `contact`: the INVITE's Contact as the phone sent it (the router rewrites
   * the request's own into a GRUU on its way out).
   */
  phoneCalled(invite: SipRequest, ok: SipResponse, flow: GatewayFlow, contact?: string): void {
    const overlay = dialogOf2xx(invite, ok)
    if (overlay == null || contact == null) return
    const phone = {
      uri: extractUri(contact),
      from: overlay.to,
      to: overlay.from,
      callId: overlay.callId,
    }
    this.add({ phone, overlay, flow, phoneSeq: cseq(invite).seq, overlaySeq: 0 })
  }

  /** A 2xx from the phone to the overlay's dialog-creating INVITE `invite`. */
  phoneAnswered(invite: SipRequest, ok: SipResponse, flow: GatewayFlow): void {
    const phone = dialogOf2xx(invite, ok)
    const contact = invite.headers.get('contact')
    if (phone == null || contact == null) return
    const overlay = {
      uri: extractUri(contact),
      from: phone.to,
      to: phone.from,
      callId: phone.callId,
    }
    this.add({ phone, overlay, flow, phoneSeq: 0, overlaySeq: cseq(invite).seq })
  }

  /** An in-dialog request the phone sent (`fromPhone`) or the overlay sent toward it. */
  saw(req: SipRequest, fromPhone: boolean): void {
    if (toTag(req) == null || req.method === 'ACK' || req.method === 'CANCEL') return
    const d = this.dialogs.get(callId(req))
    if (d == null) return
    const seq = cseq(req).seq
    if (fromPhone) d.phoneSeq = Math.max(d.phoneSeq, seq)
    else d.overlaySeq = Math.max(d.overlaySeq, seq)
    if (req.method === 'BYE') this.dialogs.delete(callId(req))
  }

  /** Forget `id` and return what it was, to end it. */
  take(id: string): ConfirmedDialog | undefined {
    const d = this.dialogs.get(id)
    this.dialogs.delete(id)
    return d
  }

  private add(d: ConfirmedDialog): void {
    // A retransmitted 2xx (§13.3.1.4) confirms nothing new.
    if (this.dialogs.has(d.phone.callId)) return
    if (this.dialogs.size >= MAX_DIALOGS) {
      const oldest = this.dialogs.keys().next().value
      if (oldest !== undefined) this.dialogs.delete(oldest)
    }
    this.dialogs.set(d.phone.callId, d)
  }
}
