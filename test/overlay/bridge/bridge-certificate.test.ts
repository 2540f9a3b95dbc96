/**
 * The bridge's self-signed certificate: a valid X.509 v3 certificate that OpenSSL (through
 * node:crypto) parses and verifies with its own key, kept in the data directory with a private
 * key file only the owner can read, the same across restarts, re-issued on the same key when it
 * nears expiry, and refused with a named error when the files are damaged.
 */
import { X509Certificate, createPublicKey } from 'node:crypto'
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, createServer } from 'node:tls'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  BridgeCertificateError,
  loadOrCreateBridgeCertificate,
  spkiHash,
} from '../../../src/overlay/bridge/bridge-certificate.js'

describe('the bridge certificate', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kaiwa-bridge-cert-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('is a self-signed ECDSA P-256 v3 certificate, verified by its own key', async () => {
    const c = await loadOrCreateBridgeCertificate(dir)
    const x = new X509Certificate(c.cert)
    expect(x.verify(x.publicKey)).toBe(true)
    expect(x.checkIssued(x)).toBe(true)
    expect(x.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1')
    expect(x.subject).toBe('CN=Kaiwa bridge')
    expect(x.subjectAltName).toBe('DNS:kaiwa.invalid')
    expect(x.ca).toBe(false)
    expect(Date.parse(x.validFrom)).toBeLessThan(Date.now())
    expect(c.notAfter - Date.now()).toBeGreaterThan(390 * 86_400_000)
    expect(c.spkiSha256).toBe(spkiHash(createPublicKey(c.key)))
    expect(statSync(join(dir, 'bridge-key.pem')).mode & 0o077).toBe(0)
  })

  it('serves a real TLS handshake', async () => {
    const c = await loadOrCreateBridgeCertificate(dir)
    const srv = createServer({ key: c.key, cert: c.cert }, (s) => s.end('hi'))
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
    const port = (srv.address() as { port: number }).port
    const got = await new Promise<string>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
        const peer = s.getPeerX509Certificate()
        expect(peer && spkiHash(peer.publicKey)).toBe(c.spkiSha256)
      })
      s.setEncoding('utf8').on('data', resolve).on('error', reject)
    })
    srv.close()
    expect(got).toBe('hi')
  })

  it('is the same after a restart, and re-issued on the same key near expiry', async () => {
    const first = await loadOrCreateBridgeCertificate(dir)
    const again = await loadOrCreateBridgeCertificate(dir)
    expect(again).toEqual(first)
    const later = first.notAfter - 10 * 86_400_000
    const renewed = await loadOrCreateBridgeCertificate(dir, later)
    expect(renewed.cert).not.toBe(first.cert)
    expect(renewed.spkiSha256).toBe(first.spkiSha256)
    expect(renewed.notAfter).toBeGreaterThan(first.notAfter)
    expect(await readFile(join(dir, 'bridge-cert.pem'), 'utf8')).toBe(renewed.cert)
  })

  it('is made once when asked for twice at once (a dual-stack supernode: one listener per family)', async () => {
    const [a, b] = await Promise.all([
      loadOrCreateBridgeCertificate(dir),
      loadOrCreateBridgeCertificate(dir),
    ])
    expect(b).toEqual(a)
    expect(await readFile(join(dir, 'bridge-cert.pem'), 'utf8')).toBe(a.cert)
  })

  it('refuses a damaged certificate or key with BridgeCertificateError', async () => {
    await loadOrCreateBridgeCertificate(dir)
    writeFileSync(join(dir, 'bridge-cert.pem'), 'not a certificate')
    await expect(loadOrCreateBridgeCertificate(dir)).rejects.toThrow(BridgeCertificateError)
    rmSync(join(dir, 'bridge-cert.pem'))
    writeFileSync(join(dir, 'bridge-key.pem'), 'garbage')
    await expect(loadOrCreateBridgeCertificate(dir)).rejects.toThrow(/bridge-key\.pem/)
  })

  it('refuses a certificate that belongs to another key', async () => {
    await loadOrCreateBridgeCertificate(dir)
    const other = mkdtempSync(join(tmpdir(), 'kaiwa-bridge-cert-'))
    try {
      const foreign = await loadOrCreateBridgeCertificate(other)
      writeFileSync(join(dir, 'bridge-cert.pem'), foreign.cert)
      await expect(loadOrCreateBridgeCertificate(dir)).rejects.toThrow(/does not match/)
    } finally {
      rmSync(other, { recursive: true, force: true })
    }
  })
})
