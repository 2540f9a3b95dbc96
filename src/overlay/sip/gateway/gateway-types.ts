/**
 * Types shared by the gateway's transports and transaction layers: the flow a
 * message arrived on (where answers go, RFC 3261 §18.2.2 with RFC 3581
 * symmetric response), the transaction timers (§17, Table 4), and the
 * gateway's named errors.
 */
import { parseSipUri } from '../../../shared/sip/sip-uri.js'
import { KaiwaError } from '../../../shared/errors.js'

export type GatewayTransport = 'UDP' | 'TCP'

/** One way back to a phone: a UDP source address, or one TCP connection. */
export interface GatewayFlow {
  readonly transport: GatewayTransport
  readonly remote: { readonly address: string; readonly port: number }
  /** Key for rate limiting and for counting failed authentications. */
  readonly key: string
  /** TCP: no retransmissions (§17.1.1.2, §17.1.2.2 Timer A/E only on unreliable transports). */
  readonly reliable: boolean
  /** False once a TCP connection has closed. */
  readonly open: boolean
  /** Write one serialized message; false if it could not be handed to the socket. */
  send(bytes: Uint8Array): boolean
}

/** RFC 3261 §17.1.1.1 and Table 4: T1 (RTT estimate), T2 (max interval), T4 (network lifetime). */
export interface SipTimers {
  t1: number
  t2: number
  t4: number
}

export const DEFAULT_TIMERS: SipTimers = { t1: 500, t2: 4000, t4: 5000 }

/** The gateway could not start (a port in use, an address it may not bind). */
export class SipGatewayError extends KaiwaError {
  readonly port: number
  constructor(message: string, port: number, options?: { cause?: unknown }) {
    super(message, 'unavailable', options)
    this.name = 'SipGatewayError'
    this.port = port
  }
}

/** RFC 3261 §8.1.1.7: our branches start with the magic cookie. */
export const BRANCH_PREFIX = 'z9hG4bK'

export function isLoopbackHost(host: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host.toLowerCase() === 'localhost'
}

/** The host and port a phone's Contact URI names (`defaultPort` when it has none). */
export function contactAddress(
  contact: string,
  defaultPort: number,
): { host: string; port: number } | undefined {
  try {
    const u = parseSipUri(contact)
    if (u.kind !== 'sip') return undefined
    return { host: u.host, port: u.port ?? defaultPort }
  } catch {
    return undefined
  }
}

/** A listen failure, saying what to do about it. */
export function bindError(
  err: unknown,
  host: string,
  port: number,
  proto: string,
): SipGatewayError {
  const code = (err as NodeJS.ErrnoException).code
  const why =
    code === 'EADDRINUSE'
      ? `${proto} port ${port} on ${host} is already in use; pass --sip-port with a free port, or --sip-port 0 to turn the gateway off`
      : `cannot listen on ${proto} ${host}:${port}: ${String(err)}`
  return new SipGatewayError(why, port, { cause: err })
}
