/**
 * The node host's logic, apart from Electron: it waits for `start`, runs a
 * Kaiwa node exactly as `kaiwa node` would (same flags, same DIR/config.json)
 * with its control API on 127.0.0.1, and reports `ready` with the API's port
 * and a token minted for this run. The token is never written to disk: only
 * the main process, which receives it over the private parent port, can call
 * this node. `stop` (or SIGTERM) shuts the node down cleanly, releasing the
 * data directory's lock for the next start.
 */
import { randomBytes } from 'node:crypto'
import { startApiServer } from '../api/api-server.js'
import { parseCommand, UsageError } from '../cli/args.js'
import { resolveNodeConfig } from '../cli/node-config.js'
import { startNoSupernodeNotice } from '../no-supernode-notice.js'
import { lanPeerCount } from '../../overlay/names/lan-scope.js'
import { startKaiwaNode } from '../kaiwa-node.js'
import { createStderrLogger, redactingLogger } from '../logger.js'
import { nodeEvents } from '../node-events.js'
import { ToHostSchema } from './host-protocol.js'
import type { FromHost } from './host-protocol.js'

export interface HostedNode {
  port: number
  token: string
  peerId: string
  dataDir: string
  stop(): Promise<void>
}

/** The part of Electron's `process.parentPort` the host uses. */
export interface ParentPortLike {
  postMessage(message: FromHost): void
  on(event: 'message', listener: (e: { data: unknown }) => void): unknown
}

export interface NodeHostOptions {
  port: ParentPortLike
  exit: (code: number) => void
  start?: (args: string[]) => Promise<HostedNode>
  log?: (msg: string) => void
  /** Let a `failed` message leave before exiting. */
  failedExitDelayMs?: number
}

export interface NodeHost {
  /** Stop the node (if any) and exit 0; what `stop` and SIGTERM do. */
  shutdown(): Promise<void>
}

/** `kaiwa node` with `args`, and its control API on a free loopback port. */
export async function startHostedNode(args: string[]): Promise<HostedNode> {
  const cmd = parseCommand(['node', ...args])
  if (cmd.command !== 'node') throw new UsageError('the node host only runs `kaiwa node`')
  const config = await resolveNodeConfig(cmd)
  // The token is a secret: no log line may carry it (issue 11), even by accident.
  const log = redactingLogger(createStderrLogger(cmd.logLevel, 'kaiwa-node'))
  const versions: Record<string, string> = {}
  for (const k of ['electron', 'chrome'] as const) {
    const v = process.versions[k]
    if (typeof v === 'string') versions[k] = v
  }
  const node = await startKaiwaNode({
    dataDir: cmd.dataDir,
    // One relay thread: the packaged app does not ship the TURN worker module (turn-worker.js).
    turnWorkers: 1,
    ...config,
    name: cmd.name,
    log,
    versions,
  })
  const token = randomBytes(32).toString('base64url')
  log.addSecret(token)
  // A client alone says so in the log, as `kaiwa node` does (issue 13).
  const stopNotice = startNoSupernodeNotice({
    role: () => node.role(),
    supernodes: () => node.supernodes.connected(),
    lanPeers: () => lanPeerCount(node.libp2p()),
    log,
  })
  try {
    const server = await startApiServer({
      port: 0,
      token,
      api: node.api,
      events: nodeEvents(node),
      sip: node.sip.router,
      log: (m) => log.child('api').info(m),
      tokenHint: 'the desktop app (a new token each run)',
    })
    return {
      port: server.port,
      token,
      peerId: node.peerId,
      dataDir: node.dataDir,
      stop: async () => {
        stopNotice()
        await server.close().catch(() => {})
        await node.stop()
      },
    }
  } catch (err) {
    stopNotice()
    await node.stop().catch(() => {})
    throw err
  }
}

export function runNodeHost(opts: NodeHostOptions): NodeHost {
  const start = opts.start ?? startHostedNode
  const log = opts.log ?? ((m: string) => process.stderr.write(`kaiwa node host: ${m}\n`))
  let state: 'idle' | 'starting' | 'running' | 'stopping' = 'idle'
  let running: HostedNode | undefined
  let stopRequested = false

  const shutdown = async (): Promise<void> => {
    if (state === 'stopping') return
    if (state === 'starting') {
      stopRequested = true // the start finishes first, then stops
      return
    }
    state = 'stopping'
    const code = await (running?.stop() ?? Promise.resolve()).then(
      () => 0,
      (err: unknown) => {
        log(`stop failed: ${String(err)}`)
        return 1
      },
    )
    opts.exit(code)
  }

  const onStart = async (args: string[]): Promise<void> => {
    state = 'starting'
    try {
      running = await start(args)
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      log(`start failed: ${message}`)
      opts.port.postMessage({ type: 'failed', message, usage: err instanceof UsageError })
      state = 'stopping'
      setTimeout(() => opts.exit(1), opts.failedExitDelayMs ?? 200)
      return
    }
    state = 'running'
    if (stopRequested) return shutdown()
    const { port, token, peerId, dataDir } = running
    opts.port.postMessage({ type: 'ready', port, token, peerId, dataDir })
  }

  opts.port.on('message', (e) => {
    const msg = ToHostSchema.safeParse(e.data)
    if (!msg.success) return log('ignored a malformed message from the main process')
    if (msg.data.type === 'stop') return void shutdown()
    if (state !== 'idle') return log('ignored a second start')
    void onStart(msg.data.args)
  })
  return { shutdown }
}
