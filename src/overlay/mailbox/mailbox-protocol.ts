/**
 * `/kaiwa/mailbox/1.0.0`: store, fetch and delete offline mail on supernodes.
 *
 * One request and one response per stream, each a varint-length-prefixed CBOR
 * map (../rpc/cbor-rpc.ts).
 *
 * Anyone may store mail (it is signed by its sender and checked by the
 * MailboxStore), but only the recipient may fetch or delete it: those requests
 * carry the recipient account key's signature over the recipient key, a
 * timestamp (±5 min) and the requesting peer id. The server puts the
 * connection's authenticated remote peer into the signed bytes itself, so a
 * captured request is useless from any other peer.
 */
import { encode } from 'cborg'
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import type { AbortOptions, Ed25519PrivateKey, Libp2p, PeerId } from '@libp2p/interface'
import { concat, equals, toString } from 'uint8arrays'
import { KaiwaError } from '../../shared/errors.js'
import type { Logger } from '../../shared/logger.js'
import {
  InvalidMailError,
  MailSignatureError,
  decodeMail,
  encodeMail,
} from '../../shared/mail/sealed-mail.js'
import type { MailEnvelope } from '../../shared/mail/sealed-mail.js'
import { MailRateLimitedError, MailboxFullError, RateCounter } from './mailbox-store.js'
import type { MailboxStore, PutResult } from './mailbox-store.js'
import { CborRpcDecodeError, requestCborRpc, serveCborRpc } from '../rpc/cbor-rpc.js'
import type { CborMap, RegistrarSlice } from '../rpc/cbor-rpc.js'

export const MAILBOX_PROTOCOL = '/kaiwa/mailbox/1.0.0'
/** Largest request or response frame. One mail is at most 64 KiB, so one always fits. */
export const MAX_MESSAGE_BYTES = 128 * 1024
/** Most envelopes in one fetch response; the client fetches again while `more`. */
export const MAX_FETCH_COUNT = 100
/** Most ids in one delete request. */
export const MAX_DELETE_IDS = 200
export const STREAM_TIMEOUT_MS = 10_000
/** Allowed difference between a signed request's `now` and the server's clock. */
export const MAX_REQUEST_SKEW_MS = 5 * 60_000
/** Room left in a fetch response for the CBOR framing around the envelopes. */
const RESPONSE_SLACK = 1024

const enc = new TextEncoder()
const FETCH_DOMAIN = enc.encode('kaiwa-mail-fetch\n')
const DELETE_DOMAIN = enc.encode('kaiwa-mail-delete\n')

export type MailboxErrorCode =
  | 'bad_request'
  | 'not_serving'
  | 'invalid_mail'
  | 'bad_signature'
  | 'mailbox_full'
  | 'rate_limited'
  | 'unauthorized'
  | 'internal'

export type MailboxRequest =
  | { t: 'store'; envelope: Uint8Array }
  | { t: 'fetch'; recipientKey: Uint8Array; now: number; sig: Uint8Array }
  | { t: 'delete'; recipientKey: Uint8Array; ids: Uint8Array[]; now: number; sig: Uint8Array }

export type MailboxResponse =
  | { ok: true; result: PutResult }
  | { envelopes: Uint8Array[]; more: boolean }
  | { deleted: number }
  | { error: MailboxErrorCode }

/** The supernode refused a request; `reason` is its error code. */
export class MailboxRequestError extends KaiwaError {
  readonly reason: MailboxErrorCode
  constructor(reason: MailboxErrorCode) {
    super(`the supernode refused the mailbox request: ${reason}`, 'invalid_input')
    this.name = 'MailboxRequestError'
    this.reason = reason
  }
}

/** The supernode's reply was not a valid mailbox response. */
export class MailboxProtocolError extends KaiwaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'internal', options)
    this.name = 'MailboxProtocolError'
  }
}

/** DHT key whose closest peers hold the recipient's mailbox (for dht.getClosestPeers). */
export function mailboxKey(recipientKey: Uint8Array): Uint8Array {
  return enc.encode(`/kaiwa-mbox/${toString(recipientKey, 'base16')}`)
}

/** What the recipient signs to fetch: domain ‖ CBOR{recipientKey, now, peer}. */
export function fetchSignedBytes(recipientKey: Uint8Array, now: number, peer: string): Uint8Array {
  return concat([FETCH_DOMAIN, encode({ recipientKey, now, peer })])
}

/** What the recipient signs to delete: domain ‖ CBOR{recipientKey, now, peer, ids}. */
export function deleteSignedBytes(
  recipientKey: Uint8Array,
  now: number,
  peer: string,
  ids: Uint8Array[],
): Uint8Array {
  return concat([DELETE_DOMAIN, encode({ recipientKey, now, peer, ids })])
}

const isBytes = (x: unknown, len?: number): x is Uint8Array =>
  x instanceof Uint8Array && (len === undefined || x.length === len)
const isTime = (x: unknown): x is number =>
  typeof x === 'number' && Number.isSafeInteger(x) && x >= 0

/** Strict request check of a decoded CBOR map; anything unexpected is a bad request. */
function parseRequest(r: CborMap): MailboxRequest | null {
  const keys = Object.keys(r).sort().join(',')
  if (r.t === 'store' && keys === 'envelope,t' && isBytes(r.envelope)) {
    return r as MailboxRequest
  }
  const signed = isBytes(r.recipientKey, 32) && isTime(r.now) && isBytes(r.sig, 64)
  if (r.t === 'fetch' && keys === 'now,recipientKey,sig,t' && signed) return r as MailboxRequest
  if (
    r.t === 'delete' &&
    keys === 'ids,now,recipientKey,sig,t' &&
    signed &&
    Array.isArray(r.ids) &&
    r.ids.length <= MAX_DELETE_IDS &&
    r.ids.every((id) => isBytes(id, 16))
  ) {
    return r as MailboxRequest
  }
  return null
}

function errorCode(err: unknown): MailboxErrorCode {
  if (err instanceof MailSignatureError) return 'bad_signature'
  if (err instanceof InvalidMailError) return 'invalid_mail'
  if (err instanceof MailboxFullError) return 'mailbox_full'
  if (err instanceof MailRateLimitedError) return 'rate_limited'
  return 'internal'
}

export interface MailboxServerInit {
  /** Where to mount the protocol (the libp2p node). */
  registrar: RegistrarSlice
  store: MailboxStore
  /** Store requests are accepted only while this is true (this node is a supernode). */
  isServing(): boolean
  log?: Logger
  /** Requests of any kind per remote peer per minute. @default 60 */
  requestsPerMinute?: number
  /** @default 10 s */
  timeoutMs?: number
}

/**
 * Serves the mailbox protocol from a MailboxStore. Fetch and delete keep
 * working when the node stops serving, so mail it already holds can still be
 * collected.
 */
export class MailboxServer {
  private readonly perPeer: RateCounter
  private readonly timeoutMs: number
  private unserve: (() => Promise<void>) | undefined
  private requests = 0

  constructor(private readonly init: MailboxServerInit) {
    this.perPeer = new RateCounter(init.requestsPerMinute ?? 60, 60_000)
    this.timeoutMs = init.timeoutMs ?? STREAM_TIMEOUT_MS
  }

  async start(): Promise<void> {
    if (this.unserve !== undefined) return
    this.unserve = await serveCborRpc(this.init.registrar, {
      protocol: MAILBOX_PROTOCOL,
      maxMessageBytes: MAX_MESSAGE_BYTES,
      timeoutMs: this.timeoutMs,
      maxInboundStreams: 8,
      handler: (req, { peer }) => this.respond(req, peer.toString()),
      // Bad framing (e.g. an oversized length prefix), an early EOF or
      // malformed CBOR get an answer, and count against the peer's rate.
      onBadRequest: (_err, peer) => {
        this.perPeer.hit(peer.toString(), Date.now())
        return { error: 'bad_request' }
      },
      log: this.init.log,
    })
  }

  async stop(): Promise<void> {
    const unserve = this.unserve
    this.unserve = undefined
    await unserve?.()
  }

  /** Never throws: every refusal is an error reply. */
  private async respond(body: CborMap, peer: string): Promise<MailboxResponse> {
    const now = Date.now()
    // Prune now and then so peers seen once do not accumulate forever.
    if (++this.requests % 256 === 0) this.perPeer.prune(now)
    if (!this.perPeer.hit(peer, now)) return { error: 'rate_limited' }
    const req = parseRequest(body)
    if (req === null) return { error: 'bad_request' }
    try {
      switch (req.t) {
        case 'store': {
          if (!this.init.isServing()) return { error: 'not_serving' }
          return { ok: true, result: await this.init.store.put(req.envelope, peer, now) }
        }
        case 'fetch': {
          const signed = fetchSignedBytes(req.recipientKey, req.now, peer)
          if (!(await this.authorized(req, signed, now))) return { error: 'unauthorized' }
          const list = await this.init.store.list(req.recipientKey, now, MAX_FETCH_COUNT + 1)
          const envelopes: Uint8Array[] = []
          let size = RESPONSE_SLACK
          for (const env of list.slice(0, MAX_FETCH_COUNT)) {
            const b = encodeMail(env)
            if (size + b.length > MAX_MESSAGE_BYTES) break
            envelopes.push(b)
            size += b.length + 8
          }
          return { envelopes, more: envelopes.length < list.length }
        }
        case 'delete': {
          const signed = deleteSignedBytes(req.recipientKey, req.now, peer, req.ids)
          if (!(await this.authorized(req, signed, now))) return { error: 'unauthorized' }
          return { deleted: await this.init.store.delete(req.recipientKey, req.ids) }
        }
      }
    } catch (err) {
      const code = errorCode(err)
      if (code === 'internal') this.init.log?.warn(`mailbox ${req.t} failed: ${String(err)}`)
      return { error: code }
    }
  }

  private async authorized(
    req: { recipientKey: Uint8Array; now: number; sig: Uint8Array },
    signed: Uint8Array,
    now: number,
  ): Promise<boolean> {
    if (Math.abs(req.now - now) > MAX_REQUEST_SKEW_MS) return false
    try {
      const key = publicKeyFromRaw(req.recipientKey)
      return key.type === 'Ed25519' && (await key.verify(signed, req.sig))
    } catch {
      return false // not a valid public key
    }
  }
}

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

function expectReply<T>(res: MailboxResponse, ok: (r: Record<string, unknown>) => boolean): T {
  const r = res as Record<string, unknown>
  if (typeof r.error === 'string') throw new MailboxRequestError(r.error as MailboxErrorCode)
  if (!ok(r)) throw new MailboxProtocolError('unexpected mailbox response')
  return res as T
}

/** Ask supernode `peer` to hold `env` for its recipient. */
export async function storeMail(
  node: MailboxClientNode,
  peer: PeerId,
  env: MailEnvelope,
  options: AbortOptions = {},
): Promise<PutResult> {
  const res = await mailboxRequest(node, peer, { t: 'store', envelope: encodeMail(env) }, options)
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
  /** The mailbox holds more; delete these (delivered or not) and fetch again. */
  more: boolean
}

/** Fetch this account's mail from supernode `peer`. */
export async function fetchMail(
  node: MailboxClientNode,
  peer: PeerId,
  accountKey: Ed25519PrivateKey,
  options: MailboxClientOptions = {},
): Promise<FetchResult> {
  const recipientKey = accountKey.publicKey.raw
  const now = options.now ?? Date.now()
  const sig = await accountKey.sign(fetchSignedBytes(recipientKey, now, node.peerId.toString()))
  const req: MailboxRequest = { t: 'fetch', recipientKey, now, sig: new Uint8Array(sig) }
  const res = expectReply<{ envelopes: unknown[]; more: boolean }>(
    await mailboxRequest(node, peer, req, options),
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
  const now = options.now ?? Date.now()
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
