/**
 * The app's TURN over TLS through its node: a loopback `turn:` URL whose bytes reach a `turns:`
 * server (here a TLS echo with a bridge certificate, self-signed as a supernode's is) unchanged,
 * both ways.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer } from 'node:tls'
import type { Server } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadOrCreateBridgeCertificate } from '../../../src/overlay/bridge/bridge-certificate.js'
import { TurnsForwarder } from '../../../src/overlay/bridge/turns-forwarder.js'
import { parseIceUrl } from '../../../src/overlay/media/ice-servers.js'
import { silentLogger } from '../../helpers/logger.js'

let dir: string
let server: Server
let port: number
let accepted = 0

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'turns-fwd-'))
  const cert = await loadOrCreateBridgeCertificate(dir)
  server = createServer({ key: cert.key, cert: cert.cert }, (s) => {
    accepted++
    s.on('data', (d: Buffer) => s.write(Buffer.concat([Buffer.from('echo:'), d])))
    s.on('error', () => {})
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  port = (server.address() as { port: number }).port
})

afterAll(async () => {
  await new Promise((r) => server.close(r))
  rmSync(dir, { recursive: true, force: true })
})

function dial(url: string): Promise<Socket> {
  const { host, port: p } = parseIceUrl(url)!
  return new Promise((resolve, reject) => {
    const s = connect(p, host, () => resolve(s))
    s.once('error', reject)
  })
}

const reply = (s: Socket): Promise<string> =>
  new Promise((r) => s.once('data', (d: Buffer) => r(d.toString())))

describe('TURN over TLS through the node', () => {
  it('gives a loopback turn: URL whose bytes reach the turns: server through TLS and back', async () => {
    const f = new TurnsForwarder({ log: silentLogger })
    try {
      const url = await f.localUrl(`turns:127.0.0.1:${port}?transport=tcp`)
      expect(url).toMatch(/^turn:127\.0\.0\.1:\d+\?transport=tcp$/)
      // The same bridge keeps its listener.
      expect(await f.localUrl(`turns:127.0.0.1:${port}?transport=tcp`)).toBe(url)
      const s = await dial(url!)
      const got = reply(s)
      s.write('allocate')
      expect(await got).toBe('echo:allocate')
      s.destroy()
    } finally {
      await f.close()
    }
  })

  it('leaves other URLs alone and caps bridges and connections', async () => {
    const f = new TurnsForwarder({ log: silentLogger, maxTargets: 1, maxConnections: 1 })
    try {
      expect(await f.localUrl('turn:127.0.0.1:3478?transport=udp')).toBeUndefined()
      expect(await f.localUrl('stun:127.0.0.1:3478')).toBeUndefined()
      expect(await f.localUrl('turns:example.invalid:443?transport=tcp')).toBeUndefined()
      const url = (await f.localUrl(`turns:127.0.0.1:${port}?transport=tcp`))!
      expect(await f.localUrl('turns:127.0.0.2:443?transport=tcp')).toBeUndefined()
      const first = await dial(url)
      const got = reply(first)
      first.write('one')
      expect(await got).toBe('echo:one')
      const before = accepted
      const second = await dial(url)
      await new Promise<void>((r) => second.once('close', () => r()))
      expect(accepted).toBe(before)
      first.destroy()
    } finally {
      await f.close()
    }
  })

  it('ends the app side when the supernode is unreachable, and closes cleanly', async () => {
    const f = new TurnsForwarder({ log: silentLogger })
    const url = (await f.localUrl('turns:127.0.0.1:9?transport=tcp'))!
    const s = await dial(url)
    await new Promise<void>((r) => s.once('close', () => r()))
    await f.close()
    expect(await f.localUrl(`turns:127.0.0.1:${port}?transport=tcp`)).toBeUndefined()
  })
})
