/**
 * The gateway of alice@kaiwa's phones (the realm and the one user it
 * registers), logging nowhere; each test names its router and password and
 * whatever else it tunes.
 */
import { SipGateway } from '../../../../src/overlay/sip/gateway/sip-gateway.js'
import type { SipGatewayInit } from '../../../../src/overlay/sip/gateway/sip-gateway.js'
import { silentLogger } from '../../../helpers/logger.js'

export function aliceGateway(
  init: Pick<SipGatewayInit, 'router' | 'password'> & Partial<SipGatewayInit>,
): SipGateway {
  return new SipGateway({
    domain: 'kaiwa',
    username: async () => 'alice',
    log: silentLogger,
    ...init,
  })
}
