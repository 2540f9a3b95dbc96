/**
 * Sealed offline mail: a SIP MESSAGE that could not be delivered, encrypted to
 * the recipient's ed25519 account key and signed by the sender's, so it can sit
 * in a mailbox on untrusted supernodes until the recipient comes back.
 *
 * Encryption is ECIES-style: an ephemeral X25519 key agrees with the
 * recipient's account key (converted to its Montgomery form), HKDF-SHA256
 * derives a one-off key, XChaCha20-Poly1305 (random 24-byte nonce, so no nonce
 * bookkeeping) seals the plaintext. The header travels in the clear because
 * supernodes must index by recipient and check the sender's signature without
 * being able to read the mail; it is bound to the ciphertext as AAD, so a
 * header edit (another sender, another time) makes decryption fail.
 *
 * Wire form: deterministic CBOR (cborg's default encoder) of the envelope map.
 * Decoding is strict and demands that re-encoding gives the same bytes, so
 * every envelope has exactly one valid byte form and signatures cannot be
 * malleated. Pure and browser-safe: no node: imports, no Buffer.
 */
export { STRICT_DECODE } from '../cbor-strict.js'
import { STRICT_DECODE } from '../cbor-strict.js'
import { decode, encode } from 'cborg'
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { concat, equals } from 'uint8arrays'
import { KaiwaError } from '../errors.js'
import { isValidUserId } from '../user-id.js'

/** Largest encoded envelope accepted anywhere (sealing, decoding, storing). */
export const MAX_MAIL_BYTES = 64 * 1024
export const MAIL_ID_BYTES = 16
export const MAIL_NONCE_BYTES = 24
const TAG_BYTES = 16
/** The largest time Date can represent; keeps date formatting from throwing. */
const MAX_TIME_MS = 8_640_000_000_000_000

const enc = new TextEncoder()
const SIGNING_DOMAIN = enc.encode('kaiwa-mail-v1\n')
const HKDF_INFO = enc.encode('kaiwa-mail-v1')

export interface MailEnvelope {
  v: 1
  /** 16 random bytes; the mailbox deduplicates and deletes by it. */
  id: Uint8Array
  /** Recipient user ID (informational: the mailbox is keyed by recipientKey). */
  to: string
  /** Recipient ed25519 account public key (32 bytes). */
  recipientKey: Uint8Array
  /** Sender ed25519 account public key (32 bytes); `sig` verifies under it. */
  senderKey: Uint8Array
  /** ms since epoch, set by the sender. */
  createdAt: number
  /** Ephemeral X25519 public key (32 bytes). */
  epk: Uint8Array
  /** XChaCha20-Poly1305 nonce (24 bytes). */
  nonce: Uint8Array
  /** Ciphertext with the 16-byte Poly1305 tag. */
  ct: Uint8Array
  /** Ed25519 signature (64 bytes) by senderKey over mailSignedBytes(envelope). */
  sig: Uint8Array
}

export interface MailPlaintext {
  /** Sender user ID as the sender claims it; check it against senderKey before trusting it. */
  from: string
  /** SIP URI for the From header. */
  fromUri: string
  /** RFC 1123 date for the SIP Date header. */
  date: string
  contentType: string
  body: Uint8Array
}

/** Malformed envelope or plaintext (schema, canonical form, size). */
export class InvalidMailError extends KaiwaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'invalid_input', options)
    this.name = 'InvalidMailError'
  }
}

/** Encoded envelope over MAX_MAIL_BYTES (the message body is too big for offline mail). */
export class MailTooLargeError extends InvalidMailError {
  constructor(size: number) {
    super(`mail is ${size} bytes; offline mail is limited to ${MAX_MAIL_BYTES} bytes`)
    this.name = 'MailTooLargeError'
  }
}

/** The mail is not for this key, or the ciphertext or header was tampered with. */
export class MailDecryptError extends KaiwaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'invalid_input', options)
    this.name = 'MailDecryptError'
  }
}

/** The sender's signature does not verify. */
export class MailSignatureError extends KaiwaError {
  constructor(message = 'mail signature does not verify under its sender key') {
    super(message, 'invalid_input')
    this.name = 'MailSignatureError'
  }
}

const HEADER_KEYS = ['createdAt', 'epk', 'id', 'recipientKey', 'senderKey', 'to', 'v']
const UNSIGNED_KEYS = [...HEADER_KEYS, 'ct', 'nonce'].sort()
const ENVELOPE_KEYS = [...UNSIGNED_KEYS, 'sig'].sort()
const PLAINTEXT_KEYS = ['body', 'contentType', 'date', 'from', 'fromUri']

const fail = (reason: string, cause?: unknown): never => {
  throw new InvalidMailError(`invalid mail: ${reason}`, cause ? { cause } : undefined)
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && Object.getPrototypeOf(x) === Object.prototype
}

function checkKeys(obj: Record<string, unknown>, expected: string[], what: string): void {
  const keys = Object.keys(obj)
  for (const k of keys) if (!expected.includes(k)) fail(`${what} has unexpected field "${k}"`)
  for (const k of expected) if (!keys.includes(k)) fail(`${what} is missing field "${k}"`)
}

function checkBytes(x: unknown, what: string, length?: number): Uint8Array {
  if (!(x instanceof Uint8Array)) return fail(`${what} must be a byte string`)
  if (length !== undefined && x.length !== length) fail(`${what} must be ${length} bytes`)
  return x
}

function checkString(x: unknown, what: string): string {
  if (typeof x !== 'string') return fail(`${what} must be a text string`)
  return x
}

/** Exact schema check; `keys` picks envelope, unsigned envelope or header. */
function checkEnvelope(x: unknown, keys: string[]): MailEnvelope {
  if (!isPlainObject(x)) return fail('not a CBOR map')
  checkKeys(x, keys, 'envelope')
  if (x.v !== 1) fail(`unsupported version ${String(x.v)}`)
  checkBytes(x.id, 'id', MAIL_ID_BYTES)
  if (!isValidUserId(x.to)) fail('to is not a valid user ID')
  checkBytes(x.recipientKey, 'recipientKey', 32)
  checkBytes(x.senderKey, 'senderKey', 32)
  const t = x.createdAt
  if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0 || t > MAX_TIME_MS) {
    fail('createdAt must be a non-negative integer number of milliseconds')
  }
  checkBytes(x.epk, 'epk', 32)
  if (keys.includes('nonce')) checkBytes(x.nonce, 'nonce', MAIL_NONCE_BYTES)
  if (keys.includes('ct') && checkBytes(x.ct, 'ct').length < TAG_BYTES) fail('ct is too short')
  if (keys.includes('sig')) checkBytes(x.sig, 'sig', 64)
  return x as unknown as MailEnvelope
}

/** Picks exactly the named fields, so stray properties never reach the wire. */
function pick(env: MailEnvelope, keys: string[]): Record<string, unknown> {
  const src = env as unknown as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const k of keys) out[k] = src[k]
  return out
}

/** The AAD: CBOR of the header fields (v, id, to, recipientKey, senderKey, createdAt, epk). */
export function mailHeaderBytes(env: Omit<MailEnvelope, 'nonce' | 'ct' | 'sig'>): Uint8Array {
  const header = pick(env as MailEnvelope, HEADER_KEYS)
  checkEnvelope(header, HEADER_KEYS)
  return encode(header)
}

/** What the sender signs: a domain prefix, then CBOR of every field except sig. */
export function mailSignedBytes(env: Omit<MailEnvelope, 'sig'>): Uint8Array {
  const unsigned = pick(env as MailEnvelope, UNSIGNED_KEYS)
  checkEnvelope(unsigned, UNSIGNED_KEYS)
  return concat([SIGNING_DOMAIN, encode(unsigned)])
}

/** Wire bytes. Throws InvalidMailError if malformed, MailTooLargeError if over the cap. */
export function encodeMail(env: MailEnvelope): Uint8Array {
  const bytes = encode(checkEnvelope(pick(env, ENVELOPE_KEYS), ENVELOPE_KEYS))
  if (bytes.length > MAX_MAIL_BYTES) throw new MailTooLargeError(bytes.length)
  return bytes
}

/** Strict canonical decode of a value that must re-encode to the very same bytes. */
function decodeCanonical(bytes: Uint8Array, what: string): unknown {
  if (!(bytes instanceof Uint8Array)) fail(`${what} is not a byte array`)
  let value: unknown
  try {
    value = decode(bytes, STRICT_DECODE)
  } catch (err) {
    return fail(`${what} is bad CBOR (${(err as Error).message})`, err)
  }
  let again: Uint8Array
  try {
    again = encode(value)
  } catch (err) {
    return fail(`${what} cannot be re-encoded`, err)
  }
  // cborg does not enforce key order or minimal floats on decode and replaces
  // invalid UTF-8; each of these changes the re-encoding.
  if (!equals(again, bytes)) fail(`${what} is not in canonical CBOR form`)
  return value
}

/**
 * Parse wire bytes: size cap, canonical CBOR, exact schema. Does NOT check the
 * signature (verifyMailSignature) or times (the mailbox store does).
 */
export function decodeMail(bytes: Uint8Array): MailEnvelope {
  if (bytes instanceof Uint8Array && bytes.length > MAX_MAIL_BYTES) {
    throw new MailTooLargeError(bytes.length)
  }
  return checkEnvelope(decodeCanonical(bytes, 'envelope'), ENVELOPE_KEYS)
}

function encodePlaintext(p: MailPlaintext): Uint8Array {
  const wire = {
    from: checkString(p.from, 'from'),
    fromUri: checkString(p.fromUri, 'fromUri'),
    date: checkString(p.date, 'date'),
    contentType: checkString(p.contentType, 'contentType'),
    body: checkBytes(p.body, 'body'),
  }
  return encode(wire)
}

function decodePlaintext(bytes: Uint8Array): MailPlaintext {
  const x = decodeCanonical(bytes, 'plaintext')
  if (!isPlainObject(x)) return fail('plaintext is not a CBOR map')
  checkKeys(x, PLAINTEXT_KEYS, 'plaintext')
  return {
    from: checkString(x.from, 'from'),
    fromUri: checkString(x.fromUri, 'fromUri'),
    date: checkString(x.date, 'date'),
    contentType: checkString(x.contentType, 'contentType'),
    body: checkBytes(x.body, 'body'),
  }
}

/** HKDF salt binds the key to this ephemeral key and this recipient. */
function deriveKey(shared: Uint8Array, epk: Uint8Array, recipientX: Uint8Array): Uint8Array {
  return hkdf(sha256, shared, concat([epk, recipientX]), HKDF_INFO, 32)
}

function recipientMontgomery(recipientKey: Uint8Array): Uint8Array {
  try {
    return ed25519.utils.toMontgomery(recipientKey)
  } catch (err) {
    return fail('recipientKey is not a valid ed25519 public key', err)
  }
}

function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n))
}

export interface SealMailOptions {
  /** Recipient user ID. */
  to: string
  /** Recipient ed25519 account public key (raw 32 bytes). */
  recipientKey: Uint8Array
  /** Sender account key; signs the envelope. */
  senderPrivateKey: Ed25519PrivateKey
  plaintext: MailPlaintext
  /** Defaults to Date.now(); injectable for tests. */
  createdAt?: number
}

/** Encrypt `plaintext` to `recipientKey` and sign with the sender's account key. */
export async function sealMail(opts: SealMailOptions): Promise<MailEnvelope> {
  const { senderPrivateKey } = opts
  if (senderPrivateKey?.type !== 'Ed25519') fail('the sender key must be an ed25519 account key')
  checkBytes(opts.recipientKey, 'recipientKey', 32)
  const recipientX = recipientMontgomery(opts.recipientKey)
  const ephSecret = x25519.utils.randomSecretKey()
  const epk = x25519.getPublicKey(ephSecret)
  let shared: Uint8Array
  try {
    shared = x25519.getSharedSecret(ephSecret, recipientX)
  } catch (err) {
    // A small-order recipient key would give a predictable shared secret.
    return fail('recipientKey is not usable for encryption', err)
  }
  const header = {
    v: 1 as const,
    id: randomBytes(MAIL_ID_BYTES),
    to: opts.to,
    recipientKey: new Uint8Array(opts.recipientKey),
    senderKey: new Uint8Array(senderPrivateKey.publicKey.raw),
    createdAt: opts.createdAt ?? Date.now(),
    epk,
  }
  const aad = mailHeaderBytes(header)
  const nonce = randomBytes(MAIL_NONCE_BYTES)
  const key = deriveKey(shared, epk, recipientX)
  const ct = xchacha20poly1305(key, nonce, aad).encrypt(encodePlaintext(opts.plaintext))
  const unsigned = { ...header, nonce, ct }
  // Node's signer may return a Buffer; keep plain Uint8Arrays everywhere.
  const sig = new Uint8Array(await senderPrivateKey.sign(mailSignedBytes(unsigned)))
  const env: MailEnvelope = { ...unsigned, sig }
  encodeMail(env) // size cap and schema, before anyone tries to store it
  return env
}

/** True if `sig` is a valid ed25519 signature by `senderKey`; never throws. */
export async function verifyMailSignature(env: MailEnvelope): Promise<boolean> {
  try {
    const key = publicKeyFromRaw(env.senderKey)
    if (key.type !== 'Ed25519' || env.sig.length !== 64) return false
    return await key.verify(mailSignedBytes(env), env.sig)
  } catch {
    return false
  }
}

/**
 * Decrypt mail addressed to `recipientPrivateKey`. This does not check the
 * signature (it is synchronous); use openVerifiedMail unless the signature was
 * already verified, otherwise `senderKey` is unauthenticated.
 */
export function openMail(env: MailEnvelope, recipientPrivateKey: Ed25519PrivateKey): MailPlaintext {
  if (recipientPrivateKey?.type !== 'Ed25519' || recipientPrivateKey.raw.length !== 64) {
    throw new MailDecryptError('the recipient key must be an ed25519 account key')
  }
  if (!equals(env.recipientKey, recipientPrivateKey.publicKey.raw)) {
    throw new MailDecryptError('this mail is addressed to another account key')
  }
  let pt: Uint8Array
  try {
    // .raw is seed‖public key; the X25519 secret derives from the seed.
    const secret = ed25519.utils.toMontgomerySecret(recipientPrivateKey.raw.subarray(0, 32))
    const recipientX = ed25519.utils.toMontgomery(env.recipientKey)
    const shared = x25519.getSharedSecret(secret, env.epk)
    const key = deriveKey(shared, env.epk, recipientX)
    pt = xchacha20poly1305(key, env.nonce, mailHeaderBytes(env)).decrypt(env.ct)
  } catch (err) {
    throw new MailDecryptError('mail cannot be decrypted: tampered or not for this key', {
      cause: err,
    })
  }
  try {
    return decodePlaintext(pt)
  } catch (err) {
    // Authentic ciphertext with a bad plaintext means a buggy or hostile sender.
    throw new MailDecryptError('mail decrypted to a malformed plaintext', { cause: err })
  }
}

/** Verify the sender's signature, then decrypt. Throws MailSignatureError or MailDecryptError. */
export async function openVerifiedMail(
  env: MailEnvelope,
  recipientPrivateKey: Ed25519PrivateKey,
): Promise<MailPlaintext> {
  if (!(await verifyMailSignature(env))) throw new MailSignatureError()
  return openMail(env, recipientPrivateKey)
}
