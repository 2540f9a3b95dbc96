/**
 * How a MESSAGE (RFC 3428) that crossed the router is filed in the node's
 * history: incoming ones with their verification state (RFC 8224), kept apart
 * when the key is not the pinned one; outgoing ones with their outcome. Each
 * filed message is then handed to account sync (`filed`), with its Call-ID,
 * so the account's other devices file it too (issue 15 §3).
 */
import { isGroupContentType } from '../../shared/groups/group-wire.js'
import {
  IDENTITY_STATE_HEADER,
  parseState,
  unverifiedPeer,
} from '../../shared/identity/verification-state.js'
import { extractUri } from './local-registrar.js'
import type { MessageHistory, StoredMessage } from './message-history.js'
import type { MessageEvent } from './sip-router-types.js'

export async function fileMessage(
  ev: MessageEvent,
  history: Pick<MessageHistory, 'add'>,
  filed?: (msg: StoredMessage, callId: string) => void,
): Promise<void> {
  const req = ev.request
  // A group's per-member copies are kept by the group store, not as one-to-one messages.
  if (isGroupContentType(req.headers.get('content-type'))) return
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
  let stored: StoredMessage
  if (ev.direction === 'in') {
    // Set by this node after verification (any copy from the sender is stripped).
    const sender = parseState(req.headers.get(IDENTITY_STATE_HEADER))
    const verification =
      sender == null ? {} : { verification: sender.state, fingerprint: sender.fingerprint }
    // A key other than the pinned one is never filed in the pinned contact's
    // thread: its peer is not a SIP URI, so neither the API nor the UI maps
    // it to the contact's user ID (both group by the URI's user part).
    const peer =
      sender?.state === 'mismatch' ? unverifiedPeer(userOf(from), sender.fingerprint) : from
    stored = await history.add({
      ...base,
      direction: 'in',
      peer,
      status: 'received',
      ...verification,
    })
  } else {
    const status = ev.status === 202 ? 'stored' : ev.status < 300 ? 'delivered' : 'failed'
    stored = await history.add({ ...base, direction: 'out', peer: to, status })
  }
  filed?.(stored, req.headers.get('call-id') ?? stored.id)
}

/** The user part of `sip:alice@kaiwa`, or the whole string when it has none. */
export function userOf(uri: string): string {
  return /^sips?:([^@;>]+)@/i.exec(uri)?.[1] ?? uri
}

function toIso(date: string | undefined): string {
  const t = date == null ? NaN : Date.parse(date)
  return new Date(Number.isNaN(t) ? Date.now() : t).toISOString()
}
