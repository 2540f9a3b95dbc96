/**
 * `/kaiwa/turn/1.0.0`: a supernode issues short-lived TURN credentials to the
 * overlay peer on the other end of the stream. The peer is the one Noise
 * authenticated, so the username (`expiry:peerId`) names who may relay and
 * nobody outside the overlay can. One request, one reply, each a
 * length-prefixed CBOR map (../rpc/cbor-rpc.ts).
 */
import type { Libp2p, PeerId } from '@libp2p/interface'
import { KaiwaError } from '../../shared/errors.js'
import type { Logger } from '../../shared/logger.js'
import { requestCborRpc, serveCborRpc } from '../rpc/cbor-rpc.js'
import type { RegistrarSlice } from '../rpc/cbor-rpc.js'

export const TURN_CREDENTIALS_PROTOCOL = '/kaiwa/turn/1.0.0'
const LIMITS = { protocol: TURN_CREDENTIALS_PROTOCOL, maxMessageBytes: 4096, timeoutMs: 5000 }

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
  registrar: RegistrarSlice
  /** Credentials for `peer`, or undefined when this node does not relay. */
  issue: (peer: string) => IssuedTurnCredentials | undefined
  /** Issue only while this is true (the node is a supernode). @default always */
  isServing?: () => boolean
  log: Logger
}

export async function serveTurnCredentials(
  init: TurnCredentialsServerInit,
): Promise<() => Promise<void>> {
  return serveCborRpc(init.registrar, {
    ...LIMITS,
    maxInboundStreams: 4,
    // The request carries nothing we need: the peer is who asks.
    handler: (_req, { peer }) => {
      const creds = init.isServing?.() === false ? undefined : init.issue(peer.toString())
      return creds === undefined ? { error: 'not_serving' } : { ...creds }
    },
    log: init.log,
  })
}

export async function requestTurnCredentials(
  node: Pick<Libp2p, 'dialProtocol'>,
  peer: PeerId,
): Promise<IssuedTurnCredentials> {
  const reply = await requestCborRpc(node, peer, { v: 1 }, LIMITS)
  if (typeof reply.error === 'string') {
    throw new TurnCredentialsError(`supernode said ${reply.error}`)
  }
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
}
