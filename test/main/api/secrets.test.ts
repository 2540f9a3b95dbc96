/**
 * Secrets stay out of logs and error bodies (issue 11): a real `kaiwa node`
 * process with a claimed name, the SIP gateway and the UI, logging at debug,
 * is driven through the control API, the CLI and its SIP gateway (right and
 * wrong digest passwords); then neither the API token nor the SIP password
 * may appear in anything it wrote, except the token in the ready line's
 * documented "ui" address on stdout. A request without the token gets a 401
 * that says what to do and names no path.
 */
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { withLogRing } from '../../../src/main/log-ring.js'
import { createStderrLogger, redactingLogger, REDACTED } from '../../../src/main/logger.js'
import type { Logger } from '../../../src/shared/logger.js'
import { API_PREFIX } from '../../../src/shared/api/contract.js'
import {
  assertBuilt,
  assertUiBuilt,
  LOOPBACK,
  runKaiwa,
  spawnNode,
  stopAllNodes,
} from '../../helpers/cli.js'
import type { NodeProcess } from '../../helpers/cli.js'
import { freePort, tempDir } from '../../helpers/nodes.js'
import { buildRequest, udpExchange, wire, withCredentials } from '../../helpers/sip-wire.js'

let home: string
let dataDir: string
let node: NodeProcess
let sipPort: number
let token: string
let sipPassword: string
/** Everything the node wrote, read once it has shut down (so shutdown lines count too). */
let stdout = ''
let stderr = ''

/** A filesystem path: the data directory, the home directory, or any absolute POSIX/Windows path. */
const PATHISH = /(^|[\s"'(=])(\/(home|tmp|root|Users|var|srv|etc)\/|[A-Za-z]:\\)/

async function unauthorized(
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  const res = await fetch(`${node.ready.api}${API_PREFIX}/status`, {
    method: 'POST',
    headers,
    body: '{}',
  })
  return { status: res.status, text: await res.text() }
}

beforeAll(async () => {
  await assertBuilt()
  await assertUiBuilt()
  home = await tempDir('kaiwa-secrets-')
  dataDir = join(home, 'node')
  sipPort = await freePort()
  node = await spawnNode(
    [
      ...['--data', dataDir, '--supernode', 'on', '--name', 'carol', ...LOOPBACK],
      // LOOPBACK turns the gateway off (--sip-port 0); the later flag wins.
      ...['--sip-port', String(sipPort), '--ui', '--log-level', 'debug'],
    ],
    home,
  )
  token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim()
  sipPassword = (await readFile(join(dataDir, 'sip-password'), 'utf8')).trim()
}, 120_000)

afterAll(async () => {
  await stopAllNodes()
  if (home != null) await rm(home, { recursive: true, force: true })
})

describe('the 401 of the control API', () => {
  it('says what to do and names no path, for a missing and a wrong token', async () => {
    const cases: Array<Record<string, string>> = [{}, { authorization: 'Bearer not-the-token' }]
    for (const headers of cases) {
      const r = await unauthorized(headers)
      expect(r.status).toBe(401)
      const body = JSON.parse(r.text) as { error: { code: string; message: string } }
      expect(body.error.code).toBe('unauthorized')
      expect(body.error.message).toContain('kaiwa status --data DIR')
      expect(r.text).not.toContain(dataDir)
      expect(r.text).not.toContain(home)
      expect(r.text).not.toMatch(PATHISH)
    }
  })
})

describe('logs at debug level', () => {
  beforeAll(async () => {
    // Work that touches both secrets: the API (status shows the SIP password to the token
    // holder), TURN credentials, and the gateway's digest check with the right and a wrong one.
    const status = await runKaiwa(['status', '--data', dataDir], home)
    expect(status.code, status.stderr).toBe(0)
    expect((JSON.parse(status.stdout) as { sip: { password: string } }).sip.password).toBe(
      sipPassword,
    )
    expect((await runKaiwa(['turn-credentials', '--data', dataDir], home)).code).not.toBeNull()
    const register = buildRequest({
      method: 'REGISTER',
      uri: 'sip:kaiwa',
      from: 'sip:carol@kaiwa',
      to: 'sip:carol@kaiwa',
      extra: [
        ['Contact', '<sip:carol@127.0.0.1:9>'],
        ['Expires', '60'],
      ],
    })
    const challenge = (await udpExchange(sipPort, wire(register), 2000)).responses[0]!
    expect([401, 407]).toContain(challenge.status)
    const good = withCredentials(register, challenge, 'carol', sipPassword)
    const registered = (await udpExchange(sipPort, wire(good), 2000)).responses
    expect(registered.map((r) => `${r.status} ${r.reason}`)).toContain('200 OK')
    const bad = withCredentials(register, challenge, 'carol', `${sipPassword}x`)
    await udpExchange(sipPort, wire(bad), 2000)
    await unauthorized({ authorization: `Bearer ${token}x` })
    // Garbage carrying both secrets, which the gateway logs (at debug) as bad input.
    const garbage = `REGISTER ${sipPassword} ${token}\r\nVia: nonsense\r\n\r\n`
    await udpExchange(sipPort, new TextEncoder().encode(garbage), 500)

    expect(await node.stop('SIGTERM')).toBe(0)
    stdout = node.stdout()
    stderr = node.stderr()
  }, 60_000)

  it('really logged at debug, and the UI line says where to look without the address', () => {
    expect(stderr).toMatch(/ debug /)
    expect(stderr).toContain('open the "ui" address of the ready line')
  })

  it('never write the API token, except in the ready line\'s "ui" address', () => {
    expect(token).toMatch(/^[\w-]{43}$/)
    expect(stderr).not.toContain(token)
    const lines = stdout.trim().split('\n')
    expect(lines).toHaveLength(1) // only the ready line
    const { ui, ...rest } = JSON.parse(lines[0]!) as { ui?: string } & Record<string, unknown>
    expect(ui).toBe(`${node.ready.api}/#token=${token}`)
    expect(JSON.stringify(rest)).not.toContain(token)
  })

  it('never write the SIP password', () => {
    expect(sipPassword).toMatch(/^[\w-]{24}$/)
    expect(stderr).not.toContain(sipPassword)
    expect(stdout).not.toContain(sipPassword)
  })
})

describe('redactingLogger', () => {
  it('blanks out registered secrets in every level and child, and ignores short ones', () => {
    const lines: string[] = []
    const sink = (component: string): Logger => ({
      debug: (m) => lines.push(`debug ${component} ${m}`),
      info: (m) => lines.push(`info ${component} ${m}`),
      warn: (m) => lines.push(`warn ${component} ${m}`),
      error: (m) => lines.push(`error ${component} ${m}`),
      child: (c) => sink(`${component}:${c}`),
    })
    const log = redactingLogger(sink('kaiwa'))
    log.info('before: s3cret-token-value')
    log.addSecret('s3cret-token-value')
    log.addSecret('pw') // too short to redact without blanking ordinary words
    log.debug('token s3cret-token-value twice s3cret-token-value; pw stays')
    log.child('api').child('ws').error('x s3cret-token-value')
    expect(lines).toEqual([
      'info kaiwa before: s3cret-token-value',
      `debug kaiwa token ${REDACTED} twice ${REDACTED}; pw stays`,
      `error kaiwa:api:ws x ${REDACTED}`,
    ])
  })

  it('keeps the log ring ("Export logs") redacted too', () => {
    const log = redactingLogger(createStderrLogger('silent'))
    log.addSecret('s3cret-token-value')
    const ring = withLogRing(log)
    ring.log.child('api').warn('leaked s3cret-token-value')
    expect(ring.text()).toContain(`warn  kaiwa:api: leaked ${REDACTED}`)
    expect(ring.text()).not.toContain('s3cret-token-value')
  })
})
