/** A finished call as the node's call history keeps it (`callLog`). */
import type { CallRecordJson, MediaPath } from '../../shared/api/contract.js'
import type { MediaAnchorKind } from '../../shared/sip/media-anchor.js'
import type { CallEnd } from '../sip/call-session.js'

/**
 * A row of the call history: the node's record, which carries where the far
 * end's media was anchored (`anchor`, kept by the node's call log since its
 * stored v3). Calls the node did not log (it was unreachable) come from this
 * session alone.
 */
export type CallHistoryEntry = CallRecordJson & { anchor?: MediaAnchorKind }

export interface FinishedCall {
  id: string
  peer: string
  direction: 'in' | 'out'
  end: CallEnd
  startedAt: number
  answeredAt: number | undefined
  endedAt: number
  path: MediaPath
}

export function callRecord(c: FinishedCall): CallRecordJson | undefined {
  if (c.peer === '' || c.id === '') return undefined
  return {
    id: c.id.slice(0, 128),
    peer: c.peer.slice(0, 80),
    direction: c.direction,
    // An answered call that then failed still counts as answered.
    outcome: c.answeredAt != null ? 'answered' : c.end.outcome,
    startedAt: new Date(c.startedAt).toISOString(),
    answeredAt: c.answeredAt != null ? new Date(c.answeredAt).toISOString() : null,
    endedAt: new Date(c.endedAt).toISOString(),
    path: c.path,
  }
}

/**
 * Newest first, one entry per id (the node's copy wins over the local one,
 * keeping an anchor this session saw if the node's copy lacks it).
 */
export function mergeCallHistory(
  fromNode: CallHistoryEntry[],
  local: CallHistoryEntry[],
): CallHistoryEntry[] {
  const byId = new Map<string, CallHistoryEntry>()
  for (const r of local) byId.set(r.id, r)
  for (const r of fromNode) {
    const anchor = r.anchor ?? byId.get(r.id)?.anchor
    byId.set(r.id, anchor != null ? { ...r, anchor } : r)
  }
  return [...byId.values()].sort((a, b) => b.startedAt.localeCompare(a.startedAt))
}
