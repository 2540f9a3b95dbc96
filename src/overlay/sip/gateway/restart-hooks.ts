/**
 * What the gateway takes from the node so that phones ride through a node
 * restart (issue 12 §2, §4), named here so sip-service.ts and sip-gateway.ts
 * agree on it:
 *
 * - `nonceKey` (on SipGatewayInit, forwarded to GatewayAuth as `secret`): the
 *   nonce HMAC key kept in the datastore (store/sip-nonce-key.ts), so a nonce
 *   from before the restart verifies and is answered `stale=true`;
 * - `deliverRestored` (a SipGateway member): how the router reaches a phone
 *   whose UDP binding was restored from the datastore, with no REGISTER flow
 *   in this process: UDP to the contact's host:port when it is loopback, else
 *   to 127.0.0.1 at the contact's port (the gateway listens on loopback only,
 *   so a phone that put its LAN address in Contact is on this machine).
 *
 * The gateway implements both (see the lead's wiring notes for issue 12);
 * `restoredDeliveryOf` reads the member without sip-service.ts depending on
 * the gateway's internals.
 */
import type { Deliver } from '../local-registrar.js'

export interface GatewayRestartInit {
  /** The nonce key kept across restarts (store/sip-nonce-key.ts). */
  nonceKey?: Uint8Array
}

export interface RestoredPhoneDelivery {
  /** A Deliver for bindings restored after a restart (UDP only). */
  deliverRestored: Deliver
}

/** The gateway's `deliverRestored`, bound to it, or undefined when it has none. */
export function restoredDeliveryOf(gateway: object): Deliver | undefined {
  if (!('deliverRestored' in gateway)) return undefined
  const d = (gateway as RestoredPhoneDelivery).deliverRestored
  return typeof d === 'function' ? d.bind(gateway) : undefined
}
