// The servers under test in bench/relay.mjs, each in a process of its own so its CPU time can
// be read apart: ours (relay-server.mjs) and coturn's turnserver. Both listen on 127.0.0.1 with
// relay port ranges that do not overlap each other or Linux's ephemeral range.
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { waitStun } from './relay-host.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const wait = (ms) => new Promise((r) => setTimeout(r, ms))

/**
 * Our server in its own process (relay-server.mjs), optionally from another build's
 * turn-server.js (`module`), on `threads` relay threads sharing the port (turn-cluster.ts), and
 * with --cpu-prof into `profile`.
 */
export async function startOurs({
  port,
  secret,
  realm,
  module,
  profile,
  kids,
  threads = 1,
  relayRange = [20000, 29999],
}) {
  const opts = {
    threads,
    secret,
    realm,
    host: '127.0.0.1',
    port,
    allowLoopback: true,
    // The per-source request limit would make 3000 allocations from one IP take minutes;
    // the bench measures relaying, not request throttling.
    rateLimit: { ratePerS: 1e6, burst: 1e6 },
    relayPortRange: relayRange,
  }
  const execArgv = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []
  const child = spawn(
    process.execPath,
    [
      ...execArgv,
      join(here, 'relay-server.mjs'),
      JSON.stringify(opts),
      ...(module ? [module] : []),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    },
  )
  kids.add(child)
  await new Promise((resolve, reject) => {
    child.stdout.once('data', resolve)
    child.once('exit', (c) => reject(new Error(`relay-server exited with ${c}`)))
  })
  await waitStun(port)
  return {
    pid: child.pid,
    port,
    relayRange: opts.relayPortRange,
    stats: () =>
      new Promise((resolve) => {
        child.once('message', (m) => resolve(m.stats))
        child.send({ type: 'stats' })
      }),
    stop: async () => {
      child.kill('SIGTERM')
      await new Promise((r) => child.once('exit', r))
      kids.delete(child)
    },
  }
}

/** coturn's turnserver on loopback with the same REST-API secret and realm (use-auth-secret). */
export async function startCoturn({ port, secret, realm, kids, relayRange = [10000, 19999] }) {
  const args = [
    '-n',
    '--use-auth-secret',
    `--static-auth-secret=${secret}`,
    '--realm',
    realm,
    '--listening-ip',
    '127.0.0.1',
    '--relay-ip',
    '127.0.0.1',
    '--listening-port',
    String(port),
    '--min-port',
    String(relayRange[0]),
    '--max-port',
    String(relayRange[1]),
    '--allow-loopback-peers',
    '--no-cli',
    '--no-tls',
    '--no-dtls',
    '--no-stdout-log',
    '--log-file',
    '/dev/null',
    '--pidfile',
    '/dev/null',
  ]
  const child = spawn('turnserver', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  kids.add(child)
  let err = ''
  child.stderr.on('data', (d) => (err += d))
  const died = new Promise((_, reject) =>
    child.once('error', (e) => reject(new Error(`turnserver: ${e.message}`))),
  )
  await Promise.race([waitStun(port), died]).catch((e) => {
    throw new Error(`${e.message}\n${err}`)
  })
  return {
    pid: child.pid,
    port,
    relayRange,
    stats: async () => undefined,
    stop: async () => {
      child.kill('SIGTERM')
      await Promise.race([new Promise((r) => child.once('exit', r)), wait(3000)])
      child.kill('SIGKILL')
      kids.delete(child)
    },
  }
}
