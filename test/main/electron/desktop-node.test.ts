/**
 * The desktop app's node path end to end, minus Electron: the node host's
 * real start (`kaiwa node` flags, a real node, the control API with a fresh
 * token), then the main process's side of it: NodeLink calling the API and
 * receiving events, and SipPipes carrying raw SIP both ways through the
 * node's router (REGISTER, then a MESSAGE the node routes back to this very
 * pipe), and noticing when the node goes away.
 */
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectionOf } from '../../../src/main/electron/host-protocol.js'
import type { FromHost, NodeConnection } from '../../../src/main/electron/host-protocol.js'
import { runNodeHost } from '../../../src/main/electron/node-host-runner.js'
import type { NodeHost } from '../../../src/main/electron/node-host-runner.js'
import { NodeLink } from '../../../src/main/electron/node-link.js'
import { SipPipes } from '../../../src/main/electron/sip-pipes.js'
import { respond } from '../../../src/shared/sip/responses.js'
import { serializeSipMessage } from '../../../src/shared/sip/sip-message.js'
import { parseSipMessage } from '../../../src/shared/sip/sip-parser.js'
import { LOOPBACK } from '../../helpers/cli.js'
import { LOG_LEVEL, tempDir } from '../../helpers/nodes.js'
import { quietLogger } from './fakes/electron-fakes.js'

let dataDir: string
let host: NodeHost
let exitCode: number | undefined
let connection: NodeConnection
const events: Array<[string, unknown]> = []
let link: NodeLink
const fromNode: Array<[number, string]> = []
const closedPipes: Array<[number, string]> = []
let pipes: SipPipes

function sipRequest(method: string, uri: string, extra = ''): string {
  const id = Math.random().toString(36).slice(2)
  return (
    `${method} ${uri} SIP/2.0\r\nVia: SIP/2.0/WSS ua.invalid;branch=z9hG4bK${id}\r\n` +
    `Max-Forwards: 70\r\nFrom: <sip:alice@kaiwa>;tag=${id}\r\nTo: <sip:alice@kaiwa>\r\n` +
    `Call-ID: ${id}\r\nCSeq: 1 ${method}\r\n${extra}`
  )
}

const statusOf = (raw: string): number => Number(/^SIP\/2\.0 (\d{3})/.exec(raw)?.[1] ?? 0)

async function next(pipe: number, match: (raw: string) => boolean, what: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const at = fromNode.findIndex(([id, raw]) => id === pipe && match(raw))
    if (at !== -1) return fromNode.splice(at, 1)[0]![1]
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`no ${what} on pipe ${pipe}`)
}

describe('desktop node path', () => {
  beforeAll(async () => {
    dataDir = await tempDir('kaiwa-desktop-')
    const posted: FromHost[] = []
    let deliver: ((e: { data: unknown }) => void) | undefined
    host = runNodeHost({
      port: { postMessage: (m) => void posted.push(m), on: (_e, l) => (deliver = l) },
      exit: (code) => (exitCode = code),
      log: () => {},
    })
    const args = ['--data', dataDir, '--supernode', 'on', '--log-level', LOG_LEVEL, ...LOOPBACK]
    deliver!({ data: { type: 'start', args } })
    for (let i = 0; i < 600 && posted.length === 0; i++) await new Promise((r) => setTimeout(r, 50))
    const ready = posted[0]
    if (ready?.type !== 'ready') throw new Error(`the host did not start: ${JSON.stringify(ready)}`)
    connection = connectionOf(ready)
    link = new NodeLink({ onEvent: (e, d) => void events.push([e, d]), log: quietLogger() })
    link.attach(connection)
    pipes = new SipPipes({
      connection: () => link.connection,
      onMessage: (id, raw) => void fromNode.push([id, raw]),
      onClosed: (id, reason) => void closedPipes.push([id, reason]),
      log: quietLogger(),
    })
  }, 60_000)

  afterAll(async () => {
    link?.detach('test over')
    pipes?.closeAll()
    await host?.shutdown()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('mints a fresh token per run and keeps it off the disk', async () => {
    expect(connection.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(connection.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(connection.dataDir).toBe(dataDir)
    const res = await fetch(`${connection.url}/api/v1/status`, { method: 'POST', body: '{}' })
    expect(res.status).toBe(401)
  })

  it('proxies contract calls, with error codes', async () => {
    const status = await link.call('status', {})
    expect(status).toMatchObject({ ok: true, result: { peerId: connection.peerId } })
    expect(await link.call('claim', { name: 'alice' })).toMatchObject({
      ok: true,
      result: { record: { name: 'alice' } },
    })
    const missing = await link.call('lookup', { name: 'nobody-here' })
    expect(missing.ok).toBe(false)
    if (!missing.ok) expect(['not_found', 'no_peers']).toContain(missing.error.code)
  })

  it('forwards the node events', async () => {
    for (let i = 0; i < 200 && !events.some(([e]) => e === 'status'); i++) {
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(events.find(([e]) => e === 'status')?.[1]).toMatchObject({ peerId: connection.peerId })
  }, 15_000)

  it('carries SIP both ways on a pipe', async () => {
    const pipe = await pipes.open()
    expect(
      pipes.send(
        pipe,
        sipRequest(
          'REGISTER',
          'sip:kaiwa',
          'Contact: <sip:ui@ua.invalid>\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n',
        ),
      ),
    ).toBe(true)
    expect(statusOf(await next(pipe, (r) => r.startsWith('SIP/2.0'), 'REGISTER answer'))).toBe(200)

    // A MESSAGE to ourselves: the node routes it to the registered UA, which is this pipe.
    const body = 'hello from the desktop'
    pipes.send(
      pipe,
      sipRequest(
        'MESSAGE',
        'sip:alice@kaiwa',
        `Content-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      ),
    )
    const incoming = await next(pipe, (r) => r.startsWith('MESSAGE '), 'incoming MESSAGE')
    expect(incoming.endsWith(body)).toBe(true)
    const parsed = parseSipMessage(new TextEncoder().encode(incoming), { transport: 'stream' })
    if (!parsed.ok || parsed.message.kind !== 'request') throw new Error('unparsable MESSAGE')
    const ok = new TextDecoder().decode(serializeSipMessage(respond(parsed.message, 200, 'OK')))
    pipes.send(pipe, ok)
    const answer = await next(
      pipe,
      (r) => /^SIP\/2\.0 \d{3}.*\r\nCSeq: 1 MESSAGE/is.test(r),
      'MESSAGE answer',
    )
    expect(statusOf(answer)).toBe(200)
    pipes.close(pipe)
    expect(pipes.send(pipe, ok)).toBe(false)
  })

  it('refuses more pipes than allowed', async () => {
    const few = new SipPipes({
      connection: () => connection,
      onMessage: () => {},
      onClosed: () => {},
      log: quietLogger(),
      maxPipes: 1,
    })
    await few.open()
    await expect(few.open()).rejects.toMatchObject({ code: 'too_many' })
    few.closeAll()
    const none = new SipPipes({
      connection: () => undefined,
      onMessage: () => {},
      onClosed: () => {},
      log: quietLogger(),
    })
    await expect(none.open()).rejects.toMatchObject({ code: 'unavailable' })
  })

  it('tells open pipes and later calls when the node goes away', async () => {
    const pipe = await pipes.open()
    await host.shutdown()
    expect(exitCode).toBe(0)
    for (let i = 0; i < 100 && closedPipes.length === 0; i++)
      await new Promise((r) => setTimeout(r, 20))
    expect(closedPipes.map(([id]) => id)).toEqual([pipe])
    link.detach('the Kaiwa node stopped')
    const quick = new NodeLink({ onEvent: () => {}, log: quietLogger(), waitMs: 20 })
    quick.detach('the Kaiwa node stopped')
    expect(await quick.call('status', {})).toEqual({
      ok: false,
      error: { code: 'unavailable', message: 'the Kaiwa node stopped' },
    })
  })
})
