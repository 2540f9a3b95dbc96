/**
 * What the TURN server will relay: token buckets per allocation and direction (packets/s and
 * bytes/s) and one server-wide byte bucket for the operator's bandwidth cap, plus the cap on
 * concurrent allocations. RFC 8656 §21.3.1 (DoS against the TURN server): a client may flood its
 * allocation to starve the others, so the server limits what it relays per client and discards
 * the excess at once. Buckets are plain numbers refilled lazily when used: no timers, no Map, no
 * allocation on the per-packet path. Excess packets are dropped and counted (RelayCounters),
 * never queued.
 */
import { InvalidInputError } from '../../shared/errors.js'

/** A token bucket: `ratePerS` tokens per second, at most `burst` saved up. */
export class TokenBucket {
  private tokens: number
  private perMs: number
  private burst: number
  private at: number

  constructor(ratePerS: number, burst: number, now: number) {
    this.perMs = ratePerS / 1000
    this.burst = burst
    this.tokens = burst
    this.at = now
  }

  /** Take `n` tokens at `now` (ms); false (and nothing taken) when there are not enough. */
  take(n: number, now: number): boolean {
    let t = this.tokens
    if (now > this.at) {
      t += (now - this.at) * this.perMs
      if (t > this.burst) t = this.burst
      this.at = now
    }
    if (t < n) {
      this.tokens = t
      return false
    }
    this.tokens = t - n
    return true
  }

  /** Change rate and burst, keeping the tokens saved (capped at the new burst). */
  reset(ratePerS: number, burst: number): void {
    this.perMs = ratePerS / 1000
    this.burst = burst
    if (this.tokens > burst) this.tokens = burst
  }
}

/** Per-allocation limits, applied to each direction (client → peer, peer → client) apart. */
export interface AllocationLimits {
  /**
   * Send indications and ChannelData per second (client → peer), and Data indications and
   * ChannelData per second (peer → client).
   * @default 500 (an Opus call sends 50/s each way; a video call a few hundred)
   */
  packetsPerS?: number
  /**
   * Payload bytes per second.
   * @default 500_000 (4 Mbit/s; an Opus stream at 172 bytes every 20 ms is 8,600 B/s)
   */
  bytesPerS?: number
  /**
   * Bucket depth in seconds of rate: how long a burst above the rate may last.
   * @default 1
   */
  burstS?: number
}

/** Server-wide caps, changeable at runtime with TurnServer.setCaps. */
export interface RelayCaps {
  /**
   * Relayed payload, both directions together, in kbit/s (1 kbit = 1000 bits). 0: no relaying
   * (every packet is dropped and new Allocates get 508); Infinity: no cap.
   * @default 500_000 (500 Mbit/s: 3,600 Opus streams both ways)
   */
  relayKbps: number
  /**
   * Concurrent allocations (relayed calls). Past it new Allocates get 508; lowering it does not
   * end allocations in progress. 0: no new allocations.
   * @default 5000
   */
  maxAllocations: number
}

export const DEFAULT_RELAY_CAPS: RelayCaps = { relayKbps: 500_000, maxAllocations: 5000 }
const DEFAULT_PACKETS_PER_S = 500
const DEFAULT_BYTES_PER_S = 500_000
/** A bucket always holds at least one full-size datagram, so tiny caps still pass something. */
const MIN_BYTE_BURST = 1500

/** The two buckets of one direction of one allocation. */
export class DirectionLimit {
  readonly packets: TokenBucket
  readonly bytes: TokenBucket

  constructor(limits: Required<AllocationLimits>, now: number) {
    const { packetsPerS, bytesPerS, burstS } = limits
    this.packets = new TokenBucket(packetsPerS, Math.max(1, packetsPerS * burstS), now)
    this.bytes = new TokenBucket(bytesPerS, Math.max(MIN_BYTE_BURST, bytesPerS * burstS), now)
  }
}

export function allocationLimits(opts: AllocationLimits = {}): Required<AllocationLimits> {
  const out = {
    packetsPerS: opts.packetsPerS ?? DEFAULT_PACKETS_PER_S,
    bytesPerS: opts.bytesPerS ?? DEFAULT_BYTES_PER_S,
    burstS: opts.burstS ?? 1,
  }
  for (const [k, v] of Object.entries(out)) {
    if (!(v > 0)) throw new InvalidInputError(`allocation limit ${k} must be > 0, not ${v}`)
  }
  return out
}

/**
 * Per-allocation limits for `kbps` kbit/s each way (`--turn-allocation-kbps`): bytes/s at that
 * rate, and a packet per 1,000 bytes of it (at least the default 500: 4,000 kbit/s gives the
 * defaults), so a bulk transfer in full-size datagrams (~1,200 bytes) meets the byte limit
 * before the packet one.
 */
export function allocationLimitsForKbps(kbps: number): Required<AllocationLimits> {
  return allocationLimits({
    bytesPerS: kbps * 125,
    packetsPerS: Math.max(DEFAULT_PACKETS_PER_S, Math.ceil(kbps / 8)),
  })
}

/** The caps given (undefined ones left out), checked: numbers ≥ 0, Infinity allowed. */
function checkCaps(caps: Partial<RelayCaps>): Partial<RelayCaps> {
  const out: Partial<RelayCaps> = {}
  for (const k of ['relayKbps', 'maxAllocations'] as const) {
    const v = caps[k]
    if (v === undefined) continue
    if (typeof v !== 'number' || Number.isNaN(v) || v < 0) {
      throw new InvalidInputError(`TURN cap ${k} must be a number ≥ 0, not ${String(v)}`)
    }
    out[k] = v
  }
  return out
}

/** The server-wide caps and the shared bandwidth bucket. */
export class ServerCaps {
  private current: RelayCaps
  private readonly bucket: TokenBucket
  /** Cached `relayKbps === 0` for the per-packet path. */
  off = false
  /** Cached `relayKbps === Infinity`. */
  unlimited = false

  constructor(caps: Partial<RelayCaps>, now: number) {
    this.current = { ...DEFAULT_RELAY_CAPS, ...checkCaps(caps) }
    const { ratePerS, burst } = this.apply()
    this.bucket = new TokenBucket(ratePerS, burst, now)
  }

  get(): RelayCaps {
    return { ...this.current }
  }

  /** Change some caps; applies to the next packet and the next Allocate. */
  set(caps: Partial<RelayCaps>): void {
    this.current = { ...this.current, ...checkCaps(caps) }
    const { ratePerS, burst } = this.apply()
    this.bucket.reset(ratePerS, burst)
  }

  /** May a new allocation be made while `live` exist (or are being made)? */
  allocationAllowed(live: number): boolean {
    return !this.off && live < this.current.maxAllocations
  }

  /** Take `bytes` from the server-wide bucket. */
  takeBytes(bytes: number, now: number): boolean {
    return this.unlimited || this.bucket.take(bytes, now)
  }

  /** Update the cached flags; returns the shared bucket's rate and burst (bytes). */
  private apply(): { ratePerS: number; burst: number } {
    const kbps = this.current.relayKbps
    this.off = kbps === 0
    this.unlimited = kbps === Infinity
    const ratePerS = this.unlimited ? 0 : (kbps * 1000) / 8
    // One second of rate as burst: absorbs the 20 ms packet clock of thousands of streams.
    return { ratePerS, burst: Math.max(MIN_BYTE_BURST, ratePerS) }
  }
}
