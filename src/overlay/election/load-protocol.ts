/**
 * `/kaiwa/load/1.0.0`: how supernodes publish their load for the election.
 * A node (client or supernode) asks a supernode it is connected to; the
 * supernode answers with its LoadReport (attached clients, the candidates
 * among them, its target, and whether it is stepping down). The asker says
 * whether it is a capable `auto` candidate, so the supernode can count them:
 * candidates use that count to spread promotions instead of acting as a herd.
 * One request, one reply, each a length-prefixed CBOR map (../rpc/cbor-rpc.ts).
 */
import type { Libp2p, PeerId } from '@libp2p/interface'
import { KaiwaError } from '../../shared/errors.js'
import type { Logger } from '../../shared/logger.js'
import { parseLoadReport } from '../../shared/election/load-report.js'
import type { LoadReport } from '../../shared/election/load-report.js'
import { requestCborRpc, serveCborRpc } from '../rpc/cbor-rpc.js'
import type { RegistrarSlice } from '../rpc/cbor-rpc.js'

export const LOAD_PROTOCOL = '/kaiwa/load/1.0.0'
const LIMITS = { protocol: LOAD_PROTOCOL, maxMessageBytes: 1024, timeoutMs: 5000 }

/** A load request reached a node that is not serving (not a supernode now). */
export class LoadNotServingError extends KaiwaError {
  constructor() {
    super('this node does not serve load reports now', 'unavailable')
    this.name = 'LoadNotServingError'
  }
}

export interface LoadServerInit {
  registrar: RegistrarSlice
  /** This supernode's report now. */
  report: () => LoadReport
  /** An attached peer said whether it is a capable candidate. */
  onAsked: (peer: string, candidate: boolean) => void
  /**
   * Answer only while this is true (the node is a supernode); otherwise the
   * stream is aborted, as if the protocol were not there. @default always
   */
  isServing?: () => boolean
  log: Logger
}

export async function serveLoad(init: LoadServerInit): Promise<() => Promise<void>> {
  return serveCborRpc(init.registrar, {
    ...LIMITS,
    // Every attached client asks about once a minute; a few at once is plenty.
    maxInboundStreams: 16,
    handler: (req, { peer }) => {
      if (init.isServing?.() === false) throw new LoadNotServingError()
      init.onAsked(peer.toString(), req.candidate === true)
      return { ...init.report() }
    },
    log: init.log,
  })
}

/** Ask `peer` for its load; rejects on a malformed, stale or skewed report. */
export async function requestLoad(
  node: Pick<Libp2p, 'dialProtocol'>,
  peer: PeerId,
  candidate: boolean,
  now = Date.now(),
): Promise<LoadReport> {
  return parseLoadReport(await requestCborRpc(node, peer, { v: 1, candidate }, LIMITS), now)
}
