/**
 * `/kaiwa/load/1.0.0`: how supernodes publish their load for the election.
 * A node (client or supernode) asks a supernode it is connected to; the
 * supernode answers with its LoadReport (attached clients, the candidates
 * among them, its target, and whether it is stepping down). The asker says
 * whether it is a capable `auto` candidate, so the supernode can count them:
 * candidates use that count to spread promotions instead of acting as a herd.
 * One request, one reply, each a length-prefixed CBOR map.
 */
import { lpStream } from '@libp2p/utils'
import { decode, encode } from 'cborg'
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { Logger } from '../../shared/logger.js'
import { STRICT_DECODE } from '../../shared/cbor-strict.js'
import { parseLoadReport } from '../../shared/election/load-report.js'
import type { LoadReport } from '../../shared/election/load-report.js'

export const LOAD_PROTOCOL = '/kaiwa/load/1.0.0'
const LP_OPTS = { maxDataLength: 1024, maxBufferSize: 1024 + 16 }
const TIMEOUT_MS = 5000

export interface LoadServerInit {
  registrar: Pick<Libp2p, 'handle' | 'unhandle'>
  /** This supernode's report now. */
  report: () => LoadReport
  /** An attached peer said whether it is a capable candidate. */
  onAsked: (peer: string, candidate: boolean) => void
  log: Logger
}

export async function serveLoad(init: LoadServerInit): Promise<() => Promise<void>> {
  await init.registrar.handle(
    LOAD_PROTOCOL,
    (stream: Stream, connection: Connection) => void answer(stream, connection, init),
    // Every attached client asks about once a minute; a few at once is plenty.
    { maxInboundStreams: 16 },
  )
  return async () => {
    await init.registrar.unhandle(LOAD_PROTOCOL)
  }
}

async function answer(stream: Stream, connection: Connection, init: LoadServerInit): Promise<void> {
  const signal = AbortSignal.timeout(TIMEOUT_MS)
  try {
    const lp = lpStream(stream, LP_OPTS)
    const req = decode((await lp.read({ signal })).subarray(), STRICT_DECODE) as unknown
    const candidate =
      typeof req === 'object' && req !== null && (req as { candidate?: unknown }).candidate === true
    init.onAsked(connection.remotePeer.toString(), candidate)
    await lp.write(encode(init.report()), { signal })
    await stream.close({ signal })
  } catch (err) {
    init.log.debug(`load request from ${connection.remotePeer.toString()}: ${String(err)}`)
    stream.abort(err instanceof Error ? err : new Error(String(err)))
  }
}

/** Ask `peer` for its load; rejects on a malformed, stale or skewed report. */
export async function requestLoad(
  node: Pick<Libp2p, 'dialProtocol'>,
  peer: PeerId,
  candidate: boolean,
  now = Date.now(),
): Promise<LoadReport> {
  const signal = AbortSignal.timeout(TIMEOUT_MS)
  const stream = await node.dialProtocol(peer, LOAD_PROTOCOL, { signal })
  try {
    const lp = lpStream(stream, LP_OPTS)
    await lp.write(encode({ v: 1, candidate }), { signal })
    const reply = decode((await lp.read({ signal })).subarray(), STRICT_DECODE) as unknown
    await stream.close({ signal })
    return parseLoadReport(reply, now)
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  }
}
