/**
 * The SIP bridge: how the UI's SIP user agent (sip.js in Chromium) talks SIP
 * to its node. It rides on the control API's WebSocket (`/api/v1/ws`, the same
 * token-protected socket as `{id, method, params}` requests and events), so
 * there is no second port and no second credential.
 *
 * Frames are JSON text, in both directions:
 *
 *     { "sip": "<one complete raw SIP message>" }
 *
 * - One frame carries exactly one SIP request or response (RFC 3261 §7), with a
 *   correct Content-Length; at most MAX_SIP_FRAME_CHARS characters (64 KiB).
 * - Each authenticated socket is one local user agent of the node. Requests
 *   it sends are routed by the node (REGISTER binds its Contact to this very
 *   socket); responses it sends answer requests the node delivered to it.
 *   Requests for the UA (e.g. an incoming MESSAGE) and responses to its own
 *   requests arrive on the same socket.
 * - The node adds no Via: the UA sees exactly the Via it sent.
 * - A request the node cannot parse is answered with a SIP 400 on the socket
 *   when it can be (it had a Via and a CSeq); anything else unparsable is
 *   dropped. A `{sip}` frame that is not a string within the limit draws an
 *   API error frame `{id: -1, error: {code: 'invalid_input', ...}}`.
 * - When the socket closes, the node removes the bindings it registered and
 *   fails the requests still waiting for its answer (480).
 * - Other frames on the socket (API replies, events) are not SIP frames; a
 *   bridge client ignores them.
 */
import { z } from 'zod'

/** Largest SIP message in one frame, in characters (the node also checks 64 KiB of bytes). */
export const MAX_SIP_FRAME_CHARS = 64 * 1024

export const SipFrameSchema = z.object({ sip: z.string().min(1).max(MAX_SIP_FRAME_CHARS) }).strict()
export type SipFrame = z.infer<typeof SipFrameSchema>

/** True for frames meant for the SIP bridge (valid or not): objects with a `sip` member. */
export function isSipFrame(json: unknown): boolean {
  return typeof json === 'object' && json !== null && !Array.isArray(json) && 'sip' in json
}

export function encodeSipFrame(raw: string): string {
  return JSON.stringify({ sip: raw } satisfies SipFrame)
}

/** The SIP text of a frame received as WebSocket text, or undefined for any other frame. */
export function decodeSipFrame(text: string): string | undefined {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!isSipFrame(json)) return undefined
  const frame = SipFrameSchema.safeParse(json)
  return frame.success ? frame.data.sip : undefined
}
