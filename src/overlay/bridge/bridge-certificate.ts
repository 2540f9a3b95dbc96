/**
 * The bridge's TLS certificate: self-signed, ECDSA P-256 with SHA-256 (RFC 5480, RFC 5758 §3.2;
 * what every TLS stack, Chromium's included, accepts), made on first use and kept in the data
 * directory (`bridge-key.pem` 0600, `bridge-cert.pem`), so its SPKI hash stays the same across
 * restarts and can be pinned.
 *
 * The TLS layer on the bridge port is camouflage, not security: it makes the overlay and TURN
 * look like HTTPS to middleboxes that pass only TLS on 443. The overlay's security is Noise on
 * top (the peer ID is the key), and TURN's is its long-term credentials (RFC 8656 §9.2), so
 * nothing relies on this certificate being trusted. Browsers do verify it for TURNS, though:
 * see `spkiHash` and the README's "Port-443-only networks".
 *
 * Node has no X.509 writer; the certificate is a minimal RFC 5280 §4.1 v3 certificate DER-encoded
 * here (X.690), with one extension, a subjectAltName (dNSName `kaiwa.invalid`, RFC 6761 §6.4).
 */
import { X509Certificate, createHash, createPrivateKey, createPublicKey } from 'node:crypto'
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { open, readFile, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { KaiwaError } from '../../shared/errors.js'

/** The data directory's key or certificate is unreadable or does not match. */
export class BridgeCertificateError extends KaiwaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'internal', options)
    this.name = 'BridgeCertificateError'
  }
}

export interface BridgeCertificate {
  /** PEM, for tls.createSecureContext. */
  key: string
  cert: string
  /** base64 SHA-256 of the DER SubjectPublicKeyInfo: Chromium's --ignore-certificate-errors-spki-list form. */
  spkiSha256: string
  /** When the certificate stops being valid (ms since the epoch). */
  notAfter: number
}

/** How long a new certificate is valid; it is renewed (same key) at start-up once less than 30 days remain. */
const VALIDITY_DAYS = 397
const RENEW_BEFORE_MS = 30 * 86_400_000

/**
 * The certificate in `dataDir`, made (key and certificate) when absent and re-issued on the same
 * key when it is about to expire, so the SPKI pin survives renewals.
 */
export function loadOrCreateBridgeCertificate(
  dataDir: string,
  now = Date.now(),
): Promise<BridgeCertificate> {
  // One load per directory at a time: a dual-stack supernode starts a bridge listener per
  // listen address at once, and two concurrent creations race on the same .tmp file.
  const running = loading.get(dataDir)
  if (running !== undefined) return running
  const p = load(dataDir, now).finally(() => loading.delete(dataDir))
  loading.set(dataDir, p)
  return p
}

const loading = new Map<string, Promise<BridgeCertificate>>()

async function load(dataDir: string, now: number): Promise<BridgeCertificate> {
  const keyPath = join(dataDir, 'bridge-key.pem')
  const certPath = join(dataDir, 'bridge-cert.pem')
  const key = await loadOrCreateKey(keyPath)
  const existing = await readFile(certPath, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined
    throw new BridgeCertificateError(`cannot read ${certPath}: ${err.message}`, { cause: err })
  })
  if (existing != null) {
    const parsed = describe(key, existing, certPath)
    if (parsed.notAfter - now > RENEW_BEFORE_MS) return parsed
  }
  const cert = selfSignedCertificate(key.privateKey, now)
  const tmp = `${certPath}.tmp`
  await writeNew(tmp, cert, 0o644)
  await rename(tmp, certPath)
  return describe(key, cert, certPath)
}

interface KeyPair {
  privateKey: KeyObject
  pem: string
}

async function loadOrCreateKey(path: string): Promise<KeyPair> {
  try {
    const pem = await readFile(path, 'utf8')
    const privateKey = createPrivateKey(pem)
    return { privateKey, pem }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new BridgeCertificateError(`${path} is unreadable (${String(err)}); delete it`, {
        cause: err,
      })
  }
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  try {
    await writeNew(path, pem, 0o600)
  } catch (err) {
    // Another process made it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateKey(path)
    throw err
  }
  return { privateKey, pem }
}

async function writeNew(path: string, text: string, mode: number): Promise<void> {
  if (path.endsWith('.tmp')) await unlink(path).catch(() => undefined)
  const fh = await open(path, 'wx', mode)
  try {
    await fh.writeFile(text)
  } finally {
    await fh.close()
  }
}

function describe(key: KeyPair, certPem: string, certPath: string): BridgeCertificate {
  let x509: X509Certificate
  try {
    x509 = new X509Certificate(certPem)
  } catch (err) {
    throw new BridgeCertificateError(`${certPath} is not a certificate; delete it`, { cause: err })
  }
  if (!x509.checkPrivateKey(key.privateKey))
    throw new BridgeCertificateError(`${certPath} does not match the bridge key; delete it`)
  return {
    key: key.pem,
    cert: certPem,
    spkiSha256: spkiHash(x509.publicKey),
    notAfter: Date.parse(x509.validTo),
  }
}

/** base64 SHA-256 of a public key's DER SubjectPublicKeyInfo (RFC 7469 §2.4's pin, base64). */
export function spkiHash(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' })
  return createHash('sha256').update(der).digest('base64')
}

// --- X.690 DER, just what a certificate needs ---

function tlv(tag: number, body: Uint8Array): Buffer {
  const n = body.length
  const len =
    n < 0x80
      ? [n]
      : n < 0x100
        ? [0x81, n]
        : n < 0x10000
          ? [0x82, n >> 8, n & 0xff]
          : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]
  return Buffer.concat([Buffer.from([tag, ...len]), body])
}
const seq = (...items: Uint8Array[]) => tlv(0x30, Buffer.concat(items))
const set = (...items: Uint8Array[]) => tlv(0x31, Buffer.concat(items))
const explicit = (n: number, body: Uint8Array) => tlv(0xa0 + n, body)
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'))
const octets = (b: Uint8Array) => tlv(0x04, b)
const bitString = (b: Uint8Array) => tlv(0x03, Buffer.concat([Buffer.from([0]), b]))

function integer(b: Uint8Array): Buffer {
  let i = 0
  while (i < b.length - 1 && b[i] === 0) i++
  const body = b.subarray(i)
  return tlv(0x02, body[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), body]) : body)
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number)
  const out = [a! * 40 + b!]
  for (const n of rest) {
    const bytes = [n & 0x7f]
    for (let v = n >>> 7; v > 0; v >>>= 7) bytes.unshift((v & 0x7f) | 0x80)
    out.push(...bytes)
  }
  return tlv(0x06, Buffer.from(out))
}

/** UTCTime until 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5). */
function time(ms: number): Buffer {
  const iso = new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z'
  const year = Number(iso.slice(0, 4))
  return year < 2050 ? tlv(0x17, Buffer.from(iso.slice(2))) : tlv(0x18, Buffer.from(iso))
}

const ECDSA_WITH_SHA256 = seq(oid('1.2.840.10045.4.3.2'))
const NAME = seq(set(seq(oid('2.5.4.3'), utf8('Kaiwa bridge'))))
const SAN = seq(oid('2.5.29.17'), octets(seq(tlv(0x82, Buffer.from('kaiwa.invalid')))))

/** A self-signed v3 certificate (PEM) for `privateKey`, valid from an hour before `now`. */
export function selfSignedCertificate(privateKey: KeyObject, now = Date.now()): string {
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' })
  const serial = randomBytes(16)
  serial[0]! &= 0x7f
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    ECDSA_WITH_SHA256,
    NAME,
    seq(time(now - 3_600_000), time(now + VALIDITY_DAYS * 86_400_000)),
    NAME,
    spki,
    explicit(3, seq(SAN)),
  )
  // ECDSA signatures come out DER-encoded (Ecdsa-Sig-Value, RFC 5480 §2.2's companion RFC 3279).
  const signature = sign('sha256', tbs, privateKey)
  const der = seq(tbs, ECDSA_WITH_SHA256, bitString(signature))
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n')
  return `-----BEGIN CERTIFICATE-----\n${b64.trimEnd()}\n-----END CERTIFICATE-----\n`
}
