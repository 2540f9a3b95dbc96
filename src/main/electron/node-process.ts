/**
 * Runs the Kaiwa node in an Electron utility process (node-host.ts) and keeps
 * it running: it waits for the host's `ready` (the control API's port and
 * this run's token), restarts a crashed host with backoff (restart-policy.ts),
 * gives up on configuration errors, and stops it cleanly on quit. `fork` is
 * injected (utilityProcess.fork in the app, a fake in tests).
 */
import type { ForkOptions } from 'electron'
import type { Logger } from '../../shared/logger.js'
import { FromHostSchema, connectionOf } from './host-protocol.js'
import type { NodeConnection, ToHost } from './host-protocol.js'
import { RestartPolicy } from './restart-policy.js'

/** The part of Electron's UtilityProcess used here. */
export interface UtilityChild {
  postMessage(message: ToHost): void
  kill(): boolean
  on(event: 'message', listener: (message: unknown) => void): unknown
  on(event: 'exit', listener: (code: number) => void): unknown
}

export type ForkFn = (modulePath: string, args: string[], options: ForkOptions) => UtilityChild

export type NodeProcessState =
  | { kind: 'starting' }
  | { kind: 'ready'; connection: NodeConnection }
  /** `final`: no restart is coming (stopped on purpose, bad configuration, too many crashes). */
  | { kind: 'stopped'; reason: string; final: boolean }

export interface NodeSupervisorOptions {
  /** The built node host (dist/electron/node-host.mjs). */
  modulePath: string
  /** `kaiwa node` flags for the host; DIR/config.json applies as usual. */
  args?: string[]
  fork: ForkFn
  log: Logger
  onState?: (state: NodeProcessState) => void
  /** A first start opens the datastore and joins the overlay; generous. */
  readyTimeoutMs?: number
  stopTimeoutMs?: number
  restart?: RestartPolicy
}

const DEFAULT_READY_TIMEOUT_MS = 120_000
const DEFAULT_STOP_TIMEOUT_MS = 10_000

export class NodeSupervisor {
  readonly #opts: NodeSupervisorOptions
  readonly #restart: RestartPolicy
  #state: NodeProcessState = { kind: 'stopped', reason: 'not started', final: false }
  #child: UtilityChild | undefined
  #exited: Promise<void> = Promise.resolve()
  #timer: ReturnType<typeof setTimeout> | undefined
  #stopping = false

  constructor(opts: NodeSupervisorOptions) {
    this.#opts = opts
    this.#restart = opts.restart ?? new RestartPolicy()
  }

  get state(): NodeProcessState {
    return this.#state
  }

  connection(): NodeConnection | undefined {
    return this.#state.kind === 'ready' ? this.#state.connection : undefined
  }

  start(): void {
    if (this.#child !== undefined || this.#stopping) return
    this.#spawn()
  }

  /** Ask the host to stop the node; kill it if it has not exited in time. */
  async stop(): Promise<void> {
    this.#stopping = true
    clearTimeout(this.#timer)
    const child = this.#child
    if (child === undefined) {
      this.#set({ kind: 'stopped', reason: 'stopped', final: true })
      return
    }
    child.postMessage({ type: 'stop' })
    const timeoutMs = this.#opts.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS
    let timer: ReturnType<typeof setTimeout> | undefined
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs)
    })
    const late = await Promise.race([this.#exited.then(() => false), timedOut])
    clearTimeout(timer)
    if (late) {
      this.#opts.log.warn(`the node did not stop within ${timeoutMs} ms; killing it`)
      child.kill()
    }
  }

  #set(state: NodeProcessState): void {
    this.#state = state
    this.#opts.onState?.(state)
  }

  #spawn(): void {
    const { log } = this.#opts
    let failure: { message: string; usage: boolean } | undefined
    let resolveExit!: () => void
    this.#exited = new Promise((resolve) => (resolveExit = resolve))
    const child = this.#opts.fork(this.#opts.modulePath, [], {
      serviceName: 'Kaiwa node',
      stdio: 'inherit',
    })
    this.#child = child
    this.#set({ kind: 'starting' })
    const readyMs = this.#opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS
    this.#timer = setTimeout(() => {
      failure = { message: `the node did not start within ${readyMs / 1000} s`, usage: false }
      log.error(failure.message)
      child.kill()
    }, readyMs)

    child.on('message', (raw) => {
      const msg = FromHostSchema.safeParse(raw)
      if (!msg.success) return log.warn('ignored a malformed message from the node host')
      clearTimeout(this.#timer)
      if (msg.data.type === 'failed') {
        failure = { message: msg.data.message, usage: msg.data.usage }
        return
      }
      if (this.#stopping) return
      const connection = connectionOf(msg.data)
      log.info(`node ${connection.peerId} is up; control API at ${connection.url}`)
      this.#set({ kind: 'ready', connection })
    })

    child.on('exit', (code) => {
      clearTimeout(this.#timer)
      this.#child = undefined
      resolveExit()
      if (this.#stopping) return this.#set({ kind: 'stopped', reason: 'stopped', final: true })
      const reason = failure?.message ?? `the node process exited unexpectedly (code ${code})`
      log.error(reason)
      const delay = failure?.usage === true ? undefined : this.#restart.next()
      if (delay === undefined) return this.#set({ kind: 'stopped', reason, final: true })
      this.#set({ kind: 'stopped', reason, final: false })
      this.#timer = setTimeout(() => {
        if (!this.#stopping) this.#spawn()
      }, delay)
    })

    child.postMessage({ type: 'start', args: this.#opts.args ?? [] })
  }
}
