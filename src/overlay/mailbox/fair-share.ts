/**
 * Which stored mail to evict so that a new mail fits, under max-min fairness
 * between sender names. Pure; the MailboxStore applies it twice: inside one
 * recipient's mailbox (cost in slots) and across the whole store (cost in
 * bytes).
 *
 * Why this rule: senders are user IDs whose key the supernode verified, but
 * claiming a name is cheap, so a flood can come from many throwaway names.
 * First come, first served would let them fill a recipient's mailbox and keep
 * every real contact out ("could not be stored"). Here a new mail from S may
 * evict the newest mail of the sender V that holds the most, but only while V
 * holds strictly more than S will hold after storing it:
 *
 *   usage(V) > usage(S) + cost(new mail)
 *
 * So shares converge to equal, and:
 * - a sender holding one small mail can never be evicted by anyone (no
 *   newcomer can end up holding less), so mail that got in stays until it is
 *   collected, deleted or expires;
 * - a newcomer (a real contact) gets in as long as some sender holds more than
 *   it would, which a flood of N names cannot prevent unless each of them
 *   holds no more than one mail's worth, i.e. until N reaches the capacity
 *   (200 names per mailbox at the defaults, each with a live claim, each
 *   paying its own per-name rate limit);
 * - the one who floods pays: the largest holder loses its newest mail first.
 *   Ties go against the sender whose newest mail arrived last (the newest
 *   arrival), so a burst from fresh names does not displace earlier senders.
 */

export interface Holding<T> {
  /** Sender user ID ('' for mail stored before senders were recorded). */
  sender: string
  /** What this mail uses of the capacity (slots or bytes), > 0. */
  cost: number
  /** When it arrived (ms); the newest of a sender's mail goes first. */
  at: number
  ref: T
}

interface SenderState<T> {
  usage: number
  /** Newest first. */
  mails: Array<Holding<T>>
}

/**
 * The mail to evict, newest-of-largest-holder first, so that `cost` fits in
 * `free` more capacity; `[]` when it fits already, null when fairness forbids
 * (the new mail is refused). `holdings` are the mail currently stored in the
 * scope (one mailbox, or the whole store); `excluded` are refs already chosen
 * for eviction by an earlier plan.
 */
export function planEviction<T>(
  holdings: Iterable<Holding<T>>,
  sender: string,
  cost: number,
  free: number,
  excluded: ReadonlySet<T> = new Set(),
): T[] | null {
  if (cost <= free) return []
  const senders = new Map<string, SenderState<T>>()
  for (const h of holdings) {
    if (excluded.has(h.ref)) continue
    const s = senders.get(h.sender) ?? { usage: 0, mails: [] }
    s.usage += h.cost
    s.mails.push(h)
    senders.set(h.sender, s)
  }
  for (const s of senders.values()) s.mails.sort((a, b) => b.at - a.at)
  const own = senders.get(sender)?.usage ?? 0
  const victims: T[] = []
  let need = cost - free
  while (need > 0) {
    const victim = largestOther(senders, sender)
    if (victim === undefined || victim.usage <= own + cost) return null
    const mail = victim.mails.shift()!
    victim.usage -= mail.cost
    need -= mail.cost
    victims.push(mail.ref)
  }
  return victims
}

/** The sender (other than `self`) holding the most; ties to the newest arrival. */
function largestOther<T>(
  senders: Map<string, SenderState<T>>,
  self: string,
): SenderState<T> | undefined {
  let best: SenderState<T> | undefined
  for (const [name, s] of senders) {
    if (name === self || s.mails.length === 0) continue
    if (
      best === undefined ||
      s.usage > best.usage ||
      (s.usage === best.usage && s.mails[0]!.at > best.mails[0]!.at)
    ) {
      best = s
    }
  }
  return best
}
