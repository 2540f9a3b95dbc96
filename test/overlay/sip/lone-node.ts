/**
 * alice@kaiwa's node with no overlay behind it, for the tests of what sits
 * between the router and the phones (the gateway, registrations, phone mail,
 * a restart): every user it looks up is unknown and every link it asks for
 * fails, so whatever the test sees came from the local phones.
 */
import type { Datastore } from 'interface-datastore'
import { Phones } from '../../../src/overlay/sip/phones.js'
import { SipRouter } from '../../../src/overlay/sip/sip-router.js'
import { silentLogger } from '../../helpers/logger.js'

/** The router of alice@kaiwa's node, alone. */
export function loneRouter(): SipRouter {
  return new SipRouter({
    selfPeer: () => 'self',
    domain: 'kaiwa',
    ownName: async () => 'alice',
    resolve: async () => ({ kind: 'unknown' }),
    linkTo: () => Promise.reject(new Error('no links in this test')),
    log: silentLogger,
  })
}

/** alice@kaiwa's Phones behind `router`, keeping their state in `datastore`. */
export function alicePhones(router: SipRouter, datastore: Datastore): Phones {
  return new Phones({
    router,
    datastore,
    ownName: async () => 'alice',
    domain: 'kaiwa',
    log: silentLogger,
  })
}
