/**
 * The PASSporT (RFC 8225) that Kaiwa puts in the SIP Identity header: a JWS in
 * compact serialization (RFC 7515 §7.1), `base64url(header) "."
 * base64url(claims) "." base64url(signature)`, signed with EdDSA over
 * Ed25519 (RFC 8037 §3.1) by the sender's account key.
 *
 * Both JSON objects are in RFC 8225 §9 deterministic form (keys in
 * lexicographic order, no whitespace), which is exactly what JSON.stringify
 * writes for objects built in that key order. A verifier rebuilds the expected
 * bytes from the request and compares them, so every token has one valid byte
 * form: no alternative key order, no extra claims, no non-canonical base64url.
 *
 * Header: {"alg":"EdDSA","kid":<key fingerprint>,"ppt":"kaiwa","typ":"passport"}.
 * `kid` replaces RFC 8225's `x5u`: there is no certificate to fetch, the key
 * comes from the sender's signed contact record in the DHT.
 */
import { fromString, toString } from 'uint8arrays'
import { KaiwaError } from '../errors.js'
import type { RequestClaims } from './request-claims.js'

export const PASSPORT_ALG = 'EdDSA'
/** RFC 8225 §8 PASSporT extension name for Kaiwa's claim set. */
export const PASSPORT_PPT = 'kaiwa'
export const PASSPORT_TYP = 'passport'
/** Ed25519 signature length (RFC 8032 §5.1.6). */
const SIGNATURE_BYTES = 64
/** Largest decoded claims object accepted (many SDP fingerprints still fit). */
const MAX_CLAIMS_CHARS = 6 * 1024

/** The token is not a well-formed Kaiwa PASSporT. */
export class PassportFormatError extends KaiwaError {
  constructor(message: string) {
    super(message, 'invalid_input')
    this.name = 'PassportFormatError'
  }
}

/** Key fingerprint as contact-record.ts writes it: 16 base32 characters in groups of 4. */
export const KID_RE = /^[a-z2-7]{4}(?:-[a-z2-7]{4}){3}$/

const utf8 = new TextEncoder()
const utf8Strict = new TextDecoder('utf-8', { fatal: true })
const B64URL_RE = /^[A-Za-z0-9_-]*$/

/** The part of Node's Buffer used here: a native base64url codec. */
interface NativeBase64url {
  from(buffer: ArrayBufferLike, byteOffset: number, length: number): { toString(e: string): string }
  from(text: string, encoding: 'base64url'): Uint8Array
}

/**
 * Node's Buffer where it exists (the node, which signs and verifies every
 * request); a browser uses uint8arrays' codec. uint8arrays is pure
 * JavaScript for base64url even in Node (only its UTF-8 uses Buffer), and its
 * encode and decode were 3-4 % of a verifying node's CPU in bench:sip.
 */
const nativeCodec = (globalThis as { Buffer?: NativeBase64url }).Buffer

/** Unpadded base64url (RFC 4648 §5). */
export function base64url(bytes: Uint8Array): string {
  if (nativeCodec != null)
    return nativeCodec.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
  return toString(bytes, 'base64url')
}

/**
 * Decode unpadded base64url, refusing any other spelling of the same bytes
 * (padding, stray bits in the last character), so a token cannot be altered
 * without changing what it decodes to.
 */
export function decodeBase64urlStrict(s: string, what: string): Uint8Array {
  if (!B64URL_RE.test(s) || s.length % 4 === 1) {
    throw new PassportFormatError(`${what} is not base64url`)
  }
  let bytes: Uint8Array
  try {
    // Node's decoder skips characters outside the alphabet: B64URL_RE has refused them.
    bytes = nativeCodec != null ? nativeCodec.from(s, 'base64url') : fromString(s, 'base64url')
  } catch {
    throw new PassportFormatError(`${what} is not base64url`)
  }
  if (base64url(bytes) !== s) throw new PassportFormatError(`${what} is not canonical base64url`)
  return bytes
}

/** The protected header, canonical JSON (RFC 8225 §9). */
export function passportHeaderJson(kid: string): string {
  return JSON.stringify({ alg: PASSPORT_ALG, kid, ppt: PASSPORT_PPT, typ: PASSPORT_TYP })
}

/**
 * The claims, canonical JSON (RFC 8225 §9). Standard claims: `orig`, `dest`,
 * `iat` (RFC 8225 §5.1–5.2), `mky` (§5.2.2, only when there are fingerprints).
 * Kaiwa claims: `callid`, `cseq`, `date` and, for a non-SDP body, `body`.
 */
export function passportClaimsJson(rc: RequestClaims, iat: number): string {
  // Built in lexicographic key order: JSON.stringify keeps insertion order.
  const o: Record<string, unknown> = {}
  if (rc.body !== undefined) o.body = { alg: rc.body.alg, dig: rc.body.dig, typ: rc.body.typ }
  o.callid = rc.callId
  o.cseq = { method: rc.cseq.method, seq: rc.cseq.seq }
  o.date = rc.date
  o.dest = { uri: [rc.dest] }
  o.iat = iat
  if (rc.mky.length > 0) o.mky = rc.mky.map((k) => ({ alg: k.alg, dig: k.dig }))
  o.orig = { uri: rc.orig }
  return JSON.stringify(o)
}

/** JWS signing input (RFC 7515 §5.1 step 6): ASCII(b64url(header) "." b64url(claims)). */
export function signingInput(headerJson: string, claimsJson: string): string {
  return `${base64url(utf8.encode(headerJson))}.${base64url(utf8.encode(claimsJson))}`
}

export function assembleToken(input: string, signature: Uint8Array): string {
  return `${input}.${base64url(signature)}`
}

/** A token split into its parts; nothing here is verified yet. */
export interface PassportParts {
  headerJson: string
  claimsJson: string
  /** Parsed claims object (its shape is not checked). */
  claims: Record<string, unknown>
  /** The bytes the signature covers. */
  signingInput: Uint8Array
  signature: Uint8Array
  /** The signature segment as sent (canonical): the replay cache key. */
  signatureText: string
}

function decodeJsonSegment(segment: string, what: string): string {
  try {
    return utf8Strict.decode(decodeBase64urlStrict(segment, what))
  } catch (err) {
    if (err instanceof PassportFormatError) throw err
    throw new PassportFormatError(`${what} is not UTF-8`)
  }
}

/** Split and decode a compact PASSporT. Throws PassportFormatError. */
export function splitPassport(token: string): PassportParts {
  const parts = token.split('.')
  if (parts.length !== 3) throw new PassportFormatError('a PASSporT has exactly three parts')
  const [h, c, s] = parts as [string, string, string]
  const headerJson = decodeJsonSegment(h, 'PASSporT header')
  if (c.length > (MAX_CLAIMS_CHARS * 4) / 3 + 4) {
    throw new PassportFormatError('PASSporT claims are too large')
  }
  const claimsJson = decodeJsonSegment(c, 'PASSporT claims')
  const signature = decodeBase64urlStrict(s, 'PASSporT signature')
  if (signature.length !== SIGNATURE_BYTES) {
    throw new PassportFormatError('an EdDSA signature is 64 bytes')
  }
  let claims: unknown
  try {
    claims = JSON.parse(claimsJson)
  } catch {
    throw new PassportFormatError('PASSporT claims are not JSON')
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw new PassportFormatError('PASSporT claims are not a JSON object')
  }
  return {
    headerJson,
    claimsJson,
    claims: claims as Record<string, unknown>,
    signingInput: utf8.encode(`${h}.${c}`),
    signature,
    signatureText: s,
  }
}
