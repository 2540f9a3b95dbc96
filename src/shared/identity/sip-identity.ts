/**
 * SIP Identity for the overlay (RFC 8224), with a PASSporT (RFC 8225) signed
 * by the sender's ed25519 account key instead of a certificate. With no
 * registrar, a request's From is worth only what the overlay can prove: the
 * token binds the From user ID to the key in that user's contact record.
 *
 *   sender:    add Date ─▶ createIdentityHeader ─▶ Identity: <jws>;info=<kaiwa:key:kid>;…
 *   receiver:  verifyIdentityHeader
 *                428  no Identity header                        (RFC 8224 §6.2 step 1)
 *                438  malformed, fields ≠ request, wrong key,   (RFC 8224 §6.2 step 5,
 *                     bad signature, SDP fingerprints swapped    §6.2.2)
 *                403  Date or iat outside the window: "Stale Date" (RFC 8224 §6.2 step 4)
 *                403  token already accepted: "Replayed Identity" (see below)
 *
 * Replays are answered 403, not 438: the token is genuine, only its reuse is
 * refused, the same class of failure as a stale Date (RFC 8224 relies on Date
 * freshness plus verifier state against replay); 438 would tell an honest
 * sender that its signature is broken.
 *
 * Signing and verifying go through @libp2p/crypto's key objects, as contact
 * records do: native Ed25519 in Node (about 0.1 ms to verify), WebCrypto or
 * noble in a browser. noble's pure-JS verify alone costs about 1 ms.
 *
 * Verification never throws on anything in the request; only errors thrown by
 * the caller's `publicKeyFor` (e.g. a DHT timeout) propagate, so the caller
 * can answer them as lookups, not as bad signatures.
 */
import { toString } from 'uint8arrays'
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { KaiwaError } from '../errors.js'
import { fingerprint } from '../records/contact-record.js'
import type { SipRequest } from '../sip/sip-message.js'
import { formatIdentityField, parseIdentityField } from './identity-header.js'
import {
  PassportFormatError,
  assembleToken,
  passportClaimsJson,
  passportHeaderJson,
  signingInput,
  splitPassport,
} from './passport.js'
import type { PassportParts } from './passport.js'
import { IdentityRequestError, formatSipDate, readRequestClaims } from './request-claims.js'
import type { RequestClaims } from './request-claims.js'
import type { ReplayCache } from './replay-cache.js'

/**
 * Largest accepted distance, either way, between the verifier's clock and the
 * request's Date or the token's iat. RFC 8224 §6.1 step 3 recommends 60 s for
 * carrier networks with synchronised clocks; overlay peers are consumer
 * devices whose clocks may be minutes off and whose requests may wait in relay
 * queues, so Kaiwa allows 10 minutes. A token is thus usable for at most
 * 2 × IDENTITY_MAX_SKEW_MS, which is also how long the replay cache keeps it.
 */
export const IDENTITY_MAX_SKEW_MS = 10 * 60 * 1000

/** The account key given to createIdentityHeader is not an Ed25519 key. */
export class IdentityKeyError extends KaiwaError {
  constructor(message: string) {
    super(message, 'invalid_input')
    this.name = 'IdentityKeyError'
  }
}

export { IdentityRequestError }

/**
 * What signing needs of an account key: a libp2p PrivateKey has this shape,
 * and so does a caller's faster native signer (see the overlay's
 * native-ed25519.ts).
 */
export interface IdentitySigningKey {
  readonly type: PrivateKey['type']
  readonly publicKey: { readonly raw: Uint8Array }
  sign(data: Uint8Array): Uint8Array | Promise<Uint8Array>
}

/** Checks an ed25519 signature by a raw 32-byte public key; false on any error. */
export type SignatureVerifier = (
  publicKey: Uint8Array,
  data: Uint8Array,
  signature: Uint8Array,
) => boolean | Promise<boolean>

export interface CreateIdentityOptions {
  /** The sender's account key (the one in its contact record), as user-directory holds it. */
  accountKey: IdentitySigningKey
  /** The sender's user ID; must equal the From user part. */
  name: string
  /** Current time, ms since epoch: becomes `iat`. */
  now: number
  /**
   * Refuse to sign when the request's Date is further than this from `now`.
   *
   * @default IDENTITY_MAX_SKEW_MS
   */
  maxSkewMs?: number
}

/**
 * The Identity header field value for `req`, signed with `accountKey`
 * (RFC 8224 §6.1). The request must already carry everything the token
 * covers: From (user part = `name`), To, Call-ID, CSeq, exactly one Date
 * (use addDateHeader), and its final body and Content-Type. Changing any of
 * these after signing makes verification fail with 438.
 *
 * Throws IdentityRequestError (a covered field is missing or malformed, the
 * From user is not `name`, Date is not within `maxSkewMs` of `now`) or
 * IdentityKeyError.
 */
export async function createIdentityHeader(
  req: SipRequest,
  opts: CreateIdentityOptions,
): Promise<string> {
  const key = opts.accountKey
  if (key?.type !== 'Ed25519') throw new IdentityKeyError('account keys must be Ed25519')
  const rc = readRequestClaims(req)
  if (rc.name !== opts.name) {
    throw new IdentityRequestError(`the From user is ${rc.name}, not the signer ${opts.name}`)
  }
  const skew = opts.maxSkewMs ?? IDENTITY_MAX_SKEW_MS
  if (Math.abs(rc.dateMs - opts.now) > skew) {
    throw new IdentityRequestError('the Date header is not current; set it with addDateHeader')
  }
  const kid = fingerprint(key.publicKey.raw)
  const input = signingInput(passportHeaderJson(kid), passportClaimsJson(rc, iatOf(opts.now)))
  // Node's signer returns a Buffer; copy so the output is the same everywhere.
  const sig = new Uint8Array(await key.sign(new TextEncoder().encode(input)))
  return formatIdentityField(assembleToken(input, sig), kid)
}

/** Set the Date header (RFC 3261 §20.17) to `now` unless the request has one. */
export function addDateHeader(req: SipRequest, now: number): void {
  if (!req.headers.has('Date')) req.headers.set('Date', formatSipDate(now))
}

/**
 * Sign `req` in place: add a Date if it has none, then set its Identity header
 * (replacing any). The convenience form of createIdentityHeader, with the same
 * requirements and errors.
 */
export async function addIdentityHeader(
  req: SipRequest,
  opts: CreateIdentityOptions,
): Promise<void> {
  addDateHeader(req, opts.now)
  req.headers.set('Identity', await createIdentityHeader(req, opts))
}

/** What a verified token proves about the request. */
export interface IdentityClaims extends RequestClaims {
  /** Issued-at, seconds since epoch (RFC 8225 §5.1.1 NumericDate). */
  iat: number
  /** Fingerprint of the signing account key. */
  kid: string
  /** The raw 32-byte ed25519 account key that signed (as given by publicKeyFor). */
  publicKey: Uint8Array
}

export type IdentityFailureCode = 428 | 438 | 403

export type IdentityResult =
  | { ok: true; claims: IdentityClaims }
  | {
      ok: false
      /** SIP status to answer with. */
      code: IdentityFailureCode
      /** Reason-Phrase to answer with (RFC 8224 §6.2.2). */
      reason: 'Use Identity Header' | 'Invalid Identity Header' | 'Stale Date' | 'Replayed Identity'
      /** Why, for logs and a Warning header; never contains secrets. */
      detail: string
    }

export interface VerifyIdentityOptions {
  /**
   * The account key (raw 32-byte ed25519) of user `name`, from its verified
   * contact record, or a pinned key; undefined when none is known (438).
   * Errors it throws propagate unchanged.
   */
  publicKeyFor: (name: string) => Uint8Array | undefined | Promise<Uint8Array | undefined>
  /** Current time, ms since epoch. */
  now: number
  /**
   * Largest accepted |now − Date| and |now − iat|.
   *
   * @default IDENTITY_MAX_SKEW_MS
   */
  maxSkewMs?: number
  /**
   * Where accepted tokens are remembered; null turns replay protection off
   * (only for a check that is not the point of acceptance).
   */
  replayCache: ReplayCache | null
  /**
   * How signatures are checked.
   *
   * @default @libp2p/crypto's Ed25519 public key objects (cached per key)
   */
  verifySignature?: SignatureVerifier
}

const invalid = (detail: string): IdentityResult => ({
  ok: false,
  code: 438,
  reason: 'Invalid Identity Header',
  detail,
})
const stale = (detail: string): IdentityResult => ({
  ok: false,
  code: 403,
  reason: 'Stale Date',
  detail,
})

const iatOf = (ms: number): number => Math.floor(ms / 1000)

/**
 * Verify the Identity header of `req` (RFC 8224 §6.2). Cheap checks come
 * first so garbage never costs a key lookup; the token is remembered in the
 * replay cache only once it has fully verified. Never throws, except for
 * errors from `publicKeyFor`.
 */
export async function verifyIdentityHeader(
  req: SipRequest,
  opts: VerifyIdentityOptions,
): Promise<IdentityResult> {
  const fields = req.headers.getAll('Identity')
  if (fields.length === 0) {
    return { ok: false, code: 428, reason: 'Use Identity Header', detail: 'no Identity header' }
  }
  // A Kaiwa sender adds exactly one; two would leave it open which one counts.
  if (fields.length > 1) return invalid('more than one Identity header')
  let rc: RequestClaims
  let parsed: { kid: string; parts: PassportParts; iat: number }
  try {
    rc = readRequestClaims(req)
    parsed = check(fields[0]!)
  } catch (err) {
    return invalid((err as Error).message)
  }
  const { kid, parts, iat } = parsed
  // RFC 8224 §6.2 step 4: freshness of Date (and of iat, which the token carries).
  const skew = opts.maxSkewMs ?? IDENTITY_MAX_SKEW_MS
  if (Math.abs(opts.now - rc.dateMs) > skew) return stale('the Date header is outside the window')
  if (Math.abs(opts.now - iat * 1000) > skew) return stale('the token iat is outside the window')
  // RFC 8224 §6.2 step 5: the claims must be exactly those of this request.
  const expected = passportClaimsJson(rc, iat)
  if (parts.claimsJson !== expected) return invalid(mismatch(parts.claims, expected))
  const publicKey = await opts.publicKeyFor(rc.name)
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    return invalid(`no account key is known for ${rc.name}`)
  }
  if (fingerprint(publicKey) !== kid) {
    return invalid(`signed by key ${kid}, not by the account key of ${rc.name}`)
  }
  const checkSignature = opts.verifySignature ?? verifySignature
  if (!(await checkSignature(publicKey, parts.signingInput, parts.signature))) {
    return invalid('the signature does not verify')
  }
  if (opts.replayCache !== null) {
    const issuedAt = iat * 1000
    const expiresAt = Math.min(issuedAt, rc.dateMs) + skew
    if (
      opts.replayCache.check(parts.signatureText, { issuedAt, expiresAt }, opts.now) !== 'fresh'
    ) {
      return {
        ok: false,
        code: 403,
        reason: 'Replayed Identity',
        detail: 'this token was already used',
      }
    }
  }
  return { ok: true, claims: { ...rc, iat, kid, publicKey } }
}

/** Parse the field and token, and check the header and iat shapes. Throws on any defect. */
function check(field: string): { kid: string; parts: PassportParts; iat: number } {
  const { token, kid } = parseIdentityField(field)
  const parts = splitPassport(token)
  if (parts.headerJson !== passportHeaderJson(kid)) {
    throw new PassportFormatError('the PASSporT header is not the canonical Kaiwa header')
  }
  const iat = parts.claims.iat
  if (typeof iat !== 'number' || !Number.isSafeInteger(iat) || iat < 0) {
    throw new PassportFormatError('iat must be a non-negative integer')
  }
  return { kid, parts, iat }
}

/** Parsed public keys by their raw bytes: a node hears from few keys, many times. */
const publicKeys = new Map<string, ReturnType<typeof publicKeyFromRaw>>()
const MAX_CACHED_KEYS = 1024

async function verifySignature(
  key: Uint8Array,
  data: Uint8Array,
  sig: Uint8Array,
): Promise<boolean> {
  try {
    const id = toString(key, 'base64')
    let pub = publicKeys.get(id)
    if (pub == null) {
      pub = publicKeyFromRaw(key)
      if (publicKeys.size >= MAX_CACHED_KEYS) publicKeys.clear()
      publicKeys.set(id, pub)
    }
    return pub.type === 'Ed25519' && (await pub.verify(data, sig))
  } catch {
    return false
  }
}

const CLAIM_LABELS: Record<string, string> = {
  orig: 'From',
  dest: 'To',
  callid: 'Call-ID',
  cseq: 'CSeq',
  date: 'Date',
  mky: 'SDP fingerprints',
  body: 'body',
}

/** Name the first covered field where token and request differ, for the 438 detail. */
function mismatch(got: Record<string, unknown>, expectedJson: string): string {
  const want = JSON.parse(expectedJson) as Record<string, unknown>
  for (const [claim, label] of Object.entries(CLAIM_LABELS)) {
    if (JSON.stringify(got[claim]) !== JSON.stringify(want[claim])) {
      return `the ${label} of the request does not match the token`
    }
  }
  return 'the token claims are not in canonical form'
}
