/**
 * `/kaiwa/mailbox/1.0.0`: store, fetch and delete offline mail on supernodes.
 *
 * One request and one response per stream, each a varint-length-prefixed CBOR
 * map (../rpc/cbor-rpc.ts).
 *
 * Only a sender with a live claimed user ID may store mail: the store request
 * names it, and the server checks that the mail's signing key is the key of
 * that name's verified record (sender-admission.ts); the MailboxStore then
 * applies quotas and fair shares per sender name and per recipient. Only the
 * recipient may fetch or delete: those requests carry the recipient account
 * key's signature over the recipient key, a timestamp (±5 min) and the
 * requesting peer id (and a fetch's page cursor). The server puts the
 * connection's authenticated remote peer into the signed bytes itself, so a
 * captured request is useless from any other peer, and remembers each signed
 * request until its timestamp expires (replay-cache.ts), so it is accepted
 * only once.
 *
 * Fetching never deletes: a long mailbox is read page by page after a cursor
 * (the last mail's createdAt and id), and the recipient deletes only what it
 * delivered (or knows is for no device), so mail left for another device of
 * the same account stays however many pages there are. A server from before
 * cursors answers one with `bad_request` (its parse is strict); the client
 * then reads only the first page (MailboxPagingUnsupportedError).
 */
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import type { Logger } from '../../shared/logger.js'
import { InvalidMailError, MailSignatureError, encodeMail } from '../../shared/mail/sealed-mail.js'
import { MailRateLimitedError, MailboxFullError } from './mailbox-errors.js'
import type { MailboxStore } from './mailbox-store.js'
import {
  MAILBOX_PROTOCOL,
  MAX_FETCH_COUNT,
  MAX_MESSAGE_BYTES,
  MAX_REQUEST_SKEW_MS,
  RESPONSE_SLACK,
  SENDER_LOOKUP_TIMEOUT_MS,
  STREAM_TIMEOUT_MS,
  decodeMailCursor,
  deleteSignedBytes,
  fetchSignedBytes,
  parseMailboxRequest,
} from './mailbox-wire.js'
import type { MailboxErrorCode, MailboxResponse } from './mailbox-wire.js'
import { RateCounter } from './rate-counter.js'
import { ReplayCache } from './replay-cache.js'
import { admitSender } from './sender-admission.js'
import type { SenderKeyLookup } from './sender-admission.js'
import { serveCborRpc } from '../rpc/cbor-rpc.js'
import type { CborMap, RegistrarSlice } from '../rpc/cbor-rpc.js'

export * from './mailbox-wire.js'
export * from './mailbox-client.js'

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
  /**
   * The account key of a user ID's live, verified contact record, or null when
   * the name has no live claim; throwing means "unknown now" (a timeout). Only
   * senders whose mail is signed by their name's key may store.
   */
  senderKey: SenderKeyLookup
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
  private readonly replays = new ReplayCache()

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
      handler: (req, { peer, signal }) => this.respond(req, peer.toString(), signal),
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
  private async respond(
    body: CborMap,
    peer: string,
    signal: AbortSignal,
  ): Promise<MailboxResponse> {
    const now = Date.now()
    // Prune now and then so peers seen once do not accumulate forever.
    if (++this.requests % 256 === 0) {
      this.perPeer.prune(now)
      this.replays.prune(now)
    }
    if (!this.perPeer.hit(peer, now)) return { error: 'rate_limited' }
    const req = parseMailboxRequest(body)
    if (req === null) return { error: 'bad_request' }
    try {
      switch (req.t) {
        case 'store': {
          if (!this.init.isServing()) return { error: 'not_serving' }
          const lookup = AbortSignal.any([signal, AbortSignal.timeout(SENDER_LOOKUP_TIMEOUT_MS)])
          const admitted = await admitSender(req.envelope, req.from, this.init.senderKey, {
            signal: lookup,
          })
          if (!admitted.ok) return { error: admitted.reason }
          return { ok: true, result: await this.init.store.put(admitted.env, req.from, now) }
        }
        case 'fetch': {
          const signed = fetchSignedBytes(req.recipientKey, req.now, peer, req.after)
          if (!(await this.authorized(req, signed, now))) return { error: 'unauthorized' }
          if (!this.fresh(req, signed, now)) return { error: 'replayed' }
          const after = req.after != null ? decodeMailCursor(req.after) : undefined
          const list = await this.init.store.list(req.recipientKey, now, MAX_FETCH_COUNT + 1, after)
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
          if (!this.fresh(req, signed, now)) return { error: 'replayed' }
          return { deleted: await this.init.store.delete(req.recipientKey, req.ids) }
        }
      }
    } catch (err) {
      const code = errorCode(err)
      if (code === 'internal') this.init.log?.warn(`mailbox ${req.t} failed: ${String(err)}`)
      return { error: code }
    }
  }

  /** First use of these signed bytes (checked only after the signature verified). */
  private fresh(req: { now: number }, signed: Uint8Array, now: number): boolean {
    return this.replays.admit(signed, req.now + MAX_REQUEST_SKEW_MS + 1, now)
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
