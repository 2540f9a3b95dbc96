/**
 * Which supernodes a client attaches to (its DHT servers, relay reservations,
 * TURN and mailbox). Clients keep their supernodes while those serve well:
 * every move costs a new relay reservation and a republished contact record.
 * They replace a supernode that left or is stepping down (that is the handoff:
 * a stepping-down supernode keeps serving until its clients have moved), fill
 * up to CLIENT_ATTACHMENTS, and move off a crowded one when a lighter one is
 * known. New picks go to the least-loaded known supernodes.
 */
import { CLIENT_ATTACHMENTS, loadOf, type LoadReport } from './load-report.js'

/**
 * A client moves off a supernode carrying more than this times its target,
 * when a supernode below target is known. Far above PROMOTE_ABOVE_LOAD, so
 * balanced networks see no moves; after a burst of promotions (a cold start)
 * it spreads the crowd onto the new supernodes.
 *
 * @default 1.5
 */
export const SHED_ABOVE_LOAD = 1.5

/** A known supernode as the client sees it: its id and its latest report. */
export type SupernodeView<Id> = Pick<LoadReport, 'clients' | 'target' | 'steppingDown'> & {
  id: Id
}

export interface AttachmentInput<Id> {
  /** Supernodes the client is attached to now. */
  current: readonly Id[]
  /**
   * Live supernodes the client knows, with their reports: its current ones plus
   * a sample of others. A current supernode missing here is treated as gone.
   */
  known: readonly SupernodeView<Id>[]
  /** Uniform in [0, 1), fresh for every call; decides whether to leave a crowded one. */
  random: number
  /** @default CLIENT_ATTACHMENTS */
  count?: number
}

export interface AttachmentPlan<Id> {
  /** Current supernodes to keep. */
  keep: Id[]
  /** Supernodes to attach to now, least loaded first. */
  attach: Id[]
  /** Current supernodes to detach from (gone, stepping down, or shed). */
  detach: Id[]
}

/**
 * Plan the client's attachments. A stepping-down supernode is kept only while
 * no other supernode is known, so no client is ever left with none.
 */
export function chooseSupernodes<Id>(input: AttachmentInput<Id>): AttachmentPlan<Id> {
  const count = input.count ?? CLIENT_ATTACHMENTS
  const byId = new Map<Id, SupernodeView<Id>>()
  for (const s of input.known) byId.set(s.id, s)

  const keep: Id[] = []
  const detach: Id[] = []
  const draining: Id[] = []
  for (const id of input.current) {
    // A duplicate in `current` is one attachment, already handled.
    if (keep.includes(id) || draining.includes(id) || detach.includes(id)) continue
    const s = byId.get(id)
    if (s == null) detach.push(id)
    else if (s.steppingDown) draining.push(id)
    else if (keep.length < count) keep.push(id)
    else detach.push(id)
  }

  // Lightest first; ties keep the order of `known` (the caller's sample order).
  const others = [...byId.values()]
    .filter((s) => !s.steppingDown && !keep.includes(s.id) && !draining.includes(s.id))
    .sort((a, b) => loadOf(a) - loadOf(b))

  shedCrowded(keep, detach, byId, others[0], input.random)

  const attach: Id[] = []
  for (const s of others) {
    if (keep.length + attach.length >= count) break
    attach.push(s.id)
  }
  // The handoff: leave stepping-down supernodes once there is anything else.
  if (keep.length + attach.length > 0) detach.push(...draining)
  else keep.push(...draining.slice(0, count))
  return { keep, attach, detach }
}

/**
 * Leave at most one crowded supernode per call, with probability (L − 1)/L at
 * load L, so that on average its clients above target move and the rest stay:
 * all of them moving at once would only crowd the next one.
 */
function shedCrowded<Id>(
  keep: Id[],
  detach: Id[],
  byId: ReadonlyMap<Id, SupernodeView<Id>>,
  lightest: SupernodeView<Id> | undefined,
  random: number,
): void {
  if (lightest == null || loadOf(lightest) >= 1) return
  let worst = -1
  let worstLoad = SHED_ABOVE_LOAD
  for (const [i, id] of keep.entries()) {
    const s = byId.get(id)
    const load = s == null ? 0 : loadOf(s)
    if (load > worstLoad) {
      worst = i
      worstLoad = load
    }
  }
  if (worst < 0 || !(random < (worstLoad - 1) / worstLoad)) return
  detach.push(...keep.splice(worst, 1))
}
