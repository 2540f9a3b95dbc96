/**
 * `/kaiwa/load/1.0.0` as a libp2p service, in js-libp2p's factory style:
 *
 *   createLibp2p({ services: { load: loadService({ report, onAsked, isServing, log }) } })
 *
 * libp2p builds it with its components and starts it with the node: `start`
 * registers the protocol handler, `stop` unregisters it (libp2p stops services
 * before it closes connections). The protocol itself is in load-protocol.ts.
 */
import type { Startable } from '@libp2p/interface'
import type { RegistrarSlice } from '../rpc/cbor-rpc.js'
import { LOAD_PROTOCOL, serveLoad } from './load-protocol.js'
import type { LoadServerInit } from './load-protocol.js'

/** The components this service uses: only the registrar. */
export interface LoadServiceComponents {
  registrar: RegistrarSlice
}

/** The long-lived parts: what to report, whom to count, whether to answer. */
export type LoadServiceInit = Omit<LoadServerInit, 'registrar'>

export interface LoadService extends Startable {
  readonly protocol: string
  /** True between start and stop. */
  isStarted(): boolean
}

class DefaultLoadService implements LoadService {
  readonly [Symbol.toStringTag] = '@kaiwa/load'
  readonly protocol = LOAD_PROTOCOL
  private unserve: (() => Promise<void>) | undefined

  constructor(
    private readonly components: LoadServiceComponents,
    private readonly init: LoadServiceInit,
  ) {}

  isStarted(): boolean {
    return this.unserve !== undefined
  }

  async start(): Promise<void> {
    if (this.unserve !== undefined) return
    this.unserve = await serveLoad({ ...this.init, registrar: this.components.registrar })
  }

  async stop(): Promise<void> {
    const unserve = this.unserve
    this.unserve = undefined
    await unserve?.()
  }
}

export function loadService(
  init: LoadServiceInit,
): (components: LoadServiceComponents) => LoadService {
  return (components) => new DefaultLoadService(components, init)
}
