/**
 * One conversation as shown: the node's history (the truth, with ids) plus
 * messages this UI sent that the node's history does not show yet. A sent
 * message leaves the local list once the node lists the same text, sent by
 * us, around the same time; one still being sent always stays.
 */
import type { StoredMessageJson } from '../../shared/api/contract.js'

export type LocalStatus = 'sending' | 'delivered' | 'stored' | 'failed'

export interface LocalMessage {
  localId: string
  peer: string
  text: string
  /** ISO date. */
  date: string
  status: LocalStatus
  /** What to tell the user (failed, stored for later). */
  note?: string
}

export type ShownMessage =
  { kind: 'node'; message: StoredMessageJson } | { kind: 'local'; message: LocalMessage }

/** How far apart the UI's clock stamp and the node's may be for the same message. */
const SAME_MESSAGE_MS = 2 * 60_000

export function settledLocal(history: StoredMessageJson[], local: LocalMessage[]): LocalMessage[] {
  const used = new Set<string>()
  return local.filter((l) => {
    if (l.status === 'sending') return true
    const at = Date.parse(l.date)
    const match = history.find(
      (m) =>
        !used.has(m.id) &&
        m.direction === 'out' &&
        m.text === l.text &&
        Math.abs(Date.parse(m.date) - at) < SAME_MESSAGE_MS,
    )
    if (match == null) return true
    used.add(match.id)
    return false
  })
}

/** The node's messages and the local ones still pending, oldest first. */
export function mergeThread(history: StoredMessageJson[], local: LocalMessage[]): ShownMessage[] {
  const shown: ShownMessage[] = [
    ...history.map((message) => ({ kind: 'node' as const, message })),
    ...settledLocal(history, local).map((message) => ({ kind: 'local' as const, message })),
  ]
  return shown.sort((a, b) => a.message.date.localeCompare(b.message.date))
}

/** Insert or replace by id, keeping date order. */
export function upsertMessage(
  list: StoredMessageJson[],
  m: StoredMessageJson,
): StoredMessageJson[] {
  const rest = list.filter((x) => x.id !== m.id)
  return [...rest, m].sort((a, b) => a.date.localeCompare(b.date))
}
