/**
 * One relay thread of a TURN server spread over several (turn-cluster.ts): a TurnServer joining
 * the listen port with SO_REUSEPORT, its admission and relay ports shared with the others
 * (turn-shared.ts), its nonces under the key they share. Talks to the main thread over
 * parentPort (TurnWorkerMessage, TurnWorkerCommand); counters go up every STATS_INTERVAL_MS.
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { RelayCaps } from './relay-limits.js'
import { TurnServer } from './turn-server.js'
import type { TurnServerOptions, TurnStats } from './turn-server.js'
import { RelayPortMap } from './turn-shared.js'
import type { SharedAllocations } from './turn-shared.js'

/** The options a thread gets: TurnServerOptions without functions, which cannot cross threads. */
export type PortableTurnOptions = Omit<
  TurnServerOptions,
  'now' | 'relayedAddress' | 'relayedAddress6' | 'shared' | 'reusePort' | 'nonceKey'
>

export interface TurnWorkerInit {
  /** 1…N-1 (the main thread's own server is 0): its mark in the RelayPortMap. */
  index: number
  options: PortableTurnOptions
  /** The listen port the main thread got. */
  port: number
  nonceKey: Uint8Array
  relayPorts: SharedArrayBuffer
  /**
   * Whether the main thread's server has relayedAddress / relayedAddress6: the thread then
   * announces what the main thread last told it (before that, the bind address, as a server
   * without them would).
   */
  announces: { v4: boolean; v6: boolean }
  /** What relayedAddress() / relayedAddress6() of the main thread say now, if anything yet. */
  announced?: string | undefined
  announced6?: string | undefined
}

/** Thread → main thread. */
export type TurnWorkerMessage =
  | { t: 'listening' }
  | { t: 'failed'; error: string }
  | { t: 'stats'; stats: TurnStats }
  | { t: 'admit'; id: number; username: string }
  | { t: 'release'; username: string }

/** Main thread → thread. */
export type TurnWorkerCommand =
  | { t: 'admitted'; id: number; code: 0 | 486 | 508 }
  | { t: 'caps'; caps: Partial<RelayCaps> }
  | { t: 'announce'; announced?: string | undefined; announced6?: string | undefined }
  | { t: 'close' }

export const STATS_INTERVAL_MS = 250

async function run(port: NonNullable<typeof parentPort>, init: TurnWorkerInit): Promise<void> {
  const post = (m: TurnWorkerMessage) => port.postMessage(m)
  let { announced, announced6 } = init
  const waiting = new Map<number, (code: 0 | 486 | 508) => void>()
  let seq = 0
  const shared: SharedAllocations = {
    admit: (username) =>
      new Promise((resolve) => {
        const id = ++seq
        waiting.set(id, resolve)
        post({ t: 'admit', id, username })
      }),
    release: (username) => post({ t: 'release', username }),
    relayPorts: new RelayPortMap(init.relayPorts, init.index),
  }
  // The functions read what was announced last, so they exist whenever the main thread's do,
  // also when it had nothing to announce yet as this thread started (a supernode's TURN starts
  // inside libp2p's start, before the node has an address): a server built without them would
  // put its bind address, 0.0.0.0 or ::, in XOR-RELAYED-ADDRESS for good. Each Allocate's
  // admission brings the main thread's current addresses first (turn-cluster.ts).
  const host = init.options.host ?? '127.0.0.1'
  const host6 = init.options.host6 ?? host
  const server = new TurnServer({
    ...init.options,
    port: init.port,
    reusePort: 'join',
    nonceKey: init.nonceKey,
    shared,
    ...(init.announces.v4 ? { relayedAddress: () => announced ?? host } : {}),
    ...(init.announces.v6 ? { relayedAddress6: () => announced6 ?? host6 } : {}),
  })
  const ticker = setInterval(() => post({ t: 'stats', stats: server.stats() }), STATS_INTERVAL_MS)
  port.on('message', (m: TurnWorkerCommand) => {
    if (m.t === 'admitted') {
      waiting.get(m.id)?.(m.code)
      waiting.delete(m.id)
    } else if (m.t === 'caps') server.setCaps(m.caps)
    else if (m.t === 'announce') {
      announced = m.announced ?? announced
      announced6 = m.announced6 ?? announced6
    } else if (m.t === 'close') {
      void server.close().finally(() => {
        post({ t: 'stats', stats: server.stats() })
        port.close()
        clearInterval(ticker)
      })
    }
  })
  try {
    await server.listen()
  } catch (err) {
    post({ t: 'failed', error: String(err) })
    clearInterval(ticker)
    port.close()
    return
  }
  post({ t: 'listening' })
}

if (parentPort !== null) void run(parentPort, workerData as TurnWorkerInit)
