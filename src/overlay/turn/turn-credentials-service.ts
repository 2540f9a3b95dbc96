/**
 * `/kaiwa/turn/1.0.0` as a libp2p service, in js-libp2p's factory style:
 *
 *   createLibp2p({ services: { turnCredentials: turnCredentialsService({
 *     issue, isServing, deviceOf, isAttached, log }) } })
 *
 * `start` registers the protocol handler, `stop` unregisters it. The protocol
 * itself is in turn-credentials-protocol.ts; who may have credentials is
 * turn-admission.ts (attached clients and devices of a claimed name, rate
 * limited); the credentials come from the `issue` callback (the TURN service
 * that owns the shared secret).
 */
import type { Startable } from '@libp2p/interface'
import type { RegistrarSlice } from '../rpc/cbor-rpc.js'
import { createTurnAdmission } from './turn-admission.js'
import type { DeviceOf, TurnAdmit, TurnIssueLimits } from './turn-admission.js'
import { TURN_CREDENTIALS_PROTOCOL, serveTurnCredentials } from './turn-credentials-protocol.js'
import type { TurnCredentialsServerInit } from './turn-credentials-protocol.js'

/** The components this service uses: only the registrar. */
export interface TurnCredentialsServiceComponents {
  registrar: RegistrarSlice
}

/** The long-lived parts: the issuer, whether to issue now, who is admitted, the logger. */
export interface TurnCredentialsServiceInit extends Omit<
  TurnCredentialsServerInit,
  'registrar' | 'admit'
> {
  /**
   * Whether the live, verified record of the user ID `name` lists `peerId` as
   * a live device (a DHT lookup; honour `signal`). See recordListsDevice.
   */
  deviceOf: DeviceOf
  /** Whether `peerId` holds a relay reservation on this node right now. */
  isAttached: (peerId: string) => boolean
  /** Issuance rates and lookup bounds. @default see TurnIssueLimits */
  limits?: TurnIssueLimits
  /** @default Date.now */
  now?: () => number
}

export interface TurnCredentialsService extends Startable {
  readonly protocol: string
  /** True between start and stop. */
  isStarted(): boolean
}

class DefaultTurnCredentialsService implements TurnCredentialsService {
  readonly [Symbol.toStringTag] = '@kaiwa/turn-credentials'
  readonly protocol = TURN_CREDENTIALS_PROTOCOL
  private unserve: (() => Promise<void>) | undefined
  // Built once, so the rate limits outlast a stop/start.
  private readonly admit: TurnAdmit

  constructor(
    private readonly components: TurnCredentialsServiceComponents,
    private readonly init: TurnCredentialsServiceInit,
  ) {
    this.admit = wired(init)
      ? createTurnAdmission({
          deviceOf: init.deviceOf,
          isAttached: init.isAttached,
          ...(init.limits != null ? { limits: init.limits } : {}),
          ...(init.now != null ? { now: init.now } : {}),
        })
      : refuseAll(init)
  }

  isStarted(): boolean {
    return this.unserve !== undefined
  }

  async start(): Promise<void> {
    if (this.unserve !== undefined) return
    const { issue, isServing, log } = this.init
    this.unserve = await serveTurnCredentials({
      issue,
      ...(isServing != null ? { isServing } : {}),
      admit: this.admit,
      log,
      registrar: this.components.registrar,
    })
  }

  async stop(): Promise<void> {
    const unserve = this.unserve
    this.unserve = undefined
    await unserve?.()
  }
}

/** The types require both edges; plain JavaScript (or a half-wired root) may still omit them. */
function wired(init: TurnCredentialsServiceInit): boolean {
  return typeof init.deviceOf === 'function' && typeof init.isAttached === 'function'
}

/**
 * Without the edges nobody can be admitted safely; the node still starts (a
 * supernode without TURN credentials beats no supernode) and says why.
 */
function refuseAll(init: TurnCredentialsServiceInit): TurnAdmit {
  init.log.error(
    'TURN credentials are not wired (deviceOf and isAttached missing): refusing every request',
  )
  return async () => 'not_serving'
}

export function turnCredentialsService(
  init: TurnCredentialsServiceInit,
): (components: TurnCredentialsServiceComponents) => TurnCredentialsService {
  return (components) => new DefaultTurnCredentialsService(components, init)
}
