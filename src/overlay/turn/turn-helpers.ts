/**
 * Pure helpers of the TURN server: attribute lookup, error reasons, lifetime clamping and Data
 * indications. The peer address policy is peer-policy.ts.
 */
import { randomBytes } from 'node:crypto'
import type { Peer } from './allocation.js'
import type { AddressFamily, StunAddress } from './stun-address.js'
import { familyOf } from './udp-socket.js'
import { StunMethod, encodeStun } from './stun-message.js'
import type { DecodedStunMessage, StunAttribute, StunMessage } from './stun-message.js'

/** Reason phrases (RFC 8489 §14.8, RFC 8656 §19). */
export const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  420: 'Unknown Attribute',
  437: 'Allocation Mismatch',
  438: 'Stale Nonce',
  440: 'Address Family not Supported',
  441: 'Wrong Credentials',
  442: 'Unsupported Transport Protocol',
  443: 'Peer Address Family Mismatch',
  486: 'Allocation Quota Reached',
  508: 'Insufficient Capacity',
}

/** Request methods that need long-term credentials (RFC 8656 §17); others but Binding get 400. */
export const TURN_REQUESTS: ReadonlySet<number> = new Set([
  StunMethod.Allocate,
  StunMethod.Refresh,
  StunMethod.CreatePermission,
  StunMethod.ChannelBind,
])

type AttrOf<A, N> = A extends { name: infer M } ? (N extends M ? A : never) : never
export type NamedAttr<N extends StunAttribute['name']> = AttrOf<StunAttribute, N>

export function find<N extends StunAttribute['name']>(
  m: StunMessage,
  name: N,
): NamedAttr<N> | undefined {
  return m.attributes.find((a) => a.name === name) as NamedAttr<N> | undefined
}

export function findAll<N extends StunAttribute['name']>(m: StunMessage, name: N): NamedAttr<N>[] {
  return m.attributes.filter((a) => a.name === name) as NamedAttr<N>[]
}

/**
 * Types for UNKNOWN-ATTRIBUTES (RFC 8489 §6.3.1, §14.13), without duplicates: the
 * comprehension-required types the codec does not know. Every known one is implemented,
 * DONT-FRAGMENT included (RFC 8656 §7.2: a server that can send with DF=1 accepts it; what that
 * means on each OS is in turn-allocate.ts).
 */
export function unknownAttributes(req: DecodedStunMessage): number[] {
  return [...new Set(req.unknownRequired)]
}

/** RFC 8656 §7.2/§8: clamp a requested lifetime to [default, max] seconds; 0 stays 0. */
export function clampLifetimeS(requested: number | undefined, def: number, max: number): number {
  if (requested === 0) return 0
  return Math.min(Math.max(requested ?? def, def), max)
}

/** XOR-MAPPED-ADDRESS of a client (RFC 8489 §14.2), in its own family. */
export const mappedAddress = (p: Peer): StunAddress => ({
  family: familyOf(p.address),
  address: p.address,
  port: p.port,
})

/** A Data indication (RFC 8656 §11.3) carrying `payload` from `peer` (an address of `family`). */
export function dataIndication(
  peer: Peer,
  payload: Uint8Array,
  family: AddressFamily = 'IPv4',
): Uint8Array {
  return encodeStun({
    method: StunMethod.Data,
    class: 'indication',
    transactionId: new Uint8Array(randomBytes(12)),
    attributes: [
      { name: 'XOR-PEER-ADDRESS', value: { family, ...peer } },
      { name: 'DATA', value: payload },
    ],
  })
}

/**
 * A success or error response to `req` (RFC 8489 §6.3): ERROR-CODE first for errors, SOFTWARE
 * when configured. RFC 8489 §9.2.4: responses to authenticated requests carry MESSAGE-INTEGRITY
 * (keyed with `key`); FINGERPRINT goes on those and whenever the request had one (§7).
 */
export function stunResponse(
  req: DecodedStunMessage,
  attrs: StunAttribute[],
  opts: { code?: number | undefined; key?: Uint8Array | undefined; software?: string | undefined },
): Uint8Array {
  const attributes = [...attrs]
  if (opts.code !== undefined) {
    const reason = REASONS[opts.code] ?? 'Error'
    attributes.unshift({ name: 'ERROR-CODE', value: { code: opts.code, reason } })
  }
  if (opts.software) attributes.push({ name: 'SOFTWARE', value: opts.software })
  return encodeStun(
    {
      method: req.method,
      class: opts.code === undefined ? 'success' : 'error',
      transactionId: req.transactionId,
      attributes,
    },
    { integrityKey: opts.key, fingerprint: opts.key !== undefined || !!req.fingerprint },
  )
}

/**
 * Highest channel number: 0x7FFF with the RFC 5766 §11 range, which RFC 5766 clients (coturn's
 * turnutils_uclient) pick from, else RFC 8656 §12's 0x4FFF.
 */
export const maxChannel = (legacy: boolean) => (legacy ? 0x7fff : 0x4fff)
