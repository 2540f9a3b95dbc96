/**
 * The client side of `/kaiwa/mailbox/1.0.0` (see mailbox-protocol.ts): store
 * mail on a supernode, fetch and delete one's own.
 */
import type { AbortOptions, Ed25519PrivateKey, Libp2p, PeerId } from '@libp2p/interface'
import { equals } from 'uint8arrays'
import { decodeMail, encodeMail } from '../../shared/mail/sealed-mail.js'
import type { MailEnvelope } from '../../shared/mail/sealed-mail.js'
import type { PutResult } from './mailbox-store.js'
import {
  MAILBOX_PROTOCOL,
  MAX_DELETE_IDS,
  MAX_MESSAGE_BYTES,
  MailboxPagingUnsupportedError,
  MailboxProtocolError,
  MailboxRequestError,
  STREAM_TIMEOUT_MS,
  deleteSignedBytes,
  encodeMailCursor,
  fetchSignedBytes,
} from './mailbox-wire.js'
import type {
  MailPosition,
  MailboxErrorCode,
  MailboxRequest,
  MailboxResponse,
} from './mailbox-wire.js'
import { CborRpcDecodeError, requestCborRpc } from '../rpc/cbor-rpc.js'

/** The parts of a libp2p node the client functions use. */
export type MailboxClientNode = Pick<Libp2p, 'dialProtocol' | 'peerId'>

export interface MailboxClientOptions extends AbortOptions {
  /** Clock for signed requests; defaults to Date.now(). */
  now?: number
}

/** Send one raw request and read one response. Exposed for tests and diagnostics. */
export async function mailboxRequest(
  node: MailboxClientNode,
  peer: PeerId,
  req: MailboxRequest,
  options: AbortOptions = {},
): Promise<MailboxResponse> {
  try {
    const res = await requestCborRpc(node, peer, req, {
      protocol: MAILBOX_PROTOCOL,
      maxMessageBytes: MAX_MESSAGE_BYTES,
      timeoutMs: STREAM_TIMEOUT_MS,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    })
    return res as MailboxResponse
  } catch (err) {
    if (err instanceof CborRpcDecodeError) {
      throw new MailboxProtocolError('mailbox response is not a CBOR map', { cause: err })
    }
    throw err
  }
}

let lastSigned = 0

/**
 * Date.now(), but never the same value twice in this process: the server
 * accepts each signed request once, and two fetches in one millisecond would
 * otherwise sign identical bytes.
 */
function signingTime(): number {
  lastSigned = Math.max(Date.now(), lastSigned + 1)
  return lastSigned
}

function expectReply<T>(res: MailboxResponse, ok: (r: Record<string, unknown>) => boolean): T {
  const r = res as Record<string, unknown>
  if (typeof r.error === 'string') throw new MailboxRequestError(r.error as MailboxErrorCode)
  if (!ok(r)) throw new MailboxProtocolError('unexpected mailbox response')
  return res as T
}

export interface StoreMailOptions extends AbortOptions {
  /** The sender's own user ID; the supernode checks that its verified key signed `env`. */
  from: string
}

/** Ask supernode `peer` to hold `env` for its recipient. */
export async function storeMail(
  node: MailboxClientNode,
  peer: PeerId,
  env: MailEnvelope,
  options: StoreMailOptions,
): Promise<PutResult> {
  const req: MailboxRequest = { t: 'store', envelope: encodeMail(env), from: options.from }
  const res = await mailboxRequest(node, peer, req, options)
  return expectReply<{ result: PutResult }>(
    res,
    (r) => r.ok === true && (r.result === 'stored' || r.result === 'duplicate'),
  ).result
}

export interface FetchResult {
  /**
   * Envelopes addressed to `accountKey`, oldest first. Their sender signature
   * is NOT yet checked: open them with openVerifiedMail.
   */
  envelopes: MailEnvelope[]
  /** The mailbox holds more: fetch again with `after` the last of these. */
  more: boolean
}

export interface FetchMailOptions extends MailboxClientOptions {
  /** The next page: mail after this one (the last envelope of the page before). */
  after?: MailPosition
}

/**
 * Fetch this account's mail from supernode `peer` (deleting nothing). A
 * supernode from before paged fetches refuses `after` with
 * MailboxPagingUnsupportedError.
 */
export async function fetchMail(
  node: MailboxClientNode,
  peer: PeerId,
  accountKey: Ed25519PrivateKey,
  options: FetchMailOptions = {},
): Promise<FetchResult> {
  const recipientKey = accountKey.publicKey.raw
  const now = options.now ?? signingTime()
  const after = options.after != null ? encodeMailCursor(options.after) : undefined
  const signed = fetchSignedBytes(recipientKey, now, node.peerId.toString(), after)
  const sig = new Uint8Array(await accountKey.sign(signed))
  const req: MailboxRequest = { t: 'fetch', recipientKey, now, sig, ...(after ? { after } : {}) }
  let reply: MailboxResponse
  try {
    reply = expectReply<MailboxResponse>(await mailboxRequest(node, peer, req, options), () => true)
  } catch (err) {
    // Its strict parse answers an unknown field with bad_request.
    if (after != null && err instanceof MailboxRequestError && err.reason === 'bad_request')
      throw new MailboxPagingUnsupportedError(peer.toString())
    throw err
  }
  const res = expectReply<{ envelopes: unknown[]; more: boolean }>(
    reply,
    (r) => Array.isArray(r.envelopes) && typeof r.more === 'boolean',
  )
  const envelopes: MailEnvelope[] = []
  for (const b of res.envelopes) {
    try {
      const env = decodeMail(b as Uint8Array)
      // A faulty or hostile supernode could hand out anyone's mail; skip it.
      if (equals(env.recipientKey, recipientKey)) envelopes.push(env)
    } catch {
      // Undecodable junk from the supernode: nothing to deliver or delete.
    }
  }
  return { envelopes, more: res.more }
}

/** Delete this account's mails `ids` on supernode `peer`; returns how many it held. */
export async function deleteMail(
  node: MailboxClientNode,
  peer: PeerId,
  accountKey: Ed25519PrivateKey,
  ids: Uint8Array[],
  options: MailboxClientOptions = {},
): Promise<number> {
  const recipientKey = accountKey.publicKey.raw
  const now = options.now ?? signingTime()
  let deleted = 0
  // The server takes at most MAX_DELETE_IDS per request.
  for (let i = 0; i < ids.length; i += MAX_DELETE_IDS) {
    const chunk = ids.slice(i, i + MAX_DELETE_IDS)
    const signed = deleteSignedBytes(recipientKey, now, node.peerId.toString(), chunk)
    const sig = new Uint8Array(await accountKey.sign(signed))
    const req: MailboxRequest = { t: 'delete', recipientKey, ids: chunk, now, sig }
    const res = expectReply<{ deleted: number }>(
      await mailboxRequest(node, peer, req, options),
      (r) => typeof r.deleted === 'number',
    )
    deleted += res.deleted
  }
  return deleted
}
