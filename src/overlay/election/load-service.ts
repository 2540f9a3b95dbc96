/**
 * `/kaiwa/load/1.0.0` as a libp2p service, in js-libp2p's factory style:
 *
 *   createLibp2p({ services: { load: loadService({ report, onAsked, isServing, log }) } })
 *
 * libp2p builds it with its components and starts it with the node: `start`
 * registers the protocol handler, `stop` unregisters it (libp2p stops services
 * before it closes connections). The protocol itself is in load-protocol.ts.
 */
import { protocolService } from '../rpc/handler-service.js'
import type { ProtocolService, ProtocolServiceComponents } from '../rpc/handler-service.js'
import { LOAD_PROTOCOL, serveLoad } from './load-protocol.js'
import type { LoadServerInit } from './load-protocol.js'

/** The long-lived parts: what to report, whom to count, whether to answer. */
export type LoadServiceInit = Omit<LoadServerInit, 'registrar'>

export type LoadService = ProtocolService

export function loadService(
  init: LoadServiceInit,
): (components: ProtocolServiceComponents) => LoadService {
  return protocolService('load', LOAD_PROTOCOL, (registrar) => serveLoad({ ...init, registrar }))
}
