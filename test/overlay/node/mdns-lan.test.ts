/**
 * mDNS finds peers on a LAN, and `--no-mdns` turns it off. The LAN is made of
 * network namespaces created here, so no multicast reaches the host's network.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLan, netnsAvailable } from '../../helpers/netns.js'
import type { Lan } from '../../helpers/netns.js'
import { assertBuilt } from '../../helpers/cli.js'
import { required } from '../../helpers/requirements.js'
import { ROOT } from '../../helpers/cli.js'

const procs: ChildProcess[] = []
let lan: Lan
let base: string

function nodeIn(ns: string, dataDir: string, extra: string[]): Promise<{ peerId: string }> {
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      ns,
      process.execPath,
      'bin/kaiwa.js',
      'node',
      '--data',
      dataDir,
      '--no-upnp',
      '--listen',
      '/ip4/0.0.0.0/tcp/0',
      '--log-level',
      'warn',
      ...extra,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  procs.push(child)
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`node in ${ns} exited ${code}`)))
    createInterface({ input: child.stdout! }).once('line', (l) => resolve(JSON.parse(l)))
  })
}

async function peersOf(ns: string, dataDir: string): Promise<number> {
  const { url } = JSON.parse(await readFile(join(dataDir, 'api.json'), 'utf8'))
  const token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim()
  // The API listens on 127.0.0.1 inside the namespace; ask from inside it too.
  const out = await new Promise<string>((resolve, reject) => {
    const c = spawn('ip', [
      'netns',
      'exec',
      ns,
      process.execPath,
      '-e',
      `fetch(${JSON.stringify(url + '/api/v1/status')},{method:'POST',headers:{authorization:'Bearer ${token}','content-type':'application/json'},body:'{}'}).then(r=>r.text()).then(t=>process.stdout.write(t))`,
    ])
    let s = ''
    c.stdout.on('data', (d) => (s += d))
    c.once('exit', (code) => (code === 0 ? resolve(s) : reject(new Error(`status exited ${code}`))))
  })
  return JSON.parse(out).peers
}

describe.runIf(required(netnsAvailable(), 'root with network namespaces'))(
  'mDNS on a LAN of network namespaces',
  () => {
    beforeAll(async () => {
      await assertBuilt()
      lan = createLan(3)
      base = await mkdtemp(join(tmpdir(), 'kaiwa-mdns-'))
    }, 30_000)
    afterAll(async () => {
      for (const p of procs) p.kill('SIGKILL')
      lan?.destroy()
      if (base) await rm(base, { recursive: true, force: true })
    })

    it('finds a peer on the LAN with mDNS, and not with --no-mdns', async () => {
      const [a, b, c] = ['h0', 'h1', 'h2'].map((h) => join(base, h))
      await nodeIn(lan.namespaces[0]!, a!, ['--supernode', 'on'])
      await nodeIn(lan.namespaces[1]!, b!, ['--supernode', 'off'])
      await nodeIn(lan.namespaces[2]!, c!, ['--supernode', 'off', '--no-mdns'])
      const deadline = Date.now() + 20_000
      while (Date.now() < deadline && (await peersOf(lan.namespaces[1]!, b!)) === 0)
        await new Promise((r) => setTimeout(r, 250))
      expect(await peersOf(lan.namespaces[1]!, b!)).toBeGreaterThan(0)
      // c neither announces nor listens, and nobody was told its address.
      expect(await peersOf(lan.namespaces[2]!, c!)).toBe(0)
    }, 60_000)
  },
)
