/**
 * The options of `startKaiwaNode` and the handle it returns (the composition
 * root is kaiwa-node.ts).
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Datastore } from 'interface-datastore'
import type { KaiwaApi, Role, SupernodeMode } from '../shared/api/contract.js'
import type { Logger } from '../shared/logger.js'
import type { ElectionService, ElectionTuning } from '../overlay/election/election-service.js'
import type { Identity } from '../overlay/identity/identity-store.js'
import type { MailboxStore } from '../overlay/mailbox/mailbox-store.js'
import type { KaiwaLibp2p } from '../overlay/node/libp2p-factory.js'
import type { RoleController } from '../overlay/node/role-controller.js'
import type { SettingsStore } from '../overlay/store/settings-store.js'
import type { ContactBook } from '../overlay/store/contact-book.js'
import type { SipGatewayTuning } from '../overlay/sip/gateway/sip-gateway.js'
import type { SipService } from '../overlay/sip/sip-service.js'
import type { FileTransfers } from '../overlay/files/file-transfers.js'
import type { GroupService } from '../overlay/groups/group-service.js'
import type { TurnService } from '../overlay/turn/turn-service.js'
import type { PublishResult, UserDirectory } from '../overlay/names/user-directory.js'
import type { ApiComponents } from './api/api-components.js'

export interface KaiwaNodeOptions {
  dataDir: string
  /** libp2p listen multiaddrs (the TCP ones; /webrtc and /p2p-circuit are added per role). */
  listen: string[]
  bootstrap: string[]
  supernode: SupernodeMode
  /** The mode came from the command line: it wins over the one saved from the UI. */
  supernodeLocked?: boolean
  mdns: boolean
  upnp: boolean
  /** Claim this user ID at start-up. */
  name?: string
  /** The overlay's SIP domain (default `kaiwa`): requests to sip:user@<domain> use the DHT. */
  overlayDomain?: string
  /** STUN/TURN port on supernodes (UDP and TCP); 0 or absent: no TURN. */
  turnPort?: number
  /** Where TURN binds (default 0.0.0.0; 127.0.0.1 for a one-machine network). */
  turnHost?: string
  /** TURN relay ports (inclusive); default 61000-65535. */
  turnRelayPorts?: readonly [number, number]
  /** CIDRs TURN may relay to although private or special-purpose (`--turn-allow-peers`). */
  turnAllowPeers?: readonly string[]
  /**
   * What each TURN allocation may relay each way, kbit/s (`--turn-allocation-kbps`; default
   * 4000, i.e. 500 kB/s); packets/s scale with it (one per kB/s, at least 500).
   */
  turnAllocationKbps?: number
  /**
   * TURN relay threads sharing the port with SO_REUSEPORT (`--turn-workers`; turn-cluster.ts);
   * default defaultTurnThreads(): one per core, at most 4; 1 relays in the node's own thread.
   */
  turnWorkers?: number
  /** If the TURN port is only the default and taken, run without TURN. */
  turnPortOptional?: boolean
  /**
   * Supernodes: the port-443 bridge, one TCP port for the overlay over WebSocket-TLS and TURN
   * over TLS (src/overlay/bridge/); 0 or absent: none.
   */
  bridgePort?: number
  /** If the bridge port is only the default and cannot be bound, run without the bridge. */
  bridgePortOptional?: boolean
  /** The local SIP gateway's UDP+TCP port on 127.0.0.1; 0 or absent: no gateway. */
  sipPort?: number
  /** If the port is taken, warn and run without the gateway instead of failing (a default port). */
  sipPortOptional?: boolean
  /** Digest password for phones; default: generated once and kept in DIR/sip-password. */
  sipPassword?: string
  /** Rate limits, timeouts and timers of the gateway (tests shorten them). */
  sipTuning?: Partial<SipGatewayTuning>
  /**
   * Anchor phones' media at this node (plain RTP toward the phone, ICE and
   * DTLS-SRTP across the overlay); off, SDP crosses the gateway untouched.
   * @default true
   */
  mediaAnchor?: boolean
  log: Logger
  /** Election timing and thresholds (tests shorten them). */
  election?: Partial<ElectionTuning>
  /** Extra versions for About (e.g. Electron's and Chromium's). */
  versions?: Record<string, string>
  /**
   * Proof-of-work bits of claim stamps (a network's nodes must agree).
   * @default CLAIM_POW_BITS (20: ~1–3 s of CPU per first claim)
   */
  claimPowBits?: number
}

export interface KaiwaNode {
  readonly peerId: string
  readonly dataDir: string
  readonly identity: Identity
  readonly directory: UserDirectory
  readonly settings: SettingsStore
  readonly datastore: Datastore
  readonly api: KaiwaApi
  readonly sip: SipService
  /** File transfer: send, receive, list (issue 15 §1). */
  readonly files: FileTransfers
  /** Group chat: groups, members, messages (issue 15 §2). */
  readonly groups: GroupService
  readonly turn: TurnService
  readonly domain: string
  readonly roles: RoleController
  /** Connected supernodes of the current libp2p instance, by what they announce in identify. */
  readonly supernodes: ApiComponents['supernodes']
  readonly election: ElectionService
  readonly mailbox: MailboxStore
  /** The address book the SIP service checks senders against and the API edits. */
  readonly contacts: ContactBook
  role(): Role
  /** Claim a user ID for this account, publish this device under it, and keep it refreshed. */
  claim(name: string): Promise<PublishResult>
  libp2p(): KaiwaLibp2p
  addrs(): Multiaddr[]
  stop(): Promise<void>
}
