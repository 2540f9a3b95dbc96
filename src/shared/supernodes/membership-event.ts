/**
 * The signed membership event of the one-hop supernode table (issue 16 §5;
 * Gupta, Liskov and Rodrigues, "One Hop Lookups for Peer-to-Peer Overlays",
 * HotOS 2003): a supernode says "I am a supernode, dial me here" (join) or
 * "I am leaving" (leave). Events travel over gossipsub (StrictSign) and in
 * table snapshots; the signature inside the event makes a snapshot entry as
 * checkable as a gossiped one.
 *
 * Wire form: deterministic CBOR (cborg's encoder: minimal integers, sorted map
 * keys) of
 *   { v: 1, k: 'join' | 'leave', p: <peer id multihash>, a: [<multiaddr>…],
 *     t: issuedAt (ms), s: seq, g: <signature> }
 * The signature, by the private key of the peer `p` names (its libp2p key: so
 * the signer IS the peer), covers `kaiwa-supernode-event-v1\n` + CBOR of the
 * same map without `g`. Decoding is strict and re-encodes to demand byte
 * equality, so each event has exactly one valid byte form. A leave carries no
 * addresses. Only peer ids that inline their public key (Ed25519, as every
 * Kaiwa device key is) can sign: the key must be readable from `p`.
 */
import { decode, encode } from 'cborg'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { decode as decodeMultihash } from 'multiformats/hashes/digest'
import { concat, equals } from 'uint8arrays'
import { STRICT_DECODE } from '../cbor-strict.js'
import { KaiwaError } from '../errors.js'

/** Largest encoded event: 8 addresses of a home node fit in well under 1 KiB. */
export const MAX_EVENT_BYTES = 1024
export const MAX_EVENT_ADDRS = 8
const MAX_ADDR_BYTES = 96
const DOMAIN = new TextEncoder().encode('kaiwa-supernode-event-v1\n')

export type MembershipKind = 'join' | 'leave'

export interface MembershipEvent {
  kind: MembershipKind
  /** Peer id multihash bytes of the supernode the event is about (and signed by). */
  peer: Uint8Array
  /** Multiaddr bytes where it can be dialled (join only). */
  addrs: Uint8Array[]
  /** ms since epoch, by the signer's clock. */
  issuedAt: number
  /** Grows with every event the peer signs; a lower one is a replay. */
  seq: number
  signature: Uint8Array
}

/** Why an event was refused; `code` names the rule it broke. */
export class MembershipEventError extends KaiwaError {
  constructor(
    message: string,
    readonly reason:
      | 'too-large'
      | 'malformed'
      | 'bad-signature'
      | 'impostor'
      | 'future'
      | 'stale'
      | 'replayed'
      | 'equivocation',
  ) {
    super(message, 'invalid_input')
    this.name = 'MembershipEventError'
  }
}

type Unsigned = Omit<MembershipEvent, 'signature'>

function wireMap(e: Unsigned): Record<string, unknown> {
  return { v: 1, k: e.kind, p: e.peer, a: e.addrs, t: e.issuedAt, s: e.seq }
}

function signedBytes(e: Unsigned): Uint8Array {
  return concat([DOMAIN, encode(wireMap(e))])
}

export async function signMembershipEvent(
  e: Unsigned,
  privateKey: PrivateKey,
): Promise<{ event: MembershipEvent; bytes: Uint8Array }> {
  const signature = new Uint8Array(await privateKey.sign(signedBytes(e)))
  const event = { ...e, signature }
  return { event, bytes: encode({ ...wireMap(e), g: signature }) }
}

const bad = (message: string): never => {
  throw new MembershipEventError(`supernode event: ${message}`, 'malformed')
}

const isUint = (x: unknown): x is number =>
  typeof x === 'number' && Number.isSafeInteger(x) && x >= 0

/**
 * Parse and check one event's form and signature (not its freshness or order:
 * that is member-table.ts's). Throws MembershipEventError.
 */
export async function decodeMembershipEvent(bytes: Uint8Array): Promise<MembershipEvent> {
  if (bytes.byteLength > MAX_EVENT_BYTES) {
    throw new MembershipEventError(
      `supernode event of ${bytes.byteLength} bytes (at most ${MAX_EVENT_BYTES})`,
      'too-large',
    )
  }
  let m: unknown
  try {
    m = decode(bytes, STRICT_DECODE)
  } catch {
    return bad('not strict CBOR')
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return bad('not a map')
  const r = m as Record<string, unknown>
  const keys = Object.keys(r).sort().join(',')
  if (keys !== 'a,g,k,p,s,t,v') return bad(`unexpected fields ${keys}`)
  if (r.v !== 1) return bad('unknown version')
  if (r.k !== 'join' && r.k !== 'leave') return bad('kind is neither join nor leave')
  if (!(r.p instanceof Uint8Array) || r.p.byteLength > 64) return bad('peer is not a peer id')
  if (!(r.g instanceof Uint8Array) || r.g.byteLength > 128) return bad('signature is not bytes')
  if (!isUint(r.t) || !isUint(r.s)) return bad('issuedAt and seq must be unsigned integers')
  if (!Array.isArray(r.a) || r.a.length > MAX_EVENT_ADDRS) return bad('too many addresses')
  if (r.k === 'leave' && r.a.length > 0) return bad('a leave carries no addresses')
  for (const a of r.a) {
    if (!(a instanceof Uint8Array) || a.byteLength > MAX_ADDR_BYTES) return bad('bad address')
    try {
      multiaddr(a)
    } catch {
      return bad('an address is not a multiaddr')
    }
  }
  const event: MembershipEvent = {
    kind: r.k,
    peer: r.p,
    addrs: r.a as Uint8Array[],
    issuedAt: r.t,
    seq: r.s,
    signature: r.g,
  }
  if (!equals(encode({ ...wireMap(event), g: event.signature }), bytes)) {
    return bad('not in canonical form')
  }
  const key = signerOf(event.peer)?.publicKey
  if (key == null) return bad('peer id does not carry its public key')
  let ok: boolean
  try {
    ok = await key.verify(signedBytes(event), event.signature)
  } catch {
    ok = false
  }
  if (!ok) {
    throw new MembershipEventError(
      'supernode event: the signature is not the peer’s',
      'bad-signature',
    )
  }
  return event
}

/** The peer id in `bytes`, or undefined when it is not a key-derived peer id. */
export function signerOf(bytes: Uint8Array): PeerId | undefined {
  try {
    const id = peerIdFromMultihash(decodeMultihash(bytes))
    if (id.type === 'url' || !equals(id.toMultihash().bytes, bytes)) return undefined
    return id
  } catch {
    return undefined
  }
}
