/**
 * The SIP router's contracts: what it needs from the node (resolution, links,
 * sender identity, offline storage) and what it hands back (flows, message
 * events). Kept apart from sip-router.ts so the gateway, the bridge and the
 * tests can name them without the router.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from '../../shared/logger.js'
import type { SipRequest, SipResponse } from '../../shared/sip/sip-message.js'
import type { SenderState } from '../../shared/identity/verification-state.js'
import type { Deliver } from './local-registrar.js'
import type { SipLink } from './sip-links.js'
import type { Refusal } from './sender-identity.js'

/** Sender authentication (sender-identity.ts): signing outbound, verifying inbound. */
export interface RouterIdentity {
  /** Check that a local UA's request is from this node's user and sign it. */
  sign(req: SipRequest): Promise<Refusal | undefined>
  /** Sign a request the router builds itself on behalf of this node's user (a CANCEL). */
  signOwn(req: SipRequest): Promise<Refusal | undefined>
  /** Verify a request from a link before anything is delivered, stored or rung. */
  verify(req: SipRequest, remotePeer: string): Promise<SenderState | Refusal>
}

/** Where responses to a local request go. */
export interface SipFlow {
  send(res: SipResponse): void
  /** The local binding this flow belongs to, when known (for Contact rewriting). */
  readonly binding?: string
  /** How to reach this UA for REGISTER bindings. */
  readonly deliver?: Deliver
}

export interface ResolvedDevice {
  peer: string
  addrs: Multiaddr[]
}

export type Resolution =
  { kind: 'found'; devices: ResolvedDevice[] } | { kind: 'unknown' } | { kind: 'timeout' }

export interface SipRouterInit {
  selfPeer: () => string
  domain: string
  ownName: () => Promise<string | null>
  resolve: (user: string) => Promise<Resolution>
  /**
   * Resolve `user` again past every cache (the implementation invalidates its
   * cached record first). Called at most once per request, when every device
   * of the first answer failed to link (fresh-retry.ts). Without it the router
   * answers 480 at once.
   */
  resolveFresh?: (user: string) => Promise<Resolution>
  linkTo: (peer: string, addrs: ResolvedDevice['addrs']) => Promise<SipLink>
  /** Store a MESSAGE for an offline user; true when stored (answer 202). */
  storeOffline?: (req: SipRequest, user: string) => Promise<boolean>
  /**
   * Called for every MESSAGE this node delivers or answers for (history). When
   * the node itself takes a message (no user agent registered) the 200 waits
   * for this promise: "delivered" must mean "stored".
   */
  onMessage?: (event: MessageEvent) => Promise<void> | void
  onRegistered?: () => void
  /**
   * A MESSAGE from a link whose sender is verified, before any local delivery:
   * a verdict here answers it and nothing is delivered to local UAs (group
   * bodies are taken by the node itself, groups/group-inbound.ts); undefined
   * delivers it as usual.
   */
  takeMessage?: (
    req: SipRequest,
    sender: SenderState,
  ) => Promise<{ status: number; reason: string } | undefined>
  /**
   * Sender authentication (RFC 8224). Without it requests leave unsigned and
   * arrive unverified: only for router unit tests.
   */
  identity?: RouterIdentity
  log: Logger
  maxPending?: number
  now?: () => number
}

export interface MessageEvent {
  direction: 'in' | 'out'
  request: SipRequest
  status: number
}
