/**
 * `/kaiwa/turn/1.0.0`: a supernode issues short-lived TURN credentials to the
 * overlay peer on the other end of the stream. The peer is the one Noise
 * authenticated, so the username (`expiry:peerId`) names who may relay and
 * nobody outside the overlay can. One request, one reply, each a
 * length-prefixed CBOR map.
 */
import { lpStream } from '@libp2p/utils'
import { decode, encode } from 'cborg'
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import { KaiwaError } from '../../shared/errors.js'
import type { Logger } from '../../shared/logger.js'
import { STRICT_DECODE } from '../../shared/cbor-strict.js'

export const TURN_CREDENTIALS_PROTOCOL = '/kaiwa/turn/1.0.0'
const LP_OPTS = { maxDataLength: 4096, maxBufferSize: 4096 + 16 }
const TIMEOUT_MS = 5000

export interface IssuedTurnCredentials {
  username: string
  password: string
  realm: string
  /** Unix seconds. */
  expiresAt: number
  /** `turn:` and `stun:` URLs (RFC 7065 / RFC 7064) for RTCIceServer.urls. */
  urls: string[]
}

export class TurnCredentialsError extends KaiwaError {
  constructor(message: string) {
    super(message, 'unavailable')
    this.name = 'TurnCredentialsError'
  }
}

export interface TurnCredentialsServerInit {
  registrar: Pick<Libp2p, 'handle' | 'unhandle'>
  issue: (peer: string) => IssuedTurnCredentials | undefined
  log: Logger
}

export async function serveTurnCredentials(
  init: TurnCredentialsServerInit,
): Promise<() => Promise<void>> {
  await init.registrar.handle(
    TURN_CREDENTIALS_PROTOCOL,
    (stream: Stream, connection: Connection) => void answer(stream, connection, init),
    { maxInboundStreams: 4 },
  )
  return async () => {
    await init.registrar.unhandle(TURN_CREDENTIALS_PROTOCOL)
  }
}

async function answer(
  stream: Stream,
  connection: Connection,
  init: TurnCredentialsServerInit,
): Promise<void> {
  const signal = AbortSignal.timeout(TIMEOUT_MS)
  try {
    const lp = lpStream(stream, LP_OPTS)
    await lp.read({ signal }) // the request carries nothing we need: the peer is who asks
    const creds = init.issue(connection.remotePeer.toString())
    await lp.write(encode(creds ?? { error: 'not_serving' }), { signal })
    await stream.close({ signal })
  } catch (err) {
    init.log.debug(
      `TURN credential request from ${connection.remotePeer.toString()}: ${String(err)}`,
    )
    stream.abort(err instanceof Error ? err : new Error(String(err)))
  }
}

export async function requestTurnCredentials(
  node: Pick<Libp2p, 'dialProtocol'>,
  peer: PeerId,
): Promise<IssuedTurnCredentials> {
  const signal = AbortSignal.timeout(TIMEOUT_MS)
  const stream = await node.dialProtocol(peer, TURN_CREDENTIALS_PROTOCOL, { signal })
  try {
    const lp = lpStream(stream, LP_OPTS)
    await lp.write(encode({ v: 1 }), { signal })
    const reply = decode((await lp.read({ signal })).subarray(), STRICT_DECODE) as Record<
      string,
      unknown
    >
    await stream.close({ signal })
    if (typeof reply.error === 'string')
      throw new TurnCredentialsError(`supernode said ${reply.error}`)
    const { username, password, realm, expiresAt, urls } = reply
    if (
      typeof username !== 'string' ||
      typeof password !== 'string' ||
      typeof realm !== 'string' ||
      typeof expiresAt !== 'number' ||
      !Array.isArray(urls) ||
      !urls.every((u) => typeof u === 'string')
    ) {
      throw new TurnCredentialsError('malformed TURN credentials from the supernode')
    }
    return { username, password, realm, expiresAt, urls: urls as string[] }
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  }
}
