/**
 * The port-443 bridge's share of the composition root (issue 13 §4, README "Port-443-only
 * networks"): what the libp2p instance of each role gets. Every role can dial supernodes'
 * `/tls/ws` addresses; a supernode with a bridge port also listens there, where TURN over TLS
 * arrives too (src/overlay/bridge/). TURN announces `turns:` URLs for the port while it is bound.
 */
import type { Role } from '../shared/api/contract.js'
import type { Logger } from '../shared/logger.js'
import { loadOrCreateBridgeCertificate } from '../overlay/bridge/bridge-certificate.js'
import { bridgeListenAddrs } from '../overlay/bridge/wss-transport.js'
import type { WssTransportInit } from '../overlay/bridge/wss-transport.js'
import type { TurnService } from '../overlay/turn/turn-service.js'

export interface BridgeParts {
  init: WssTransportInit
  /** The bridge's listen addresses for a role: none for clients. */
  listenFor(role: Role): string[]
}

export function bridgeParts(opts: {
  /** 0: no bridge (dialling out still works). */
  port: number
  optional: boolean
  /** The overlay's TCP listen addresses: the bridge binds the same hosts. */
  listen: readonly string[]
  dataDir: string
  turn: Pick<TurnService, 'acceptTls' | 'setBridgePort'>
  log: Logger
}): BridgeParts {
  const log = opts.log
  let said = false
  return {
    init: {
      certificate: async () => {
        const c = await loadOrCreateBridgeCertificate(opts.dataDir)
        if (!said)
          log.info(
            `bridge certificate (self-signed, ${opts.dataDir}/bridge-cert.pem): SPKI SHA-256 ` +
              `${c.spkiSha256}; Kaiwa apps reach its turns: through their node, other TURN clients must pin it (README)`,
          )
        said = true
        return c
      },
      turn: (stream, remote) => opts.turn.acceptTls(stream, remote),
      optional: opts.optional,
      onBound: (port) => opts.turn.setBridgePort(port),
      log,
    },
    listenFor: (role) =>
      role === 'supernode' && opts.port > 0 ? bridgeListenAddrs(opts.listen, opts.port) : [],
  }
}
