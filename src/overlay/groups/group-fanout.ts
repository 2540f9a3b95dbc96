/**
 * Sending one group body to many members (issue 15 §2): one SIP MESSAGE per
 * member, all at once. A member whose node does not know the group yet, or
 * not this member list (403 Unknown group / Not a group member), gets the
 * group's log and then the body once more; a 202 means the router sealed it
 * into the member's mailbox (RFC 3428 offline mail, sealed-mail.ts).
 */
import type { Logger } from '../../shared/logger.js'
import { encodeGroupWire } from '../../shared/groups/group-wire.js'
import { NOT_A_MEMBER, UNKNOWN_GROUP } from './group-inbound.js'
import type { Verdict } from './group-inbound.js'
import { encodeLog } from './group-store.js'
import type { Group } from './group-store.js'

/** How one body fared with each member. */
export interface FanOut {
  delivered: string[]
  stored: string[]
  failed: Array<{ member: string; reason: string }>
}

export type SendBody = (to: string, body: string) => Promise<Verdict>

export async function fanOut(
  send: SendBody,
  to: readonly string[],
  body: string,
  logFirst: string | undefined,
  log: Logger,
): Promise<FanOut> {
  const out: FanOut = { delivered: [], stored: [], failed: [] }
  await Promise.all(
    to.map(async (member) => {
      let v = await send(member, body).catch(errVerdict)
      const stale =
        v.status === NOT_A_MEMBER.status &&
        (v.reason === NOT_A_MEMBER.reason || v.reason === UNKNOWN_GROUP.reason)
      if (stale && logFirst != null) {
        const l = await send(member, logFirst).catch(errVerdict)
        if (l.status < 300) v = await send(member, body).catch(errVerdict)
      }
      if (v.status === 202) out.stored.push(member)
      else if (v.status < 300) out.delivered.push(member)
      else out.failed.push({ member, reason: `${v.status} ${v.reason}` })
    }),
  )
  for (const f of out.failed) log.info(`group send to ${f.member} failed: ${f.reason}`)
  out.delivered.sort()
  out.stored.sort()
  out.failed.sort((a, b) => a.member.localeCompare(b.member))
  return out
}

/** The group's whole membership log as a group body (group-wire.ts). */
export function logBody(group: Group): string {
  return encodeGroupWire({
    kaiwaGroup: 1,
    type: 'log',
    group: group.state.id,
    entries: encodeLog(group.log),
  })
}

function errVerdict(err: unknown): Verdict {
  return { status: 500, reason: err instanceof Error ? err.message : String(err) }
}
