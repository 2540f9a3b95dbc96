/**
 * The local SIP gateway's start (kaiwa-node.ts step 3): registrar and
 * outbound proxy for stock phones, with the media anchor that makes the node
 * their B2BUA (issue 12).
 */
import type { Logger } from '../shared/logger.js'
import { MediaAnchor } from '../overlay/media/media-anchor.js'
import { SipGatewayError } from '../overlay/sip/gateway/gateway-types.js'
import { loadOrCreateSipPassword } from '../overlay/sip/gateway/sip-password.js'
import type { SipService } from '../overlay/sip/sip-service.js'
import type { TurnService } from '../overlay/turn/turn-service.js'
import type { KaiwaNodeOptions } from './kaiwa-node-options.js'

/** The local SIP gateway outlives role changes: it talks to the router, not to libp2p. */
export async function startGateway(
  parts: { sip: SipService; turn: Pick<TurnService, 'iceServers'> },
  dataDir: string,
  opts: KaiwaNodeOptions,
  log: Logger,
): Promise<void> {
  if ((opts.sipPort ?? 0) <= 0) return
  // The media anchor (on unless mediaAnchor is false): the node is the B2BUA
  // for phones' media (issue 12). Its calls get the same STUN/TURN servers as
  // the UI's, from the supernodes.
  const media =
    opts.mediaAnchor === false
      ? undefined
      : new MediaAnchor({
          iceServers: () => parts.turn.iceServers().catch(() => []),
          log: log.child('media'),
        })
  try {
    await parts.sip.startGateway({
      port: opts.sipPort!,
      password: opts.sipPassword ?? (await loadOrCreateSipPassword(dataDir)),
      ...(opts.sipTuning != null ? { tuning: opts.sipTuning } : {}),
      ...(media != null ? { media } : {}),
    })
  } catch (err) {
    if (!(err instanceof SipGatewayError) || opts.sipPortOptional !== true) throw err
    log.warn(`${err.message}; running without the SIP gateway`)
  }
}
