/**
 * Sender authentication on the overlay (RFC 8224 with Kaiwa's PASSporT, see
 * docs/identity-token.md). This node is the authentication service for its
 * own local user agents and the verification service for requests that
 * arrive over a link:
 *
 *   local UA ─▶ sign(): From user must be this node's claimed name (else 403),
 *               any Identity / X-Kaiwa-Identity copy stripped, Identity added
 *   link ─▶ verify(): 428 / 438 / 403 (RFC 8224 §6.2.2), the link's
 *               Noise-authenticated peer must be a device of the From user's
 *               record (403), then the verification state against the pinned
 *               key is set in X-Kaiwa-Identity for local UAs and history
 *
 * Requests are sent by the sender's own device straight over its link (no
 * node proxies another account's requests), so the remote peer ID of the
 * link, which a relay cannot forge (the Noise handshake runs end to end over
 * a circuit), must be one of the devices the From user published.
 */
import type { PrivateKey } from '@libp2p/interface'
import { OverlayTimeoutError } from '../../shared/errors.js'
import type { Logger } from '../../shared/logger.js'
import { fingerprint, peerIdFromBytes } from '../../shared/records/contact-record.js'
import { ReplayCache } from '../../shared/identity/replay-cache.js'
import { addIdentityHeader, verifyIdentityHeader } from '../../shared/identity/sip-identity.js'
import type { IdentitySigningKey } from '../../shared/identity/sip-identity.js'
import { nativeSigningKey, nativeVerifier } from '../identity/native-ed25519.js'
import type { SipRequest } from '../../shared/sip/sip-message.js'
import { parseNameAddr } from '../../shared/sip/sip-uri.js'
import type { LookupResult } from '../names/user-directory.js'
import { IDENTITY_STATE_HEADER, formatState } from '../../shared/identity/verification-state.js'
import type { SenderState, VerificationState } from '../../shared/identity/verification-state.js'

/** Why a request was not signed or not accepted: answer it with this status. */
export interface Refusal {
  status: number
  reason: string
  detail: string
}

export interface SenderIdentityInit {
  accountKey: PrivateKey
  ownName: () => Promise<string | null>
  /**
   * The directory lookup (user-directory.ts `lookup`); `fresh` skips the
   * cache (a device added since the cached answer).
   */
  lookup: (name: string, fresh?: boolean) => Promise<LookupResult | undefined>
  /** The fingerprint pinned in the contact book for `name`, if any. */
  pinnedFingerprint: (name: string) => Promise<string | undefined>
  log: Logger
  /** @default Date.now */
  now?: () => number
  /** @default a new ReplayCache() */
  replayCache?: ReplayCache
}

export class SenderIdentity {
  private readonly replayCache: ReplayCache
  private readonly now: () => number
  private signer?: { of: PrivateKey; key: IdentitySigningKey }
  private readonly verifySignature = nativeVerifier()

  constructor(private readonly init: SenderIdentityInit) {
    this.replayCache = init.replayCache ?? new ReplayCache()
    this.now = init.now ?? Date.now
  }

  /** The account key with a native signer, made again if the key was replaced (a restore). */
  private get signingKey(): IdentitySigningKey {
    const of = this.init.accountKey
    if (this.signer?.of !== of) this.signer = { of, key: nativeSigningKey(of) }
    return this.signer.key
  }

  /**
   * Sign a request a local UA sends onto the overlay (RFC 8224 §6.1). A local
   * UA may only speak for the user this node has claimed: any other From is
   * refused with 403, which is what stops a phone registered at this gateway
   * from sending as someone else.
   */
  async sign(req: SipRequest): Promise<Refusal | undefined> {
    const name = await this.init.ownName()
    const user = fromUser(req)
    if (name == null || user !== name) {
      return {
        status: 403,
        reason: 'Forbidden',
        detail: `this node may only send as ${name ?? '(no claimed name)'}, not ${user ?? '?'}`,
      }
    }
    return this.signAs(req, name)
  }

  /** Sign a request the node builds itself for its own user (a CANCEL, RFC 3261 §9.1). */
  async signOwn(req: SipRequest): Promise<Refusal | undefined> {
    const name = await this.init.ownName()
    if (name == null) return { status: 403, reason: 'Forbidden', detail: 'no claimed name' }
    return this.signAs(req, name)
  }

  private async signAs(req: SipRequest, name: string): Promise<Refusal | undefined> {
    req.headers.remove('Identity')
    req.headers.remove(IDENTITY_STATE_HEADER)
    try {
      await addIdentityHeader(req, { accountKey: this.signingKey, name, now: this.now() })
      return undefined
    } catch (err) {
      const detail = (err as Error).message
      // RFC 8224 §6.1 step 3: a Date that is not current is not signed.
      if (/Date/.test(detail)) return { status: 403, reason: 'Stale Date', detail }
      return { status: 400, reason: 'Bad Request', detail }
    }
  }

  /**
   * Verify a request that arrived over a link from `remotePeer` (RFC 8224
   * §6.2), once per request. On success the request carries
   * IDENTITY_STATE_HEADER and the state is returned.
   */
  async verify(req: SipRequest, remotePeer: string): Promise<SenderState | Refusal> {
    req.headers.remove(IDENTITY_STATE_HEADER)
    let found: LookupResult | undefined
    let result: Awaited<ReturnType<typeof verifyIdentityHeader>>
    try {
      result = await verifyIdentityHeader(req, {
        publicKeyFor: async (name) => {
          found = await this.init.lookup(name)
          return found?.record.publicKey
        },
        now: this.now(),
        replayCache: this.replayCache,
        verifySignature: this.verifySignature,
      })
    } catch (err) {
      if (err instanceof OverlayTimeoutError) {
        return { status: 480, reason: 'Temporarily Unavailable', detail: 'sender lookup timed out' }
      }
      return { status: 480, reason: 'Temporarily Unavailable', detail: String(err) }
    }
    if (!result.ok) return { status: result.code, reason: result.reason, detail: result.detail }
    if (!(await this.isDevice(found, result.claims.name, result.claims.publicKey, remotePeer))) {
      return {
        status: 403,
        reason: 'Sender device not in record',
        detail: `${remotePeer} is not a device of ${result.claims.name}`,
      }
    }
    const state = await this.stateFor(
      result.claims.name,
      result.claims.publicKey,
      found?.conflict != null,
    )
    req.headers.set(IDENTITY_STATE_HEADER, formatState(state))
    return state
  }

  /**
   * Whether `peer` is a device in `name`'s record. A device added since the
   * cached answer is not in it yet, so a miss asks the directory afresh
   * (same key only: the token was verified against `publicKey`).
   */
  private async isDevice(
    found: LookupResult | undefined,
    name: string,
    publicKey: Uint8Array,
    peer: string,
  ): Promise<boolean> {
    const listed = (r: LookupResult | undefined): boolean =>
      (r?.record.devices ?? []).some((d) => peerIdOf(d.peerId) === peer)
    if (listed(found)) return true
    if (found?.source !== 'cache') return false
    const fresh = await this.init.lookup(name, true).catch(() => undefined)
    return fresh != null && sameKey(fresh.record.publicKey, publicKey) && listed(fresh)
  }

  /** Compare a verified key with the contact book's pin for `name`. */
  async stateFor(name: string, publicKey: Uint8Array, conflict = false): Promise<SenderState> {
    const fp = fingerprint(publicKey)
    const pinned = await this.init.pinnedFingerprint(name)
    const state: VerificationState =
      pinned === undefined ? 'new' : pinned === fp ? 'verified' : 'mismatch'
    return { state, fingerprint: fp, conflict }
  }
}

function fromUser(req: SipRequest): string | undefined {
  const from = req.headers.get('From')
  if (from == null) return undefined
  try {
    const uri = parseNameAddr(from).uri
    return uri.kind === 'sip' ? uri.user : undefined
  } catch {
    return undefined
  }
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

/**
 * Device peer IDs as strings, by the record's own byte arrays: the directory
 * hands out the same cached record for every request from a sender, and
 * decoding plus base58-encoding each device's ID was paid on every request.
 */
const peerIds = new WeakMap<Uint8Array, string | null>()

function peerIdOf(bytes: Uint8Array): string | undefined {
  let id = peerIds.get(bytes)
  if (id === undefined) {
    try {
      id = peerIdFromBytes(bytes).toString()
    } catch {
      id = null
    }
    peerIds.set(bytes, id)
  }
  return id ?? undefined
}
