/**
 * Relayed transport addresses reserved by an Allocate with EVEN-PORT and the R bit set (RFC 8656
 * §7.2, §18.7; RFC 5766 §6.2, §14.6), each behind the RESERVATION-TOKEN (RFC 8656 §18.10;
 * RFC 5766 §14.9) the success response carried. The reserved port stays bound by its own socket,
 * so nobody else (another allocation, another program) can take it; a later Allocate carrying
 * the token gets that socket as its relay. Expiry is evaluated against the server clock, lazily
 * and by sweep, so a fake clock in tests drives it.
 */
import { randomBytes } from 'node:crypto'
import type { RelayEndpoint } from './allocation.js'

/**
 * RFC 8656 §7.2: "The server MUST hold this reservation for at least 30 seconds but MAY choose
 * to hold longer". 30 s exactly: a reservation is a port nobody uses yet.
 */
export const RESERVATION_LIFETIME_MS = 30_000

/** RFC 8656 §18.10: the token is 8 bytes. */
export const RESERVATION_TOKEN_BYTES = 8

export interface Reservation {
  /** The reserved relay (port N+1 of an EVEN-PORT pair), its socket bound and idle. */
  endpoint: RelayEndpoint
  /** Who reserved it (the per-user bound below counts these). */
  username: string
  expires: number
}

const hex = (token: Uint8Array) => Buffer.from(token).toString('hex')

export class ReservationTable {
  private readonly byToken = new Map<string, Reservation>()

  get size(): number {
    return this.byToken.size
  }

  /**
   * Reserve `endpoint` for `username` until now + 30 s; returns its new random token (64 bits
   * from the CSPRNG: the token is the only credential needed to claim the port).
   */
  add(endpoint: RelayEndpoint, username: string, now: number): Uint8Array {
    let token: Uint8Array
    do token = new Uint8Array(randomBytes(RESERVATION_TOKEN_BYTES))
    while (this.byToken.has(hex(token)))
    this.byToken.set(hex(token), { endpoint, username, expires: now + RESERVATION_LIFETIME_MS })
    // Idle until claimed, but a socket error without a listener would crash the process.
    endpoint.socket.on('error', () => undefined)
    return token
  }

  /**
   * Claim the reservation of `token`: it leaves the table and its socket now belongs to the
   * caller. Undefined for an unknown, malformed or expired token (an expired one is closed).
   */
  take(token: Uint8Array, now: number): Reservation | undefined {
    if (token.length !== RESERVATION_TOKEN_BYTES) return undefined
    const key = hex(token)
    const r = this.byToken.get(key)
    if (r === undefined) return undefined
    this.byToken.delete(key)
    if (r.expires > now) return r
    r.endpoint.socket.close()
    return undefined
  }

  /** Live reservations held by `username`. */
  countFor(username: string, now: number): number {
    let n = 0
    for (const r of this.byToken.values()) if (r.username === username && r.expires > now) n++
    return n
  }

  /** Ports held by reservations: not to be handed to another allocation. */
  ports(): number[] {
    return [...this.byToken.values()].map((r) => r.endpoint.port)
  }

  /** Release expired reservations (close their sockets). */
  sweep(now: number): void {
    for (const [k, r] of this.byToken) {
      if (r.expires > now) continue
      this.byToken.delete(k)
      r.endpoint.socket.close()
    }
  }

  closeAll(): void {
    for (const r of this.byToken.values()) r.endpoint.socket.close()
    this.byToken.clear()
  }
}
