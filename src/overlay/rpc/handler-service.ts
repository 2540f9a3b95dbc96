/**
 * One libp2p service shape for Kaiwa's request/reply protocols, in js-libp2p's
 * factory style: `(components: { registrar }) => ProtocolService`. `start`
 * registers the protocol's handler and `stop` unregisters it; libp2p calls
 * both with the instance of each role. The protocols (load, TURN credentials,
 * mailbox) only say how to serve: `serve(registrar)` returns how to stop.
 */
import type { Startable } from '@libp2p/interface'
import type { RegistrarSlice } from './cbor-rpc.js'

/** The components a protocol service uses: only the registrar. */
export interface ProtocolServiceComponents {
  registrar: RegistrarSlice
}

export interface ProtocolService extends Startable {
  readonly protocol: string
  /** True between start and stop. */
  isStarted(): boolean
}

export type Serve = (registrar: RegistrarSlice) => Promise<() => Promise<void>>

export function protocolService(
  name: string,
  protocol: string,
  serve: Serve,
): (components: ProtocolServiceComponents) => ProtocolService {
  return (components) => {
    let unserve: (() => Promise<void>) | undefined
    return {
      [Symbol.toStringTag]: `@kaiwa/${name}`,
      protocol,
      isStarted: () => unserve !== undefined,
      start: async () => {
        unserve ??= await serve(components.registrar)
      },
      stop: async () => {
        const u = unserve
        unserve = undefined
        await u?.()
      },
    }
  }
}
