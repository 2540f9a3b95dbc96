/**
 * The Allocate request (RFC 8656 §7.2) for turn-server.ts, after authentication and the
 * unknown-attribute check: retransmissions, REQUESTED-TRANSPORT, the address families
 * (relay-families.ts), the server-wide caps and per-user quota, the relay port (even-port.ts:
 * EVEN-PORT, its R bit and RESERVATION-TOKEN, with the reservations in relay-reservations.ts)
 * and the success response.
 *
 * DONT-FRAGMENT (RFC 8656 §7.2, §18.9; RFC 5766 §14.8) is accepted and needs no action here:
 * Node's dgram cannot set IP_MTU_DISCOVER / IP_DONTFRAG, and on Linux it does not have to, since
 * every UDP socket starts with IP_PMTUDISC_WANT (net.ipv4.ip_no_pmtu_disc = 0): the kernel sets
 * DF on each relayed datagram that fits the route's path MTU, and fragments locally (without DF)
 * only a datagram larger than it. What DONT-FRAGMENT asks for, DF=1, therefore holds for every
 * datagram that can be sent unfragmented; the one difference to IP_PMTUDISC_DO is that an
 * oversized datagram is fragmented instead of dropped with EMSGSIZE. Other systems send with
 * their own default (DF=0 on macOS and Windows), the "alternate behavior" of RFC 8656 §14.
 */
import { Allocation, RelayBindError, RelayPortsExhaustedError } from './allocation.js'
import type { ClientLink, RelayEndpoint } from './allocation.js'
import type { AllocationTable } from './allocation-table.js'
import { bindEvenPair, planPort } from './even-port.js'
import type { RelayCounters } from './relay-counters.js'
import { addressError, bindRelays, planFamilies } from './relay-families.js'
import type { BoundRelays, RelayHosts } from './relay-families.js'
import type { AllocationLimits, ServerCaps } from './relay-limits.js'
import type { AddressFamily } from './stun-address.js'
import type { ReservationTable } from './relay-reservations.js'
import type { DecodedStunMessage, StunAttribute } from './stun-message.js'
import { PortsInUse } from './turn-shared.js'
import type { SharedAllocations } from './turn-shared.js'
import { find, mappedAddress } from './turn-helpers.js'

type Attrs = StunAttribute[]
const UDP = 17
/** The peer ID of a REST username `expiry:peerId` (turn-credentials.ts). */
const peerIdOf = (username: string) => username.slice(username.indexOf(':') + 1)

/** What Allocate uses of the server. */
export interface AllocateComponents {
  allocations: AllocationTable
  reservations: ReservationTable
  /** Where relays of each family bind and what they announce (relay-families.ts). */
  hosts: RelayHosts
  range: readonly [number, number]
  serverCaps: ServerCaps
  counters: RelayCounters
  limits: Required<AllocationLimits>
  /** Concurrent allocations per username (486); also bounds each user's reservations (508). */
  quota: number
  now: () => number
  /** The granted lifetime for a requested LIFETIME (turn-helpers.ts clampLifetimeS). */
  lifetimeS: (requested: number | undefined) => number
  /** False once the server is closed: relay sockets bound meanwhile are closed again. */
  open: () => boolean
  /** Wire the relay sockets of a new allocation to the data plane (relay-path.ts). */
  attach: (alloc: Allocation) => void
  /**
   * The caps and quota over all relay threads (turn-shared.ts), asked after this thread's own
   * checks; what it admits is released when the allocation ends (AllocationTable hooks).
   */
  shared?: SharedAllocations | undefined
}

/** The relays of an Allocate and, with the R bit, the reserved port N+1 beside them. */
interface Relays extends BoundRelays {
  reserved?: RelayEndpoint
}

/** Answer the Allocate `req` from the 5-tuple `key` of the authenticated `username`. */
export async function allocate(
  req: DecodedStunMessage,
  from: ClientLink,
  key: string,
  username: string,
  c: AllocateComponents,
  ok: (a: Attrs) => void,
  err: (code: number, a?: Attrs) => void,
): Promise<void> {
  const existing = c.allocations.get(key, c.now())
  const success = (a: Allocation): void => ok(successAttrs(a, from, c))
  if (existing) {
    // RFC 8656 §7.2: a retransmitted Allocate gets the original success; anything else 437.
    const same = Buffer.compare(existing.transactionId, req.transactionId) === 0
    return same ? success(existing) : err(437)
  }
  if (c.allocations.isPending(key)) return // retransmission while the relay socket is being bound
  const transport = find(req, 'REQUESTED-TRANSPORT')?.value
  if (transport === undefined) return err(400)
  if (transport !== UDP) return err(442)
  const port = planPort(req)
  if ('code' in port) return err(port.code)
  // A token names its address, family included (planPort refused family attributes with it).
  const plan = 'token' in port ? undefined : planFamilies(req, c.hosts)
  if (plan !== undefined && 'code' in plan) return err(plan.code)
  // RFC 8656 §19: 508 "due to some capacity limit being reached"; 486 (below) is a quota that
  // §7.2 wants based on the username, so the server-wide caps answer 508.
  if (!c.serverCaps.allocationAllowed(c.allocations.sizeWithPending)) {
    c.counters.allocationsRefused++
    return err(508)
  }
  if (c.allocations.countFor(username) >= c.quota) return err(486)
  if (c.shared !== undefined) {
    // Pending meanwhile, so a retransmission is not admitted twice.
    c.allocations.reserve(key, username)
    const code = await c.shared.admit(username).finally(() => c.allocations.release(key))
    if (code === 508) c.counters.allocationsRefused++
    if (code !== 0) return err(code)
  }
  // Admitted: released again unless the allocation is made (then when it ends).
  let made = false
  try {
    made = await make(req, from, key, username, port, plan, c, success, err)
  } finally {
    if (!made) c.shared?.release(username)
  }
}

/** Bind (or take the reserved) relays and add the allocation; false when it was not made. */
async function make(
  req: DecodedStunMessage,
  from: ClientLink,
  key: string,
  username: string,
  port: Exclude<ReturnType<typeof planPort>, { code: number }>,
  plan: { families: AddressFamily[]; missing?: AddressFamily } | undefined,
  c: AllocateComponents,
  success: (a: Allocation) => void,
  err: (code: number, a?: Attrs) => void,
): Promise<boolean> {
  let relays: Relays
  if ('token' in port) {
    // RFC 8656 §7.2: an unknown or expired token gets 508.
    const reservation = c.reservations.take(port.token, c.now())
    if (reservation === undefined) {
      err(508)
      return false
    }
    relays = { relays: [reservation.endpoint] }
  } else {
    // RFC 8656 §7.2: an EVEN-PORT request the server cannot satisfy gets 508. Each user holds
    // at most `quota` reservations, so reserved ports cannot drain the relay range.
    if (port.reserve && c.reservations.countFor(username, c.now()) >= c.quota) {
      err(508)
      return false
    }
    c.allocations.reserve(key, username)
    try {
      relays = await bindFresh(plan!, port, c)
    } catch (e) {
      if (e instanceof RelayPortsExhaustedError) {
        err(508)
        return false
      }
      if (e instanceof RelayBindError) {
        err(440)
        return false
      }
      throw e
    } finally {
      c.allocations.release(key)
    }
  }
  if (!c.open()) {
    // Closed meanwhile.
    for (const r of [...relays.relays, ...(relays.reserved ? [relays.reserved] : [])]) {
      r.socket.close()
    }
    return false
  }
  const lifetimeS = c.lifetimeS(find(req, 'LIFETIME')?.value) || c.lifetimeS(undefined)
  const reservationToken = relays.reserved
    ? c.reservations.add(relays.reserved, username, c.now())
    : undefined
  const alloc = new Allocation({
    client: from,
    username,
    relays: relays.relays,
    missing: relays.missing,
    transactionId: req.transactionId,
    reservationToken,
    lifetimeMs: lifetimeS * 1000,
    now: c.now(),
    limits: c.limits,
  })
  c.attach(alloc)
  c.allocations.add(alloc)
  c.counters.served(peerIdOf(username), from.transport)
  success(alloc)
  return true
}

/** Bind the relays of a fresh allocation: an even pair with the R bit, else as planned. */
async function bindFresh(
  plan: { families: AddressFamily[]; missing?: AddressFamily },
  port: { even: boolean; reserve: boolean },
  c: AllocateComponents,
): Promise<Relays> {
  // With relay threads, the ports the others hold too (turn-shared.ts PortsInUse).
  const inUse = new PortsInUse(c.allocations.relayPorts(), c.shared?.relayPorts)
  for (const p of c.reservations.ports()) inUse.add(p)
  if (!port.reserve) return bindRelays(plan, c.hosts, c.range, inUse, port.even)
  // planPort refused the R bit with ADDITIONAL-ADDRESS-FAMILY, so there is one family here.
  const family = plan.families[0]!
  const pair = await bindEvenPair(c.hosts[family]!.bind, c.range, inUse, family)
  return { relays: [pair.even], reserved: pair.next }
}

/**
 * The success response (RFC 8656 §7.3): one XOR-RELAYED-ADDRESS per relayed address (IPv4
 * first), the ADDRESS-ERROR-CODE of a dual allocation's missing half, XOR-MAPPED-ADDRESS,
 * LIFETIME and, with the R bit, the RESERVATION-TOKEN of port N+1.
 */
function successAttrs(a: Allocation, from: ClientLink, c: AllocateComponents): Attrs {
  const lifetime = Math.max(0, Math.round((a.expires - c.now()) / 1000))
  const relayed: Attrs = a.relays.map((r) => ({
    name: 'XOR-RELAYED-ADDRESS',
    value: { family: r.family, address: c.hosts[r.family]!.announced(), port: r.port },
  }))
  return [
    ...relayed,
    ...(a.missing ? [addressError(a.missing)] : []),
    ...(a.reservationToken
      ? [{ name: 'RESERVATION-TOKEN' as const, value: a.reservationToken }]
      : []),
    { name: 'XOR-MAPPED-ADDRESS', value: mappedAddress(from) },
    { name: 'LIFETIME', value: lifetime },
  ]
}
