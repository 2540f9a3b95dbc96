/**
 * The relay port an Allocate asks for (RFC 8656 §7.2; RFC 5766 §6.2): any port, an even one
 * (EVEN-PORT, RFC 8656 §18.7 / RFC 5766 §14.6), an even one N with N+1 reserved for a later
 * Allocate (EVEN-PORT with the R bit: RTP on N, RTCP on N+1), or the port an earlier such
 * Allocate reserved (RESERVATION-TOKEN, RFC 8656 §18.10 / RFC 5766 §14.9). planPort checks the
 * attribute combinations; bindEvenPair finds and binds the pair. The reservations themselves
 * live in relay-reservations.ts.
 */
import { RelayPortsExhaustedError, tryBind } from './allocation.js'
import type { RelayEndpoint } from './allocation.js'
import type { AddressFamily } from './stun-address.js'
import type { DecodedStunMessage } from './stun-message.js'
import { find } from './turn-helpers.js'

/** What an Allocate's EVEN-PORT and RESERVATION-TOKEN ask for. */
export type PortPlan =
  /** Refuse the Allocate with this error code. */
  | { code: number }
  /** The relay reserved under this token. */
  | { token: Uint8Array }
  /** A fresh relay port: even or not, and with N+1 reserved (R bit) or not. */
  | { even: boolean; reserve: boolean }

/**
 * RFC 8656 §7.2:
 * - RESERVATION-TOKEN together with EVEN-PORT, REQUESTED-ADDRESS-FAMILY or
 *   ADDITIONAL-ADDRESS-FAMILY: 400 (the token already names the address, family included);
 * - EVEN-PORT with the R bit together with ADDITIONAL-ADDRESS-FAMILY: 400 (a dual allocation
 *   has no single port N+1 to reserve).
 * Whether the token is valid (known, unexpired) is decided when it is claimed (508).
 */
export function planPort(req: DecodedStunMessage): PortPlan {
  const even = find(req, 'EVEN-PORT')
  const token = find(req, 'RESERVATION-TOKEN')
  const additional = find(req, 'ADDITIONAL-ADDRESS-FAMILY') !== undefined
  if (token !== undefined) {
    const requested = find(req, 'REQUESTED-ADDRESS-FAMILY') !== undefined
    if (even !== undefined || requested || additional) return { code: 400 }
    return { token: token.value }
  }
  if (even?.value === true && additional) return { code: 400 }
  return { even: even !== undefined, reserve: even?.value === true }
}

/** An even relay port N and the N+1 beside it, both bound (RFC 8656 §7.2, R bit). */
export interface EvenPair {
  even: RelayEndpoint
  next: RelayEndpoint
}

/**
 * Bind a socket of `family` on host to an even port N of `range` and another to N+1 (both in the
 * range, neither in `inUse`). Starts at a random even offset so relay ports are not trivially
 * predictable (RFC 8656 §7.2). Throws RelayPortsExhaustedError when no such pair is free,
 * RelayBindError when the address cannot be bound at all; nothing stays bound then.
 */
export async function bindEvenPair(
  host: string,
  range: readonly [number, number],
  inUse: ReadonlySet<number>,
  family: AddressFamily,
): Promise<EvenPair> {
  const first = range[0] + (range[0] % 2)
  const pairs = Math.max(0, Math.floor((range[1] - first - 1) / 2) + 1)
  const start = Math.floor(Math.random() * pairs)
  for (let i = 0; i < pairs; i++) {
    const port = first + 2 * ((start + i) % pairs)
    if (inUse.has(port) || inUse.has(port + 1)) continue
    const low = await tryBind(host, port, family)
    if (low === undefined) continue
    let high
    try {
      high = await tryBind(host, port + 1, family)
    } catch (e) {
      low.close()
      throw e
    }
    if (high === undefined) {
      low.close()
      continue
    }
    return { even: { family, socket: low, port }, next: { family, socket: high, port: port + 1 } }
  }
  throw new RelayPortsExhaustedError(range)
}
