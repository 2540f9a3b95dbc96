/**
 * The main process's line to its node: API calls over HTTP (api-client.ts,
 * which validates every result against the contract) and the node's events
 * over one WebSocket, both to the loopback control API with this run's token.
 * When the node restarts, `attach` is called with the new address; calls made
 * meanwhile wait for it, up to a limit.
 */
import { WebSocket } from 'ws'
import { API_PREFIX, WS_TOKEN_PROTOCOL_PREFIX } from '../../shared/api/contract.js'
import type { ApiMethod, KaiwaApi } from '../../shared/api/contract.js'
import { isSipFrame } from '../../shared/api/sip-bridge-protocol.js'
import type { Logger } from '../../shared/logger.js'
import { ApiCallError, createApiClient } from '../api/api-client.js'
import type { NodeConnection } from './host-protocol.js'
import { failure, ok } from './ipc-validation.js'
import type { IpcReply } from './ipc-validation.js'

export interface NodeLinkOptions {
  /** Each event the node pushes (`status`, `message`, `usage`, ...). */
  onEvent: (event: string, data: unknown) => void
  log: Logger
  /** How long a call waits for a node that is (re)starting. */
  waitMs?: number
  /** Pause before reopening a lost event socket while the node is up. */
  reconnectMs?: number
}

const DEFAULT_WAIT_MS = 30_000
const DEFAULT_RECONNECT_MS = 1_000
const MAX_EVENT_FRAME_BYTES = 1024 * 1024

export function wsUrl(connection: NodeConnection): string {
  return `${connection.url.replace(/^http/, 'ws')}${API_PREFIX}/ws`
}

export function wsProtocols(connection: NodeConnection): string[] {
  return [`${WS_TOKEN_PROTOCOL_PREFIX}${connection.token}`]
}

export class NodeLink {
  readonly #opts: NodeLinkOptions
  #current: { connection: NodeConnection; api: KaiwaApi; socket?: WebSocket } | undefined
  #waiters = new Set<() => void>()
  #unavailable = 'the Kaiwa node is starting'
  #reconnect: ReturnType<typeof setTimeout> | undefined

  constructor(opts: NodeLinkOptions) {
    this.#opts = opts
  }

  get connection(): NodeConnection | undefined {
    return this.#current?.connection
  }

  attach(connection: NodeConnection): void {
    this.detach(this.#unavailable)
    this.#current = {
      connection,
      api: createApiClient({ url: connection.url, token: connection.token }),
    }
    this.#openEvents()
    for (const wake of [...this.#waiters]) wake()
  }

  /** The node went away; `reason` is what calls get until it is back. */
  detach(reason: string): void {
    this.#unavailable = reason
    clearTimeout(this.#reconnect)
    const socket = this.#current?.socket
    this.#current = undefined
    socket?.terminate()
  }

  /** One contract call; never throws (the reply carries the error code). */
  async call(method: ApiMethod, input: unknown): Promise<IpcReply> {
    const api = this.#current?.api ?? (await this.#waitForNode())
    if (api === undefined) return failure('unavailable', this.#unavailable)
    try {
      const fn = api[method] as (input: unknown) => Promise<unknown>
      return ok(await fn(input))
    } catch (err) {
      if (err instanceof ApiCallError) return failure(err.code, err.message)
      this.#opts.log.error(`call ${method} failed: ${String(err)}`)
      return failure('internal', err instanceof Error ? err.message : String(err))
    }
  }

  #waitForNode(): Promise<KaiwaApi | undefined> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.#waiters.delete(done)
        resolve(this.#current?.api)
      }
      const timer = setTimeout(done, this.#opts.waitMs ?? DEFAULT_WAIT_MS)
      this.#waiters.add(done)
    })
  }

  #openEvents(): void {
    const current = this.#current
    if (current === undefined) return
    const socket = new WebSocket(wsUrl(current.connection), wsProtocols(current.connection), {
      maxPayload: MAX_EVENT_FRAME_BYTES,
      perMessageDeflate: false,
    })
    current.socket = socket
    socket.on('message', (data, isBinary) => {
      if (isBinary) return
      let frame: unknown
      try {
        frame = JSON.parse(data.toString())
      } catch {
        return
      }
      if (isSipFrame(frame) || typeof frame !== 'object' || frame === null) return
      const { event, data: payload } = frame as { event?: unknown; data?: unknown }
      if (typeof event === 'string') this.#opts.onEvent(event, payload)
    })
    socket.on('error', (err) => this.#opts.log.debug(`event socket: ${err.message}`))
    socket.on('close', () => {
      if (this.#current !== current) return // detached or replaced
      current.socket = undefined
      this.#reconnect = setTimeout(
        () => this.#openEvents(),
        this.#opts.reconnectMs ?? DEFAULT_RECONNECT_MS,
      )
    })
  }
}
