/**
 * The real `kaiwa` command: two node processes on loopback (a supernode and a
 * client), driven through `kaiwa claim|lookup|status` and the control API;
 * usage errors; shutdown on SIGTERM and restart on the same data directory.
 */
import { access, mkdir, readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, tempDir } from '../helpers/nodes.js'
import { buildRequest, udpExchange, wire } from '../helpers/sip-wire.js'
import { assertBuilt, LOOPBACK, runKaiwa, spawnNode, stopAllNodes } from '../helpers/cli.js'
import type { NodeProcess, RunResult } from '../helpers/cli.js'

let home: string
let d1: string
let d2: string
let node1: NodeProcess
let node2: NodeProcess

const kaiwa = (...args: string[]): Promise<RunResult> => runKaiwa(args, home)
const json = (r: RunResult): Record<string, unknown> => {
  expect(r.code, `exit code; stderr:\n${r.stderr}`).toBe(0)
  return JSON.parse(r.stdout) as Record<string, unknown>
}
const exists = (p: string): Promise<boolean> =>
  access(p).then(
    () => true,
    () => false,
  )

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([p, timeout])
  } finally {
    clearTimeout(timer)
  }
}

beforeAll(async () => {
  await assertBuilt()
  home = await tempDir('kaiwa-cli-')
  d1 = join(home, 'node1')
  d2 = join(home, 'node2')
  node1 = await spawnNode(['--data', d1, '--supernode', 'on', ...LOOPBACK], home)
  node2 = await spawnNode(
    ['--data', d2, '--supernode', 'off', '--bootstrap', node1.ready.addrs[0]!, '--name', 'bob'],
    home,
  )
}, 120_000)

afterAll(async () => {
  await stopAllNodes()
  if (home != null) await rm(home, { recursive: true, force: true })
})

describe('kaiwa node', () => {
  it('prints exactly one JSON ready line on stdout and logs on stderr', () => {
    const lines = node1.stdout().split('\n')
    expect(lines).toHaveLength(2) // the line and the empty string after its newline
    expect(lines[1]).toBe('')
    const ready = JSON.parse(lines[0]!) as Record<string, unknown>
    expect(ready).toMatchObject({ event: 'ready', role: 'supernode', dataDir: d1, name: null })
    expect(ready.peerId).toMatch(/^12D3Koo/)
    expect(node1.ready.addrs.length).toBeGreaterThan(0)
    for (const a of node1.ready.addrs) expect(a).toMatch(/^\/ip4\/127\.0\.0\.1\//)
    expect(node1.ready.addrs[0]).toContain(`/p2p/${node1.ready.peerId}`)
    expect(node1.ready.api).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(node1.stderr()).toContain(`node ${node1.ready.peerId} is up as supernode`)
  })

  it('starts a client through --bootstrap and claims its --name at start-up', () => {
    expect(node2.ready).toMatchObject({ event: 'ready', role: 'client', name: 'bob' })
    expect(node2.ready.peerId).not.toBe(node1.ready.peerId)
    expect(node2.stdout().trim().split('\n')).toHaveLength(1)
  })

  it('keeps its data directory and API token private', async () => {
    for (const d of [d1, d2]) {
      expect((await stat(d)).mode & 0o777).toBe(0o700)
      expect((await stat(join(d, 'datastore'))).mode & 0o777).toBe(0o700)
      expect((await stat(join(d, 'api-token'))).mode & 0o777).toBe(0o600)
      expect((await stat(join(d, 'api.json'))).mode & 0o777).toBe(0o600)
    }
  })

  it('refuses a second node on a data directory in use', async () => {
    const r = await kaiwa('node', '--data', d1, ...LOOPBACK)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('is in use by another Kaiwa node')
    expect(r.stdout).toBe('')
    // The running node's endpoint file is untouched.
    expect(JSON.parse(await readFile(join(d1, 'api.json'), 'utf8'))).toMatchObject({
      url: node1.ready.api,
      pid: node1.child.pid,
    })
  })
})

describe('kaiwa claim / lookup / status', () => {
  it('claims a name and prints the record', async () => {
    const out = json(await kaiwa('claim', 'alice', '--data', d1))
    const record = out.record as Record<string, unknown>
    expect(record.name).toBe('alice')
    expect(record.devices).toEqual([expect.objectContaining({ peerId: node1.ready.peerId })])
  })

  it('looks a name up from the other node', async () => {
    const record = json(await kaiwa('lookup', 'alice', '--data', d2))
    expect(record).toMatchObject({ name: 'alice', online: true })
    expect(record.devices).toEqual([expect.objectContaining({ peerId: node1.ready.peerId })])
    const bob = json(await kaiwa('lookup', 'bob', '--data', d1))
    expect(bob.name).toBe('bob')
    expect(bob.devices).toEqual([expect.objectContaining({ peerId: node2.ready.peerId })])
  })

  it('exits 2 for a name nobody has', async () => {
    const r = await kaiwa('lookup', 'nobody', '--data', d1)
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain('no user "nobody"')
  })

  it('reports the status of the client', async () => {
    const status = json(await kaiwa('status', '--data', d2))
    expect(status).toMatchObject({ role: 'client', supernodeMode: 'off', name: 'bob' })
    expect(status.peerId).toBe(node2.ready.peerId)
    expect(status.supernodes).toContain(node1.ready.peerId)
    expect(typeof status.recordsHeld).toBe('number')
    const sn = json(await kaiwa('status', '--data', d1))
    expect(sn).toMatchObject({ role: 'supernode', name: 'alice' })
    expect(sn.recordsHeld).toBeGreaterThanOrEqual(2) // alice and bob
  })

  it('refuses a claim for a name another account holds', async () => {
    const r = await kaiwa('claim', 'alice', '--data', d2)
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/"alice" is already claimed/)
    // alice still points at node 1.
    const record = json(await kaiwa('lookup', 'alice', '--data', d2))
    expect(record.devices).toEqual([expect.objectContaining({ peerId: node1.ready.peerId })])
  })

  it('fails to start a node whose --name is taken, and says why', async () => {
    const dir = join(home, 'thief')
    const r = await kaiwa(
      'node',
      '--data',
      dir,
      '--bootstrap',
      node1.ready.addrs[0]!,
      '--name',
      'alice',
      ...LOOPBACK,
    )
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('') // no ready line
    expect(r.stderr).toMatch(/"alice" is already claimed/)
    expect(await exists(join(dir, 'api.json'))).toBe(false)
  })

  it('fails to start a node on an API port in use, and says which flag to change', async () => {
    const dir = join(home, 'port-clash')
    const port = new URL(node1.ready.api).port
    const r = await kaiwa('node', '--data', dir, '--api-port', port, ...LOOPBACK)
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain(`control API port ${port} on 127.0.0.1 is already in use`)
    expect(r.stderr).toContain('--api-port')
    expect(await exists(join(dir, 'api.json'))).toBe(false)
  })

  it('needs the API token', async () => {
    const url = `${node1.ready.api}/api/v1/status`
    const none = await fetch(url, { method: 'POST' })
    expect(none.status).toBe(401)
    // It says what to do without telling a stranger where the data directory is.
    const body = await none.text()
    expect(body).toContain('kaiwa status --data DIR')
    expect(body).not.toContain(d1)
    const wrong = await fetch(url, { method: 'POST', headers: { authorization: 'Bearer nope' } })
    expect(wrong.status).toBe(401)
    const token = (await readFile(join(d1, 'api-token'), 'utf8')).trim()
    const ok = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
    expect(ok.status).toBe(200)
    expect(((await ok.json()) as { peerId: string }).peerId).toBe(node1.ready.peerId)
  })

  it('says how to start a node when none runs for the data directory', async () => {
    const empty = join(home, 'empty')
    await mkdir(empty)
    for (const dir of [empty, join(home, 'does-not-exist')]) {
      const r = await kaiwa('status', '--data', dir)
      expect(r.code).toBe(1)
      expect(r.stderr).toContain(`kaiwa node --data ${dir}`)
    }
  })
})

describe('usage errors', () => {
  it.each([
    [['node', '--bogus'], 'bogus'],
    [['node', '--supernode', 'maybe'], '--supernode must be off, auto or on'],
    [['node', '--api-port', 'x'], '--api-port'],
    [['node', '--api-port', '70000'], '--api-port'],
    [['node', '--log-level', 'loud'], '--log-level'],
    [['node', '--listen', 'notamultiaddr'], 'not a valid multiaddr'],
    [['node', '--bootstrap', '/ip4/1.2.3'], 'not a valid multiaddr'],
    [['lookup'], 'needs exactly one NAME'],
    [['claim', 'a', 'b'], 'needs exactly one NAME'],
    [['status', 'extra'], 'takes no arguments'],
    [['frobnicate'], 'unknown command "frobnicate"'],
    [['node', '--sip-port', '70000'], '--sip-port must be a port number'],
    [['node', '--turn-relay-ports', '5000-4000'], '--turn-relay-ports must be LO-HI'],
    [['node', '--turn-host', 'example.com'], '--turn-host must be an IPv4 address'],
    [['node', '--turn-allocation-kbps', '0'], '--turn-allocation-kbps must be a whole number'],
    [['node', '--turn-allocation-kbps', '5k'], '--turn-allocation-kbps must be a whole number'],
    [['node', '--sip-port', 'x'], '--sip-port must be a port number'],
    [['node', '--turn-port', 'x'], '--turn-port must be a port number'],
    [['node', '--bridge-port', '65536'], '--bridge-port must be a port number'],
    [['turn-credentials', 'extra'], 'takes no arguments'],
    [['node', '--sip-password', ''], '--sip-password must be non-empty'],
    [['node', '--sip-rate', '0'], '--sip-rate must be a positive'],
    [['node', '--sip-digest', 'sha1'], '--sip-digest must be one of md5, sha256, both'],
    [['node', '--overlay', 'not a domain'], '--overlay must be a domain name'],
  ])('kaiwa %j exits 2 with the usage', async (args, why) => {
    const dir = join(home, 'usage')
    const r = await kaiwa(...args, ...(args[0] === 'node' ? ['--data', dir] : []))
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('Usage')
    expect(r.stderr).toContain(why)
    expect(r.stdout).toBe('')
    expect(await exists(dir)).toBe(false) // nothing was started or created
  })

  it('prints the usage on stdout for help', async () => {
    const r = await kaiwa('help')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('Usage')
  })
})

describe('web mode (--ui)', () => {
  it('serves the UI bundle and prints a URL that logs the browser in', async () => {
    const d = join(home, 'node-ui')
    const n = await spawnNode(
      ['--data', d, '--supernode', 'on', '--ui', '--metrics-port', '0', ...LOOPBACK],
      home,
    )
    try {
      const token = (await readFile(join(d, 'api-token'), 'utf8')).trim()
      expect(n.ready.ui).toBe(`${n.ready.api}/#token=${token}`)
      const page = await fetch(n.ready.api)
      expect(page.status).toBe(200)
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'")
      expect(await page.text()).toContain('<div id="root">')
      // Opt-in Prometheus metrics, on loopback, behind the same token.
      const metricsUrl = (n.ready as { metrics?: string }).metrics!
      expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
      expect((await fetch(metricsUrl)).status).toBe(401)
      const scrape = await fetch(metricsUrl, { headers: { authorization: `Bearer ${token}` } })
      expect(scrape.headers.get('content-type')).toContain('version=0.0.4')
      const text = await scrape.text()
      expect(text).toContain('# TYPE kaiwa_relay_bytes_total counter')
      expect(text).toMatch(/^kaiwa_supernode 1$/m)
      expect(text).toMatch(/^kaiwa_cap_relayed_calls \d+$/m)
    } finally {
      await n.stop()
    }
  })
})

describe('the local SIP gateway', () => {
  it('listens where --sip-port says, with --overlay as realm, and shows it in the status', async () => {
    const d3 = join(home, 'node3')
    const port = await freePort()
    // LOOPBACK turns the gateway off (--sip-port 0); the later flag wins.
    const args = ['--data', d3, '--supernode', 'on', '--name', 'carol', ...LOOPBACK]
    const n3 = await spawnNode(
      [...args, '--sip-port', String(port), '--overlay', 'Example.Test', '--sip-digest', 'sha256'],
      home,
    )
    try {
      expect(n3.ready.sip).toBe(`127.0.0.1:${port}`)
      const status = json(await kaiwa('status', '--data', d3))
      const password = (await readFile(join(d3, 'sip-password'), 'utf8')).trim()
      expect(password).toMatch(/^[\w-]{24}$/) // generated on first start
      expect((await stat(join(d3, 'sip-password'))).mode & 0o777).toBe(0o600)
      expect(status.sip).toEqual({
        address: `127.0.0.1:${port}`,
        domain: 'example.test',
        username: 'carol',
        password,
      })
      const options = buildRequest({
        method: 'OPTIONS',
        uri: 'sip:carol@example.test',
        from: 'sip:carol@example.test',
      })
      const ex = await udpExchange(port, wire(options), 2000)
      expect(ex.responses.map((r) => r.status)).toEqual([407])
      expect(ex.responses[0]!.headers.get('proxy-authenticate')).toContain('realm="example.test"')
      expect(ex.responses[0]!.headers.get('proxy-authenticate')).toContain('algorithm=SHA-256')
      // The same port again, given explicitly: a clear error, nothing left running.
      const busy = await kaiwa(
        'node',
        ...['--data', join(home, 'node4'), '--supernode', 'on', ...LOOPBACK],
        ...['--sip-port', String(port)],
      )
      expect(busy.code).toBe(1)
      expect(busy.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`)
    } finally {
      await n3.stop()
    }
    expect(json(await kaiwa('status', '--data', d1)).sip).toBeNull() // node1 runs with --sip-port 0
  })
})

describe('shutdown and restart', () => {
  it('exits 0 on SIGTERM, removes api.json, and restarts with the same identity and name', async () => {
    const code = await withTimeout(node1.stop('SIGTERM'), 10_000, 'shutting down on SIGTERM')
    expect(code).toBe(0)
    expect(await exists(join(d1, 'api.json'))).toBe(false)
    expect(node1.stdout().trim().split('\n')).toHaveLength(1) // still only the ready line
    expect(node1.stderr()).toContain('SIGTERM: shutting down')
    const status = await kaiwa('status', '--data', d1)
    expect(status.code).toBe(1)
    expect(status.stderr).toContain(`kaiwa node --data ${d1}`)

    const again = await spawnNode(
      ['--data', d1, '--supernode', 'on', '--name', 'alice', ...LOOPBACK],
      home,
    )
    expect(again.ready.peerId).toBe(node1.ready.peerId)
    expect(again.ready).toMatchObject({ role: 'supernode', name: 'alice' })
    const record = json(await kaiwa('lookup', 'alice', '--data', d1))
    expect(record.devices).toEqual([expect.objectContaining({ peerId: node1.ready.peerId })])
    expect(await withTimeout(again.stop('SIGINT'), 10_000, 'shutting down on SIGINT')).toBe(0)
    expect(await exists(join(d1, 'api.json'))).toBe(false)
  })

  it('treats the api.json of a crashed node as no node, and restarts over it', async () => {
    const crashed = await spawnNode(['--data', d1, '--supernode', 'on', ...LOOPBACK], home)
    expect(await crashed.stop('SIGKILL')).toBe(null)
    expect(await exists(join(d1, 'api.json'))).toBe(true) // left behind
    const r = await kaiwa('status', '--data', d1)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`kaiwa node --data ${d1}`)

    const again = await spawnNode(['--data', d1, '--supernode', 'on', ...LOOPBACK], home)
    expect(again.ready).toMatchObject({ peerId: node1.ready.peerId, name: 'alice' })
    expect(json(await kaiwa('status', '--data', d1)).peerId).toBe(node1.ready.peerId)
  })
})
