/** A finished call as the node's call history keeps it (`callLog`). */
import type { CallRecordJson, MediaPath } from '../../shared/api/contract.js'
import type { CallEnd } from '../sip/call-session.js'

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

/** Newest first, one entry per id (the node's copy wins over the local one). */
export function mergeCallHistory(
  fromNode: CallRecordJson[],
  local: CallRecordJson[],
): CallRecordJson[] {
  const byId = new Map<string, CallRecordJson>()
  for (const r of local) byId.set(r.id, r)
  for (const r of fromNode) byId.set(r.id, r)
  return [...byId.values()].sort((a, b) => b.startedAt.localeCompare(a.startedAt))
}
