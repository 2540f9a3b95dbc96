/**
 * Real `kaiwa node` processes in lab namespaces: a supernode on a public host,
 * clients behind the NATs. Each node runs with conn-probe.mjs preloaded (its
 * connections and WebRTC ICE, as JSON lines in DIR/natlab-probe.jsonl) and
 * its stderr kept; its control API is reached through the agent in its
 * namespace. The lab kills the processes on teardown.
 */
import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createInterface } from 'node:readline'
import type { Lab, LabHost } from './lab.js'
import { startAgent } from './agent-client.js'
import type { Agent } from './agent-client.js'
import { LAB_IPV6_PREFIX, isIpv6Only } from './lab-ipv6.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const BIN = join(ROOT, 'bin', 'kaiwa.js')
const PROBE = pathToFileURL(fileURLToPath(new URL('./conn-probe.mjs', import.meta.url))).href
const LIB_SUPERNODE = fileURLToPath(new URL('./lab-supernode.mjs', import.meta.url))

export const SUPERNODE_TCP_PORT = 4001
export const TURN_PORT = 3478

export interface ReadyLine {
  event: string
  peerId: string
  addrs: string[]
  role: string
  /** Null only for a library supernode that could not start its API. */
  api: string | null
  name: string | null
  dataDir: string
  /** With `ui`: the softphone UI's address (127.0.0.1 inside the node's namespace). */
  ui?: string
}

export interface ProbeEvent {
  t: number
  ev: string
  [k: string]: unknown
}

export interface LabNode {
  label: string
  host: LabHost
  dataDir: string
  ready: ReadyLine
  child: ChildProcess
  /** POST /api/v1/<method>; throws with the API's error text on a non-2xx answer. */
  api<T = Record<string, unknown>>(method: string, params?: Record<string, unknown>): Promise<T>
  stderr(): string
  /** Everything conn-probe.mjs recorded so far. */
  probe(): ProbeEvent[]
  /** Extra flags for the Chromium of this node's phone (phone.ts). */
  chromiumArgs: string[]
  stop(): Promise<void>
}

export interface LabNodeOptions {
  label: string
  supernode: 'on' | 'off'
  name?: string
  bootstrap?: string[]
  /** Listen on this TCP port on every address (default: any). */
  port?: number
  /** Supernodes: STUN/TURN port (default 3478); 0: off. */
  turnPort?: number
  /** The SIP gateway for phones on 127.0.0.1 inside the node's namespace (default 0: none). */
  sipPort?: number
  /** The phone's digest password at that gateway (default: generated in the data dir). */
  sipPassword?: string
  /** Clients: serve the softphone UI (`--ui`); the ready line gains `ui`. */
  ui?: boolean
  logLevel?: 'debug' | 'info' | 'warn'
  /** The DEBUG variable for libp2p's own logs (e.g. 'libp2p:webrtc*'). */
  debug?: string
  /** Keep the data dir after stop (for a post-mortem). */
  keep?: boolean
  /**
   * Supernodes: the port-443 bridge's port (`--bridge-port`; default 0, off, so the lab's other
   * tests keep their paths; port-443.test.ts turns it on).
   */
  bridgePort?: number
  /** Extra Chromium flags for this node's phone (e.g. trusting the bridge's certificate). */
  chromiumArgs?: string[]
  /**
   * What-if for a proposed fix (bench --fix-turn). Supernode: start it through
   * the library with TURN bound to its public address (lab-supernode.mjs).
   * Client: percent-encode TURN credentials for node-datachannel (conn-probe.mjs).
   */
  fixTurn?: boolean
  /** Use this data dir (a restart of a node that was stopped or killed) instead of a new one. */
  dataDir?: string
  /** More `kaiwa node` flags (e.g. `--turn-allocation-kbps`). */
  extraArgs?: string[]
}

/** One agent per namespace, shared by every node and probe that runs there. */
const agents = new WeakMap<Lab, Map<string, Promise<Agent>>>()

export function agentFor(lab: Lab, ns: string): Promise<Agent> {
  let m = agents.get(lab)
  if (m == null) agents.set(lab, (m = new Map()))
  let a = m.get(ns)
  if (a == null) m.set(ns, (a = startAgent(lab, ns)))
  return a
}

export async function startLabNode(
  lab: Lab,
  host: LabHost,
  opts: LabNodeOptions,
): Promise<LabNode> {
  // NATLAB_KEEP=1 keeps every node's data dir (logs are in memory; the probe file is here).
  const keep = opts.keep ?? process.env.NATLAB_KEEP === '1'
  const prefix = `kaiwa-natlab-${opts.label}-`
  const dataDir = opts.dataDir ?? (keep ? mkdtempSync(join(tmpdir(), prefix)) : lab.tempDir(prefix))
  const probeFile = join(dataDir, 'natlab-probe.jsonl')
  const listen = listenAddrs(host, opts)
  const args =
    opts.supernode === 'on' && opts.fixTurn === true
      ? [
          '--import',
          PROBE,
          LIB_SUPERNODE,
          JSON.stringify({
            dataDir,
            listen,
            turnHost: host.addr,
            turnPort: opts.turnPort ?? TURN_PORT,
            logLevel: opts.logLevel ?? 'info',
          }),
        ]
      : cliArgs(dataDir, listen, opts)

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KAIWA_DATA: dataDir,
    NATLAB_PROBE: probeFile,
  }
  if (opts.debug != null) env.DEBUG = opts.debug
  else delete env.DEBUG
  if (opts.fixTurn === true) env.NATLAB_ENCODE_TURN = '1'
  else delete env.NATLAB_ENCODE_TURN
  const child = lab.spawn(host.ns, process.execPath, args, { cwd: ROOT, env })
  let err = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
  const ready = await new Promise<ReadyLine>((resolve, reject) => {
    const timer = setTimeout(
      // 90 s: the start claims a name, whose proof of work (seconds of CPU, long-tailed) shares
      // two cores with the whole test suite in CI.
      () => reject(new Error(`${opts.label}: no ready line in 90 s\n${err}`)),
      90_000,
    )
    child.once('exit', (code, sig) => {
      clearTimeout(timer)
      reject(new Error(`${opts.label} exited (${code ?? sig}) before ready:\n${err}`))
    })
    createInterface({ input: child.stdout! }).once('line', (l) => {
      clearTimeout(timer)
      resolve(JSON.parse(l) as ReadyLine)
    })
  })
  const token = ready.api != null ? readFileSync(join(dataDir, 'api-token'), 'utf8').trim() : ''
  const agent = await agentFor(lab, host.ns)

  const node: LabNode = {
    label: opts.label,
    host,
    dataDir,
    ready,
    child,
    api: async <T>(method: string, params: Record<string, unknown> = {}): Promise<T> => {
      if (ready.api == null) throw new Error(`${opts.label} has no control API`)
      const r = await agent.call<{ status: number; text: string }>('http', {
        url: `${ready.api}/api/v1/${method}`,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(params),
      })
      if (r.status < 200 || r.status > 299) {
        throw new Error(`${opts.label} ${method}: HTTP ${r.status} ${r.text}`)
      }
      return JSON.parse(r.text) as T
    },
    stderr: () => err,
    probe: () => readProbe(probeFile),
    chromiumArgs: opts.chromiumArgs ?? [],
    stop: async () => {
      if (child.exitCode == null && child.signalCode == null) {
        const exited = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        const t = setTimeout(() => child.kill('SIGKILL'), 5_000)
        await exited
        clearTimeout(t)
      }
      if (!keep) rmSync(dataDir, { recursive: true, force: true })
    },
  }
  return node
}

/**
 * A supernode listens on its public address(es): IPv4, and IPv6 on a dual-stack host. A client
 * listens on every IPv4 address, except on an IPv6-only host, where it keeps Kaiwa's default
 * (0.0.0.0 and ::, what a user there gets: defaultListenAddrs).
 */
function listenAddrs(host: LabHost, opts: LabNodeOptions): string[] {
  if (opts.supernode === 'on') {
    const port = opts.port ?? SUPERNODE_TCP_PORT
    const v6 = host.addr6 != null ? [`/ip6/${host.addr6}/tcp/${port}`] : []
    return [`/ip4/${host.addr}/tcp/${port}`, ...v6]
  }
  if (isIpv6Only(host)) return []
  return [`/ip4/0.0.0.0/tcp/${opts.port ?? 0}`]
}

function cliArgs(dataDir: string, listen: string[], opts: LabNodeOptions): string[] {
  const args = [
    '--import',
    PROBE,
    BIN,
    'node',
    '--data',
    dataDir,
    ...listen.flatMap((l) => ['--listen', l]),
    '--supernode',
    opts.supernode,
    '--no-mdns',
    '--no-upnp',
    '--sip-port',
    String(opts.sipPort ?? 0),
    '--bridge-port',
    String(opts.bridgePort ?? 0),
    '--log-level',
    opts.logLevel ?? 'info',
  ]
  // The lab's "public" internet is in documentation ranges (203.0.113/24,
  // 198.18/15, 2001:db8::/32), which TURN refuses by default: let the lab's
  // supernode relay there.
  if (opts.supernode === 'on')
    args.push(
      '--turn-port',
      String(opts.turnPort ?? TURN_PORT),
      '--turn-allow-peers',
      LAB_PUBLIC_CIDRS,
    )
  for (const b of opts.bootstrap ?? []) args.push('--bootstrap', b)
  if (opts.name != null) args.push('--name', opts.name)
  if (opts.sipPassword != null) args.push('--sip-password', opts.sipPassword)
  if (opts.ui === true) args.push('--ui')
  args.push(...(opts.extraArgs ?? []))
  return args
}

/** The lab's public address ranges (see lab.ts). */
export const LAB_PUBLIC_CIDRS = `203.0.113.0/24,198.18.0.0/15,${LAB_IPV6_PREFIX}`

function readProbe(file: string): ProbeEvent[] {
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as ProbeEvent)
}

/** The supernode's dialable address (its bootstrap multiaddr) of `family` (IPv6: a dual-stack host). */
export function bootstrapAddr(sn: LabNode, family: 4 | 6 = 4): string {
  const ip = family === 4 ? sn.host.addr : sn.host.addr6
  const a = sn.ready.addrs.find((m) => m.startsWith(`/ip${family}/${ip}/tcp/`))
  if (a == null)
    throw new Error(`supernode has no address on ${ip ?? 'IPv6'}: ${sn.ready.addrs.join(' ')}`)
  return a
}

export async function waitUntil<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  timeoutMs: number,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await fn()
      if (v != null && v !== false) return v
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      )
    }
    await new Promise((r) => setTimeout(r, everyMs))
  }
}
