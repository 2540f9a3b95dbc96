/**
 * Invite links: a `kaiwa:` contact link that also says how to reach the
 * network, signed by the inviting account, so a new user can join with one
 * paste or one QR scan:
 *
 *     kaiwa:alice?invite=<base64url CBOR>#abcd-efgh-ijkl-mnop
 *
 * The path and fragment are exactly a contact link (`kaiwa:alice#fp`, see
 * contact-record.ts `fingerprint`), so a parser that only knows contact links
 * still reads the user and the key. The `invite` query (RFC 3986 §3.4) is
 * deterministic CBOR of `{v, n, k, a, e, s}`: version, user ID, the raw
 * Ed25519 account public key, up to MAX_INVITE_SUPERNODES supernode multiaddrs
 * (each with /p2p/<peer id>), expiry (ms since epoch) and the signature over
 * `kaiwa-invite-v1\n` + CBOR of the same map without `s`. Decoding is strict
 * and re-encodes to demand byte equality, as for contact records, so a link
 * has one valid form; the name and fingerprint outside the payload must match
 * the signed ones, so no character of the link can change unnoticed.
 */
import { decode, encode } from 'cborg'
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { equals, fromString, toString } from 'uint8arrays'
import { STRICT_DECODE } from '../cbor-strict.js'
import { fingerprint } from '../records/contact-record.js'
import { isValidUserId } from '../user-id.js'
import { InvalidInviteError } from './invite-errors.js'

export const INVITE_VERSION = 1
/** Enough to find the network if some are down, short enough for a QR code. */
export const MAX_INVITE_SUPERNODES = 4
/** A week: long enough to reach someone, short enough that the addresses are still live. */
export const DEFAULT_INVITE_TTL_MS = 7 * 24 * 3600_000
const MAX_MULTIADDR_CHARS = 256
const MAX_LINK_CHARS = 4096
const SIGNING_PREFIX = new TextEncoder().encode('kaiwa-invite-v1\n')

export interface Invite {
  name: string
  /** Raw 32-byte Ed25519 account public key. */
  publicKey: Uint8Array
  /** `xxxx-xxxx-xxxx-xxxx`, derived from publicKey. */
  fingerprint: string
  /** Supernode multiaddrs, each ending in /p2p/<peer id>. */
  supernodes: string[]
  /** ms since epoch. */
  expiresAt: number
  signature: Uint8Array
}

interface Wire {
  v: number
  n: string
  k: Uint8Array
  a: string[]
  e: number
  s?: Uint8Array
}

const QUERY_RE = /^kaiwa:(?:\/\/)?([^?#]*)\?invite=([A-Za-z0-9_-]+)#(.*)$/s

/** True if the text is meant as an invite (not a plain contact link). */
export function isInviteLink(text: string): boolean {
  return /^kaiwa:(?:\/\/)?[^?#]*\?invite=/i.test(text.trim())
}

function unsignedBytes(w: Wire): Uint8Array {
  const { s: _s, ...unsigned } = w
  const body = encode(unsigned)
  const out = new Uint8Array(SIGNING_PREFIX.length + body.length)
  out.set(SIGNING_PREFIX)
  out.set(body, SIGNING_PREFIX.length)
  return out
}

function checkSupernodes(addrs: unknown): string[] {
  if (!Array.isArray(addrs) || addrs.length === 0 || addrs.length > MAX_INVITE_SUPERNODES)
    throw new InvalidInviteError(
      'supernodes',
      `it must list 1 to ${MAX_INVITE_SUPERNODES} supernode addresses`,
    )
  for (const a of addrs) {
    if (typeof a !== 'string' || a.length > MAX_MULTIADDR_CHARS)
      throw new InvalidInviteError('supernodes', 'a supernode address is not a multiaddr')
    try {
      if (
        !multiaddr(a)
          .getComponents()
          .some((c) => c.name === 'p2p')
      )
        throw new Error('no /p2p/')
    } catch {
      throw new InvalidInviteError('supernodes', `"${a}" is not a multiaddr ending in /p2p/<id>`)
    }
  }
  return addrs as string[]
}

/** Build and sign an invite for `name` with the account key. */
export async function createInviteLink(init: {
  name: string
  accountKey: PrivateKey
  supernodes: readonly string[]
  now: number
  ttlMs?: number
}): Promise<string> {
  if (!isValidUserId(init.name))
    throw new InvalidInviteError('name', `"${init.name}" is not a valid user ID`)
  const w: Wire = {
    v: INVITE_VERSION,
    n: init.name,
    k: init.accountKey.publicKey.raw,
    a: checkSupernodes(init.supernodes.slice(0, MAX_INVITE_SUPERNODES)),
    e: init.now + (init.ttlMs ?? DEFAULT_INVITE_TTL_MS),
  }
  w.s = new Uint8Array(await init.accountKey.sign(unsignedBytes(w)))
  const payload = toString(encode(w), 'base64url')
  return `kaiwa:${w.n}?invite=${payload}#${fingerprint(w.k)}`
}

/**
 * Parse an invite link's structure (no signature or expiry check yet: see
 * `verifyInvite`). Every refusal is an InvalidInviteError naming the part.
 */
export function decodeInviteLink(text: string): Invite {
  const link = text.trim()
  if (link.length > MAX_LINK_CHARS)
    throw new InvalidInviteError('malformed', 'it is too long to be an invite')
  const m = QUERY_RE.exec(link)
  if (m == null)
    throw new InvalidInviteError(
      isInviteLink(link) ? 'malformed' : 'not_invite',
      'expected kaiwa:NAME?invite=DATA#FINGERPRINT',
    )
  const [, namePart, payload, fpPart] = m as unknown as [string, string, string, string]
  let bytes: Uint8Array
  let w: Wire
  try {
    bytes = fromString(payload, 'base64url')
    w = decode(bytes, STRICT_DECODE) as Wire
  } catch {
    throw new InvalidInviteError('malformed', 'its invite data is damaged')
  }
  if (
    w == null ||
    typeof w !== 'object' ||
    Object.keys(w).sort().join() !== 'a,e,k,n,s,v' ||
    w.v !== INVITE_VERSION ||
    typeof w.n !== 'string' ||
    !(w.k instanceof Uint8Array) ||
    w.k.length !== 32 ||
    !Number.isSafeInteger(w.e) ||
    !(w.s instanceof Uint8Array) ||
    w.s.length !== 64
  )
    throw new InvalidInviteError('malformed', 'its invite data is damaged')
  // One byte form only: a re-encoding must give back the same bytes.
  if (!equals(encode(w), bytes))
    throw new InvalidInviteError('malformed', 'its invite data is not in canonical form')
  if (!isValidUserId(w.n) || namePart !== w.n)
    throw new InvalidInviteError(
      'name',
      `the user ID "${namePart}" is not the one it was signed for`,
    )
  const fp = fingerprint(w.k)
  if (fpPart !== fp)
    throw new InvalidInviteError('fingerprint', `the fingerprint does not match the signed key`)
  return {
    name: w.n,
    publicKey: w.k,
    fingerprint: fp,
    supernodes: checkSupernodes(w.a),
    expiresAt: w.e,
    signature: w.s,
  }
}

/** Check the signature and expiry of a decoded invite. */
export async function verifyInvite(invite: Invite, now: number): Promise<void> {
  const w: Wire = {
    v: INVITE_VERSION,
    n: invite.name,
    k: invite.publicKey,
    a: invite.supernodes,
    e: invite.expiresAt,
  }
  let ok: boolean
  try {
    ok = await publicKeyFromRaw(invite.publicKey).verify(unsignedBytes(w), invite.signature)
  } catch {
    ok = false
  }
  if (!ok)
    throw new InvalidInviteError(
      'signature',
      `it is not signed by ${invite.name}'s key; it was changed after it was made`,
    )
  if (invite.expiresAt <= now)
    throw new InvalidInviteError(
      'expired',
      `it expired on ${new Date(invite.expiresAt).toISOString()}; ask ${invite.name} for a new one`,
    )
}

/** Decode and verify: the invite, or an InvalidInviteError. */
export async function openInviteLink(text: string, now: number): Promise<Invite> {
  const invite = decodeInviteLink(text)
  await verifyInvite(invite, now)
  return invite
}
