/**
 * `/kaiwa/turn/1.0.0`: a supernode issues short-lived TURN credentials to the
 * overlay peer on the other end of the stream. The peer is the one Noise
 * authenticated, so the username (`expiry:peerId`) names who may relay and
 * nobody outside the overlay can. One request, one reply, each a
 * length-prefixed CBOR map (../rpc/cbor-rpc.ts):
 *
 *   request  { v: 1, name?: <the asker's claimed user ID> }
 *   reply    { username, password, realm, expiresAt, urls }
 *          | { error: TurnRefusal }   (turn-admission.ts says who is admitted)
 *
 * A request without `name` is admitted only from a peer attached to this
 * supernode (holding a relay reservation on it).
 */
import type { Libp2p, PeerId } from '@libp2p/interface'
import { KaiwaError } from '../../shared/errors.js'
import type { Logger } from '../../shared/logger.js'
import { isValidUserId } from '../../shared/user-id.js'
import { requestCborRpc, serveCborRpc } from '../rpc/cbor-rpc.js'
import type { RegistrarSlice } from '../rpc/cbor-rpc.js'
import type { TurnAdmit, TurnRefusal } from './turn-admission.js'

export type { TurnRefusal } from './turn-admission.js'

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
  /** Set when a supernode refused (its reply's `error`); undefined for other failures. */
  readonly refusal: TurnRefusal | undefined
  constructor(message: string, refusal?: TurnRefusal) {
    super(message, 'unavailable')
    this.name = 'TurnCredentialsError'
    this.refusal = refusal
  }
}

export interface TurnCredentialsServerInit {
  registrar: RegistrarSlice
  /** Credentials for `peer`, or undefined when this node does not relay. */
  issue: (peer: string) => IssuedTurnCredentials | undefined
  /** Issue only while this is true (the node is a supernode). @default always */
  isServing?: () => boolean
  /** Whether the asking peer may have credentials now (createTurnAdmission). */
  admit: TurnAdmit
  log: Logger
}

/** What the asker is told to do, per refusal; `name` is what it sent, if anything. */
function refusalMessage(supernode: string, refusal: string, name: string | undefined): string {
  const who = `supernode ${supernode}`
  switch (refusal) {
    case 'not_serving':
      return `${who} does not relay TURN now; another supernode may`
    case 'not_admitted':
      return name === undefined
        ? `${who} gives TURN credentials only to devices of a claimed user ID and to its ` +
            'attached clients: claim a user ID first (kaiwa claim NAME, or kaiwa node --name NAME)'
        : `${who} found no live device of "${name}" with this peer ID: claim a user ID ` +
            'first (kaiwa claim NAME), or wait until the claim has spread through the DHT'
    case 'rate_limited':
      return `${who} refused: too many TURN credential requests from this device or user ID; wait a minute and try again`
    case 'unverified':
      return `${who} could not check the user ID "${name ?? ''}" in time; try again shortly`
    case 'invalid_request':
      return `${who} rejected the request as malformed (the user ID sent is not valid)`
    default:
      return `${who} refused TURN credentials (${refusal.slice(0, 64)})`
  }
}

const REFUSALS: ReadonlySet<string> = new Set<TurnRefusal>([
  'not_serving',
  'not_admitted',
  'rate_limited',
  'unverified',
  'invalid_request',
])

export async function serveTurnCredentials(
  init: TurnCredentialsServerInit,
): Promise<() => Promise<void>> {
  return serveCborRpc(init.registrar, {
    ...LIMITS,
    maxInboundStreams: 4,
    // The peer is who Noise authenticated; `name` is only a claim, which admission checks.
    handler: async (req, { peer, signal }) => {
      if (init.isServing?.() === false) return { error: 'not_serving' }
      const name = req.name
      if (name !== undefined && !isValidUserId(name)) return { error: 'invalid_request' }
      const id = peer.toString()
      const refusal = await init.admit(id, name as string | undefined, { signal })
      if (refusal !== undefined) return { error: refusal }
      const creds = init.issue(id)
      return creds === undefined ? { error: 'not_serving' } : { ...creds }
    },
    log: init.log,
  })
}

/**
 * Asks supernode `peer` for TURN credentials. `name`: this account's claimed
 * user ID, which lets any supernode admit this device (without it, only a
 * supernode this node holds a relay reservation on does). A refusal throws
 * TurnCredentialsError with `refusal` set and a message saying what to do.
 */
export async function requestTurnCredentials(
  node: Pick<Libp2p, 'dialProtocol'>,
  peer: PeerId,
  name?: string,
): Promise<IssuedTurnCredentials> {
  const reply = await requestCborRpc(
    node,
    peer,
    { v: 1, ...(name != null ? { name } : {}) },
    LIMITS,
  )
  if (typeof reply.error === 'string') {
    const refusal = REFUSALS.has(reply.error) ? (reply.error as TurnRefusal) : undefined
    throw new TurnCredentialsError(refusalMessage(peer.toString(), reply.error, name), refusal)
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
