/**
 * After this machine's addresses change (roaming, issue 13 §8), connections
 * that ran over a vanished address are dead but still look open: Linux keeps
 * a TCP socket whose source address was removed (its segments are simply not
 * sent any more), and a WebRTC connection waits for ICE consent to expire.
 * libp2p's connection monitor would notice at its next heartbeat (every 15 s)
 * and its adaptive ping timeout; until then the relay reservation, the
 * supernode link that publishes the contact record, and the SIP links to the
 * far end of a call all sit on dead connections.
 *
 * So on such a change every connection is pinged at once, with the ping
 * protocol and exchange the connection monitor uses (32 random bytes echoed,
 * `/ipfs/ping/1.0.0`), under a short deadline, and the ones that do not
 * answer are aborted. Their owners then re-make them (the bootstrap dialer,
 * the relay transport, the next SIP message), from the new address.
 */
import type { Connection } from '@libp2p/interface'
import { byteStream } from '@libp2p/utils'
import type { Logger } from '../../shared/logger.js'

/** libp2p's ping protocol (@libp2p/ping and the connection monitor use it). */
export const PING_PROTOCOL = '/ipfs/ping/1.0.0'
/** A live connection answers within a round trip; a WebRTC or relayed one within a few. */
export const LIVENESS_TIMEOUT_MS = 2_000
const PING_LENGTH = 32

export class DeadConnectionError extends Error {
  static override readonly name = 'DeadConnectionError'
  override readonly name = DeadConnectionError.name
}

/** Resolves when `conn` echoed a ping within `timeoutMs`; rejects otherwise. */
export async function pingConnection(
  conn: Pick<Connection, 'newStream'>,
  timeoutMs = LIVENESS_TIMEOUT_MS,
): Promise<void> {
  const signal = AbortSignal.timeout(timeoutMs)
  const stream = await conn.newStream(PING_PROTOCOL, { signal, runOnLimitedConnection: true })
  try {
    const bs = byteStream(stream)
    const data = crypto.getRandomValues(new Uint8Array(PING_LENGTH))
    const [, echo] = await Promise.all([
      bs.write(data, { signal }),
      bs.read({ bytes: PING_LENGTH, signal }),
    ])
    if (echo == null || echo.byteLength !== PING_LENGTH) throw new Error('short ping reply')
    await stream.close({ signal }).catch(() => {})
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  }
}

export interface DropDeadOptions {
  log: Logger
  timeoutMs?: number
  /** The ping (tests give their own). @default pingConnection */
  ping?: (conn: Connection, timeoutMs: number) => Promise<void>
}

/**
 * Ping every connection in parallel; abort each one that does not answer.
 * A peer that does not speak ping (UnsupportedProtocolError) did answer:
 * multistream-select ran over the connection. Resolves with the aborted ones.
 */
export async function dropDeadConnections(
  connections: readonly Connection[],
  opts: DropDeadOptions,
): Promise<Connection[]> {
  const timeoutMs = opts.timeoutMs ?? LIVENESS_TIMEOUT_MS
  const ping = opts.ping ?? pingConnection
  const dead: Connection[] = []
  await Promise.all(
    connections
      .filter((c) => c.status === 'open')
      .map(async (conn) => {
        try {
          await ping(conn, timeoutMs)
        } catch (err) {
          if ((err as Error | undefined)?.name === 'UnsupportedProtocolError') return
          dead.push(conn)
          opts.log.info(
            `connection to ${conn.remotePeer.toString()} (${conn.remoteAddr.toString()}) ` +
              `did not answer a ping after the address change: closing it`,
          )
          conn.abort(new DeadConnectionError(`no ping answer in ${timeoutMs} ms`))
        }
      }),
  )
  return dead
}
