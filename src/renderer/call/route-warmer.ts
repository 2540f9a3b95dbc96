/**
 * Look a user ID up and open links to its devices (the node's `prepareCall`)
 * before the user presses Call, once they have shown which ID they mean.
 *
 * Why: a first call to someone spends most of its dial → ringing time in the
 * overlay: a DHT lookup of their record and a new encrypted link to each of
 * their devices (docs/benchmarks.md, bench:call). Started at the click, the
 * INVITE waits for both; started when the ID is complete, they are done
 * before the click, and the INVITE finds the route cached.
 *
 * When an ID counts as meant:
 * - at once: it was pasted, picked or filled in whole (one input event that
 *   inserts more than one character), or the pointer is on Call;
 * - typed key by key: after a pause of `pauseMs`, so the IDs a user passes
 *   through while typing ("b", "bo", "bob") are not looked up.
 * Only a syntactically valid ID is prepared, each at most once per `freshMs`
 * (the node keeps the route; asking again would be a wasted round trip).
 * What it costs: the lookup any call makes, and an idle libp2p link to the
 * devices of an ID the user may not call after all; no SIP request is sent
 * before the click.
 */
import { normalizeUserId } from '../../shared/user-id.js'

export type PrepareWhen = 'now' | 'pause'

export interface RouteWarmerOptions {
  /** Warm the route to `peer` (the bridge's `prepareCall`). */
  prepare: (peer: string) => Promise<unknown>
  /** @default 400 */
  pauseMs?: number
  /** @default 15_000 */
  freshMs?: number
  /** @default Date.now */
  now?: () => number
}

export class RouteWarmer {
  private timer: ReturnType<typeof setTimeout> | undefined
  private last: { peer: string; at: number } | undefined
  private readonly pauseMs: number
  private readonly freshMs: number
  private readonly now: () => number

  constructor(private readonly opts: RouteWarmerOptions) {
    this.pauseMs = opts.pauseMs ?? 400
    this.freshMs = opts.freshMs ?? 15_000
    this.now = opts.now ?? Date.now
  }

  /** The dial box holds `input`; prepare it now, or once typing pauses. */
  want(input: string, when: PrepareWhen): void {
    this.cancel()
    const peer = userIdOrUndefined(input)
    if (peer == null) return
    if (when === 'now') return this.go(peer)
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.go(peer)
    }, this.pauseMs)
  }

  /** Prepare `peer` unless that was done within `freshMs`. Never throws. */
  go(peer: string): void {
    this.cancel()
    const now = this.now()
    if (this.last?.peer === peer && now - this.last.at < this.freshMs) return
    this.last = { peer, at: now }
    this.opts.prepare(peer).catch(() => {
      // A failed prepare is not a failed call: the INVITE routes itself. Try again next time.
      if (this.last?.peer === peer) this.last = undefined
    })
  }

  /** Stop a pending prepare (the box changed, a call started). */
  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }
}

function userIdOrUndefined(input: string): string | undefined {
  try {
    return normalizeUserId(input)
  } catch {
    return undefined
  }
}

/**
 * How an input event changed the dial box: more than one character at once
 * (a paste, a pick from autocomplete, a fill) is an ID entered whole.
 */
export function whenForInput(
  ev: { inputType?: string; data?: string | null } | undefined,
): PrepareWhen {
  if (ev == null) return 'pause'
  if (ev.inputType === 'insertFromPaste' || ev.inputType === 'insertReplacementText') return 'now'
  return (ev.data?.length ?? 0) > 1 ? 'now' : 'pause'
}
