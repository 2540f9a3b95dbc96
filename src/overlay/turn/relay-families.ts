/**
 * Which relayed address families an Allocate asks for, and which of them this server can give
 * (RFC 8656 §7.2). REQUESTED-ADDRESS-FAMILY picks one family (absent: IPv4);
 * ADDITIONAL-ADDRESS-FAMILY (IPv6 only) asks for an IPv6 relayed address beside the IPv4 one, a
 * "dual allocation". planFamilies decides; bindRelays binds the sockets the plan asks for.
 */
import { isIPv6 } from 'node:net'
import { RelayBindError, RelayPortsExhaustedError, bindRelaySocket } from './allocation.js'
import type { RelayEndpoint } from './allocation.js'
import type { AddressFamily } from './stun-address.js'
import type { DecodedStunMessage, StunAttribute } from './stun-message.js'
import { find } from './turn-helpers.js'

/** Where relay sockets of each family bind, and the address announced for them. */
export interface RelayHost {
  /** Bind address of the relay sockets (`0.0.0.0` or `::` for all). */
  bind: string
  /** The address put in XOR-RELAYED-ADDRESS (RFC 8656 §7.3); a wildcard bind needs one. */
  announced: () => string
}

export type RelayHosts = Partial<Record<AddressFamily, RelayHost>>

/** The answer to an Allocate's family attributes. */
export type FamilyPlan =
  /** Refuse the Allocate with this error code. */
  | { code: number }
  /**
   * Allocate relays of these families (IPv4 first). `missing`: the IPv6 half of a dual
   * allocation the server cannot give, reported in ADDRESS-ERROR-CODE instead of failing.
   */
  | { families: AddressFamily[]; missing?: AddressFamily }

/**
 * RFC 8656 §7.2:
 * - REQUESTED-ADDRESS-FAMILY together with ADDITIONAL-ADDRESS-FAMILY: 400;
 * - ADDITIONAL-ADDRESS-FAMILY with IPv4, the only other value: 400 ("0x02 (IPv6 address) is the
 *   only valid value");
 * - a requested family (IPv4 when absent) the server has no address of: 440;
 * - a dual allocation without an IPv6 address: IPv4 alone, with ADDRESS-ERROR-CODE 440 for IPv6.
 */
export function planFamilies(req: DecodedStunMessage, hosts: RelayHosts): FamilyPlan {
  const requested = find(req, 'REQUESTED-ADDRESS-FAMILY')?.value
  const additional = find(req, 'ADDITIONAL-ADDRESS-FAMILY')?.value
  if (requested !== undefined && additional !== undefined) return { code: 400 }
  if (additional === 'IPv4') return { code: 400 }
  const first = requested ?? 'IPv4'
  if (hosts[first] === undefined) return { code: 440 }
  if (additional === undefined) return { families: [first] }
  if (hosts.IPv6 === undefined) return { families: ['IPv4'], missing: 'IPv6' }
  return { families: ['IPv4', 'IPv6'] }
}

/** ADDRESS-ERROR-CODE for a family the server did not allocate (RFC 8656 §18.12). */
export function addressError(m: { family: AddressFamily; code: number }): StunAttribute {
  const reason = m.code === 440 ? 'Address Family not Supported' : 'Insufficient Capacity'
  return { name: 'ADDRESS-ERROR-CODE', value: { family: m.family, code: m.code, reason } }
}

/**
 * The relay hosts of a server listening on `host`: its family's relays bind there, and
 * `host6` (when given) adds IPv6 relays to an IPv4 listener. Announced addresses default to
 * the bind address. Throws nothing: a `host` that is no IP literal is treated as IPv4, as
 * before (dgram resolves it).
 */
export function relayHosts(
  host: string,
  host6: string | undefined,
  announce4: (() => string) | undefined,
  announce6: (() => string) | undefined,
): RelayHosts {
  const hosts: RelayHosts = {}
  if (!isIPv6(host)) hosts.IPv4 = { bind: host, announced: announce4 ?? (() => host) }
  const v6 = host6 ?? (isIPv6(host) ? host : undefined)
  if (v6 !== undefined) {
    hosts.IPv6 = {
      bind: v6,
      announced: announce6 ?? (isIPv6(host) ? announce4 : undefined) ?? (() => v6),
    }
  }
  return hosts
}

/** The relays of an Allocate, and the family of a dual allocation left out, with its code. */
export interface BoundRelays {
  relays: RelayEndpoint[]
  missing?: { family: AddressFamily; code: number }
}

/**
 * Bind the relay sockets `plan` asks for, on ports of `range` not in `inUse` (which gains the
 * new ports). RFC 8656 §7.2: when the IPv6 half of a dual allocation cannot be had, the IPv4 one
 * is still given, and ADDRESS-ERROR-CODE says why: 440 without an IPv6 address (or one that
 * cannot be bound), 508 without a free port. A first family that fails throws
 * (RelayPortsExhaustedError, RelayBindError) with nothing left bound.
 */
export async function bindRelays(
  plan: { families: AddressFamily[]; missing?: AddressFamily },
  hosts: RelayHosts,
  range: readonly [number, number],
  inUse: Set<number>,
  even: boolean,
): Promise<BoundRelays> {
  const relays: RelayEndpoint[] = []
  for (const family of plan.families) {
    try {
      const r = await bindRelaySocket(hosts[family]!.bind, range, inUse, even, family)
      relays.push(r)
      inUse.add(r.port)
    } catch (e) {
      const known = e instanceof RelayPortsExhaustedError || e instanceof RelayBindError
      if (relays.length > 0 && known) {
        return { relays, missing: { family, code: e instanceof RelayBindError ? 440 : 508 } }
      }
      for (const r of relays) r.socket.close()
      throw e
    }
  }
  return plan.missing ? { relays, missing: { family: plan.missing, code: 440 } } : { relays }
}
