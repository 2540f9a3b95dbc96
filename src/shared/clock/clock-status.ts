/**
 * What the user is told about their own clock, from the offsets measured
 * against the supernodes this node is connected to (the `clock` field of the
 * node status).
 */
import { medianOffset } from './clock-offset.js'
import { ALLOWED_SKEW_MS, MAX_PEER_SKEW_MS, WARN_OWN_SKEW_MS } from './clock-limits.js'

export type ClockState = 'ok' | 'warn' | 'unknown'

export interface ClockStatus {
  /** unknown: no supernode measured yet. */
  state: ClockState
  /**
   * Own clock minus the network's (the median peer), in ms: positive when
   * this node's clock is fast. Null while unknown.
   */
  offsetMs: number | null
  /** How many peers the median is over. */
  samples: number
  /** One sentence for the user; when the state is warn, it says how to fix it. */
  message: string
}

export interface ClockStatusOptions {
  /** @default WARN_OWN_SKEW_MS */
  warnMs?: number
}

const FIX = 'turn on automatic time (NTP) in your system settings'

/**
 * The status for `peerOffsets` (each measured peer's latest offset, peer clock
 * minus own clock, as `estimateOffset` gives them).
 */
export function clockStatus(
  peerOffsets: readonly number[],
  opts: ClockStatusOptions = {},
): ClockStatus {
  const warnMs = opts.warnMs ?? WARN_OWN_SKEW_MS
  const median = medianOffset(peerOffsets)
  const samples = peerOffsets.filter((x) => Number.isFinite(x)).length
  if (median === undefined) {
    return {
      state: 'unknown',
      offsetMs: null,
      samples: 0,
      message: 'Clock not checked yet: no supernode has answered a time request.',
    }
  }
  // The peers are ahead by `median`, so this node is behind by as much.
  const own = median === 0 ? 0 : -median
  const basis = samples === 1 ? '1 supernode' : `${samples} supernodes`
  if (Math.abs(own) <= warnMs) {
    return {
      state: 'ok',
      offsetMs: own,
      samples,
      message: `Your clock agrees with the network (within ${formatDuration(Math.abs(own))}, ${basis}).`,
    }
  }
  const how = `${formatDuration(Math.abs(own))} ${own > 0 ? 'fast' : 'slow'}`
  const impact =
    Math.abs(own) > MAX_PEER_SKEW_MS
      ? 'other nodes refuse calls from a clock this far off'
      : Math.abs(own) > ALLOWED_SKEW_MS
        ? 'your contact record and calls will fail their time checks'
        : `calls and messages will start to fail past ${formatDuration(ALLOWED_SKEW_MS)}`
  return {
    state: 'warn',
    offsetMs: own,
    samples,
    message: `Your clock is ${how} compared with the network (${basis}); ${impact}. To fix it, ${FIX}.`,
  }
}

/**
 * A duration for people: "45 s", "7 min", "2 h 5 min", "3 days". Rounded to
 * the unit shown; sub-second amounts read "0 s".
 */
export function formatDuration(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000)
  if (s < 60) return `${s} s`
  const min = Math.round(s / 60)
  if (min < 60) return `${min} min`
  const h = Math.floor(min / 60)
  const rest = min % 60
  if (h < 48) return rest === 0 ? `${h} h` : `${h} h ${rest} min`
  return `${Math.round(h / 24)} days`
}
