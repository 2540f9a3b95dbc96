/**
 * The note that says where a call's encryption ends when the far end is a
 * SIP phone anchored at its node (call/call-encryption.ts has the words).
 * Shown in the call panel and the incoming-call dialog, so the user knows
 * before and while they talk.
 */
import type { MediaAnchorKind } from '../../shared/sip/media-anchor.js'
import { anchorNote } from '../call/call-encryption.js'

export function AnchorNote(props: { anchor: MediaAnchorKind | undefined; peer: string }) {
  const text = anchorNote(props.anchor, props.peer)
  if (text === undefined) return null
  return (
    <p className="call-anchor" role="note">
      {text}
    </p>
  )
}
