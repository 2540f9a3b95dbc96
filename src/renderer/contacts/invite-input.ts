/**
 * What the user pasted into "Join with an invite": checked here for shape
 * (so a contact link or a clipped paste gets a helpful word at once), then
 * verified by the node (`joinInvite`: signature and expiry), which alone
 * decides. The link format is src/shared/invite/invite-link.ts.
 */
import { InvalidInviteError } from '../../shared/invite/invite-errors.js'
import type { InviteRefusal } from '../../shared/invite/invite-errors.js'
import { decodeInviteLink } from '../../shared/invite/invite-link.js'

export type InviteInput =
  | { ok: true; link: string; name: string; supernodes: number }
  | { ok: false; error: InviteRefusal | 'empty' }

export function checkInviteInput(input: string): InviteInput {
  // Chat apps and mail wrap long links: whitespace is never part of one.
  const link = input.replace(/\s+/g, '')
  if (link === '') return { ok: false, error: 'empty' }
  try {
    const invite = decodeInviteLink(link)
    return { ok: true, link, name: invite.name, supernodes: invite.supernodes.length }
  } catch (err) {
    if (err instanceof InvalidInviteError) return { ok: false, error: err.reason }
    throw err
  }
}
