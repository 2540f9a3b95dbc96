/**
 * Runs the real `kaiwa` command (bin/kaiwa.js over the dist/ build) as child
 * processes for the CLI tests. Spawned nodes only use loopback: no mDNS, no
 * UPnP, TCP on 127.0.0.1. Every node process is tracked so `stopAllNodes`
 * can kill whatever a failed test left behind.
 */
import { execFile, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { readdir, readFile, stat } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const BIN = join(ROOT, 'bin', 'kaiwa.js')
/** No LAN discovery, TCP on 127.0.0.1, and no SIP gateway (so nodes never fight over 5060). */
export const LOOPBACK = [
  '--no-mdns',
  '--no-upnp',
  '--listen',
  '/ip4/127.0.0.1/tcp/0',
  '--sip-port',
  '0',
  // Supernodes would otherwise bind STUN/TURN on 0.0.0.0:3478 and the bridge on 0.0.0.0:443.
  '--turn-port',
  '0',
  '--bridge-port',
  '0',
]

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface ReadyLine {
  ui?: string
  event: string
  peerId: string
  addrs: string[]
  role: string
  api: string
  /** 127.0.0.1:PORT when the SIP gateway runs. */
  sip?: string
  name: string | null
  dataDir: string
}

export interface NodeProcess {
  child: ChildProcess
  ready: ReadyLine
  /** Everything written so far. */
  stdout(): string
  stderr(): string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Send `signal` and wait for the exit; the exit code, or null if killed by a signal. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

const running = new Set<NodeProcess>()

/** The environment for every child: no default data dir under the real home directory. */
function childEnv(dataHome: string): NodeJS.ProcessEnv {
  return { ...process.env, KAIWA_DATA: join(dataHome, 'default-data-dir') }
}

/** Run a one-shot command (claim, lookup, status, a usage error) to completion. */
export function runKaiwa(args: string[], dataHome: string, timeoutMs = 45_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, env: childEnv(dataHome), timeout: timeoutMs },
      (err, stdout, stderr) => {
        const code = err == null ? 0 : typeof err.code === 'number' ? err.code : null
        resolve({ code, stdout, stderr })
      },
    )
  })
}

/** Start `kaiwa node ARGS` and wait for its ready line on stdout. */
export async function spawnNode(
  args: string[],
  dataHome: string,
  timeoutMs = 45_000,
  /** A command the node runs under, e.g. `['faketime', '+3 minutes']`. */
  wrap: string[] = [],
): Promise<NodeProcess> {
  const argv = [...wrap, process.execPath, BIN, 'node', ...args]
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: ROOT,
    env: childEnv(dataHome),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d))
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  const proc: NodeProcess = {
    child,
    ready: undefined as unknown as ReadyLine,
    stdout: () => out,
    stderr: () => err,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode == null && child.signalCode == null) child.kill(signal)
      const { code } = await exited
      running.delete(proc)
      return code
    },
  }
  running.add(proc)

  const deadline = Date.now() + timeoutMs
  while (!out.includes('\n')) {
    if (child.exitCode != null || child.signalCode != null) {
      running.delete(proc)
      throw new Error(
        `kaiwa node exited (${child.exitCode ?? child.signalCode}) before ready:\n${err}`,
      )
    }
    if (Date.now() > deadline) {
      await proc.stop('SIGKILL')
      throw new Error(`kaiwa node printed no ready line within ${timeoutMs} ms:\n${err}`)
    }
    await new Promise((r) => setTimeout(r, 25))
  }
  proc.ready = JSON.parse(out.slice(0, out.indexOf('\n'))) as ReadyLine
  return proc
}

/** Kill every node process still running (SIGKILL after a grace period). */
export async function stopAllNodes(): Promise<void> {
  await Promise.all(
    [...running].map(async (p) => {
      const t = setTimeout(() => p.child.kill('SIGKILL'), 5_000)
      await p.stop('SIGTERM')
      clearTimeout(t)
    }),
  )
}

/**
 * Fails when the build is older than the sources the CLI runs: every module
 * src/main/cli/main.ts reaches through relative imports, against its dist/
 * output and against whatever bundle bin/kaiwa.js loads. (Sources the CLI does
 * not import, e.g. work in progress elsewhere, do not count.)
 */
export async function assertBuilt(): Promise<void> {
  const stale: string[] = []
  let newestSource = 0
  const seen = new Set<string>()
  const visit = async (src: string): Promise<void> => {
    if (seen.has(src)) return
    seen.add(src)
    const mtime = (await stat(src)).mtimeMs
    newestSource = Math.max(newestSource, mtime)
    const rel = relative(join(ROOT, 'src'), src).replace(/\.ts$/, '.js')
    const built = await stat(join(ROOT, 'dist', rel)).catch(() => null)
    if (built == null || built.mtimeMs < mtime) stale.push(`dist/${rel}`)
    const text = await readFile(src, 'utf8')
    for (const m of text.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)\.js'/g)) {
      await visit(join(dirname(src), `${m[1]!}.ts`))
    }
  }
  await visit(join(ROOT, 'src', 'main', 'cli', 'main.ts'))
  const entry = /import\('\.\.\/(dist\/[^']+)'\)/.exec(await readFile(BIN, 'utf8'))?.[1]
  if (entry != null) {
    const built = await stat(join(ROOT, entry)).catch(() => null)
    if (built == null || built.mtimeMs < newestSource) stale.push(entry)
  }
  if (stale.length > 0) {
    throw new Error(`the build is out of date (${stale.join(', ')}); run \`npm run build\` first`)
  }
}

/** The UI bundle (dist/ui) must be built from the current renderer sources. */
export async function assertUiBuilt(): Promise<void> {
  const newest = async (dir: string): Promise<number> => {
    let n = 0
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name)
      n = Math.max(n, e.isDirectory() ? await newest(p) : (await stat(p)).mtimeMs)
    }
    return n
  }
  const built = await stat(join(ROOT, 'dist', 'ui', 'index.html')).catch(() => null)
  if (built == null || built.mtimeMs < (await newest(join(ROOT, 'src', 'renderer')))) {
    throw new Error('the UI bundle (dist/ui) is out of date; run `npm run build` first')
  }
}
