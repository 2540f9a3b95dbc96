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
import { protocolService } from '../rpc/handler-service.js'
import type { ProtocolService, ProtocolServiceComponents } from '../rpc/handler-service.js'
import { createTurnAdmission } from './turn-admission.js'
import type { DeviceOf, TurnAdmit, TurnIssueLimits } from './turn-admission.js'
import { TURN_CREDENTIALS_PROTOCOL, serveTurnCredentials } from './turn-credentials-protocol.js'
import type { TurnCredentialsServerInit } from './turn-credentials-protocol.js'

export type TurnCredentialsServiceComponents = ProtocolServiceComponents

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

export type TurnCredentialsService = ProtocolService

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
  // Built once per instance, so the rate limits outlast a stop/start.
  return (components) => {
    const admit = wired(init)
      ? createTurnAdmission({
          deviceOf: init.deviceOf,
          isAttached: init.isAttached,
          ...(init.limits != null ? { limits: init.limits } : {}),
          ...(init.now != null ? { now: init.now } : {}),
        })
      : refuseAll(init)
    const { issue, isServing, log } = init
    return protocolService('turn-credentials', TURN_CREDENTIALS_PROTOCOL, (registrar) =>
      serveTurnCredentials({
        issue,
        ...(isServing != null ? { isServing } : {}),
        admit,
        log,
        registrar,
      }),
    )(components)
  }
}
