/**
 * `/kaiwa/turn/1.0.0` as a libp2p service, in js-libp2p's factory style:
 *
 *   createLibp2p({ services: { turnCredentials: turnCredentialsService({ issue, isServing, log }) } })
 *
 * `start` registers the protocol handler, `stop` unregisters it. The protocol
 * itself is in turn-credentials-protocol.ts; the credentials come from the
 * `issue` callback (the TURN service that owns the shared secret).
 */
import type { Startable } from '@libp2p/interface'
import type { RegistrarSlice } from '../rpc/cbor-rpc.js'
import { TURN_CREDENTIALS_PROTOCOL, serveTurnCredentials } from './turn-credentials-protocol.js'
import type { TurnCredentialsServerInit } from './turn-credentials-protocol.js'

/** The components this service uses: only the registrar. */
export interface TurnCredentialsServiceComponents {
  registrar: RegistrarSlice
}

/** The long-lived parts: the issuer, whether to issue now, the logger. */
export type TurnCredentialsServiceInit = Omit<TurnCredentialsServerInit, 'registrar'>

export interface TurnCredentialsService extends Startable {
  readonly protocol: string
  /** True between start and stop. */
  isStarted(): boolean
}

class DefaultTurnCredentialsService implements TurnCredentialsService {
  readonly [Symbol.toStringTag] = '@kaiwa/turn-credentials'
  readonly protocol = TURN_CREDENTIALS_PROTOCOL
  private unserve: (() => Promise<void>) | undefined

  constructor(
    private readonly components: TurnCredentialsServiceComponents,
    private readonly init: TurnCredentialsServiceInit,
  ) {}

  isStarted(): boolean {
    return this.unserve !== undefined
  }

  async start(): Promise<void> {
    if (this.unserve !== undefined) return
    this.unserve = await serveTurnCredentials({
      ...this.init,
      registrar: this.components.registrar,
    })
  }

  async stop(): Promise<void> {
    const unserve = this.unserve
    this.unserve = undefined
    await unserve?.()
  }
}

export function turnCredentialsService(
  init: TurnCredentialsServiceInit,
): (components: TurnCredentialsServiceComponents) => TurnCredentialsService {
  return (components) => new DefaultTurnCredentialsService(components, init)
}
