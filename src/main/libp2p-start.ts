/**
 * Builds and starts the libp2p instance for one role, with Kaiwa's protocols
 * as libp2p services (js-libp2p's `services: { name: factory(init) }`). The
 * long-lived objects (SIP router, TURN state, election, mailbox store) are
 * passed in; each service is that object's share of one instance, so libp2p
 * starts and stops it with the instance and a role change is only a rebuild.
 *
 * To add a protocol: write its service factory beside the protocol
 * (src/overlay/<concern>/), then add it to `servicesFor` for the roles that
 * serve it (ARCHITECTURE.md, "Adding a protocol").
 */
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Datastore } from 'interface-datastore'
import type { Role } from '../shared/api/contract.js'
import type { Logger } from '../shared/logger.js'
import type { ElectionService } from '../overlay/election/election-service.js'
import { loadService } from '../overlay/election/load-service.js'
import { mailboxService } from '../overlay/mailbox/mailbox-service.js'
import type { MailboxStore } from '../overlay/mailbox/mailbox-store.js'
import type { SenderKeyLookup } from '../overlay/mailbox/sender-admission.js'
import { dialDiscoveredPeers } from '../overlay/node/discovery-dialer.js'
import { createKaiwaLibp2p } from '../overlay/node/libp2p-factory.js'
import type { KaiwaLibp2p, KaiwaServiceFactories } from '../overlay/node/libp2p-factory.js'
import { relayKeeper } from '../overlay/node/relay-keeper.js'
import { roleService } from '../overlay/node/role-service.js'
import { supernodeTracker } from '../overlay/node/supernode-tracker.js'
import type { userRecordValidators } from '../overlay/names/record-validator.js'
import type { LanNameTable } from '../overlay/names/lan-name-table.js'
import { lanNamesService } from '../overlay/names/lan-names-service.js'
import { clockService } from '../overlay/clock/clock-service.js'
import type { ClockService, ClockServiceComponents } from '../overlay/clock/clock-service.js'
import { fileProtocol } from '../overlay/files/file-protocol.js'
import type { FileTransfers } from '../overlay/files/file-transfers.js'
import { sipLinks } from '../overlay/sip/sip-links.js'
import { syncProtocol } from '../overlay/sync/sync-protocol.js'
import type { SipLink } from '../overlay/sip/sip-links.js'
import type { SipMessage } from '../shared/sip/sip-message.js'
import { respond } from '../shared/sip/responses.js'
import type { SipService } from '../overlay/sip/sip-service.js'
import { turnCredentialsService } from '../overlay/turn/turn-credentials-service.js'
import type {
  TurnCredentialsServiceComponents as TurnCredentialsComponents,
  TurnCredentialsServiceInit,
} from '../overlay/turn/turn-credentials-service.js'
import type { TurnService } from '../overlay/turn/turn-service.js'
import { turnOnly } from '../overlay/node/turn-dial-scope.js'
import type { BridgeParts } from './bridge-parts.js'
import { oneHopServices } from './one-hop-services.js'

export interface Libp2pDeps {
  deviceKey: PrivateKey
  datastore: Datastore
  listen: string[]
  /** Bootstrap multiaddrs that carry a `/p2p/<peer id>`. */
  bootstrap: string[]
  mdns: boolean
  upnp: boolean
  records: ReturnType<typeof userRecordValidators>
  /** The names this node holds for its LAN (served in every role; issue 13). */
  lanTable: LanNameTable
  /** Proof-of-work bits of claim stamps; undefined: CLAIM_POW_BITS. */
  powBits?: number
  mailboxStore: MailboxStore
  /** The account key of a name's live claim (mailbox admission); null: no such claim. */
  senderKey: SenderKeyLookup
  sip: Pick<SipService, 'fromLink'>
  /** Account sync (`/kaiwa/account-sync/1.0.0`) between this account's devices, in every role. */
  sync: { fromLink: (batch: Uint8Array, peer: string) => Promise<void> }
  /** File transfer (`/kaiwa/file/1.0.0`), in every role. */
  files: Pick<FileTransfers, 'fromOffer' | 'fromReady'>
  turn: Pick<TurnService, 'serve' | 'unserve' | 'iceServers' | 'issue'>
  /** The port-443 bridge (bridge-parts.ts). */
  bridge?: BridgeParts
  /** Who may get TURN credentials (a verified device of a name; an attached client). */
  turnAdmission: Pick<TurnCredentialsServiceInit, 'deviceOf'>
  election: Pick<ElectionService, 'ownReport' | 'noteAsker' | 'leaving' | 'loadOf'>
  /** This node's addresses changed (republish, let the election look again). */
  addressesChanged: () => void
  log: Logger
}

export async function startLibp2p(role: Role, deps: Libp2pDeps): Promise<KaiwaLibp2p> {
  const { log } = deps
  const built = await createKaiwaLibp2p({
    role,
    deviceKey: deps.deviceKey,
    datastore: deps.datastore,
    listen: deps.listen,
    bootstrap: deps.bootstrap,
    mdns: deps.mdns,
    upnp: deps.upnp,
    validators: deps.records.validators,
    selectors: deps.records.selectors,
    // Overlay links get the supernodes' STUN only: where punching fails,
    // signalling stays on the circuit relay, and TURN is kept for media. With
    // TURN offered too, libjuice sometimes settled on a relay pair where a
    // direct one was possible (seen in the NAT lab).
    iceServers: async () => stunOnly(await deps.turn.iceServers()),
    // File transfer's dials through TURN when no direct link can be made (turn-dial-scope.ts).
    turnServers: async () => turnOnly(await deps.turn.iceServers()),
    services: {
      ...servicesFor(role, deps),
      // gossipsub and the one-hop table: supernodes only, loaded on demand (one-hop-services.ts).
      ...(role === 'supernode'
        ? await oneHopServices({
            datastore: deps.datastore,
            ...(deps.powBits != null ? { powBits: deps.powBits } : {}),
            log,
          })
        : {}),
    },
    ...(deps.bridge != null
      ? { bridge: { init: deps.bridge.init, listen: deps.bridge.listenFor(role) } }
      : {}),
  })
  dialDiscoveredPeers(built, log.child('discovery'))
  try {
    await built.start()
  } catch (err) {
    // e.g. a listen address in use: release whatever did start (other listeners, services).
    await Promise.resolve()
      .then(() => built.stop())
      .catch(() => {})
    throw err
  }
  built.addEventListener('self:peer:update', () => deps.addressesChanged())
  return built
}

/** Kaiwa's services for a role; the order matters where one takes another as a component. */
export function servicesFor(role: Role, deps: Libp2pDeps): KaiwaServiceFactories {
  const { log } = deps
  // Filled in once libp2p has built the services (before any link carries a message).
  let clock: ClockService | undefined
  const common = {
    supernodes: supernodeTracker(),
    // Supernodes answer time requests; every node measures its offset against them.
    clock: (components: ClockServiceComponents): ClockService =>
      (clock = clockService({ answer: role === 'supernode', log: log.child('clock') })(components)),
    // Names among LAN peers when no supernode is reachable (names/lan-scope.ts).
    lanNames: lanNamesService({
      table: deps.lanTable,
      ...(deps.powBits != null ? { powBits: deps.powBits } : {}),
      log: log.child('lan-names'),
    }),
    sipLinks: sipLinks({
      log: log.child('sip').child('links'),
      onMessage: (msg, link) => {
        if (clock?.isTooSkewed(link.peer) === true) return refuseSkewed(msg, link, log)
        deps.sip.fromLink(msg, link)
      },
    }),
    accountSync: syncProtocol({
      onBatch: (batch, peer) => deps.sync.fromLink(batch, peer),
      log: log.child('sync'),
    }),
    files: fileProtocol({
      relayAvailable: async () => turnOnly(await deps.turn.iceServers()).length > 0,
      onOffer: (fs, offer, peer, relayed) => deps.files.fromOffer(fs, offer, peer, relayed),
      onReady: (id) => deps.files.fromReady(id),
      log: log.child('files'),
    }),
  }
  if (role === 'client') {
    return {
      ...common,
      relayKeeper: relayKeeper({
        leaving: () => deps.election.leaving,
        load: (peer) => deps.election.loadOf(peer),
        log: log.child('relay'),
      }),
    }
  }
  return {
    ...common,
    mailbox: mailboxService({
      store: deps.mailboxStore,
      isServing: () => true,
      senderKey: deps.senderKey,
      log: log.child('sip').child('mailbox'),
    }),
    turnRelay: roleService('turn-relay', deps.turn),
    turnCredentials: (components: TurnCredentialsComponents & { relay?: RelayReservations }) =>
      turnCredentialsService({
        issue: (peer) => deps.turn.issue(peer),
        deviceOf: deps.turnAdmission.deviceOf,
        // A client holding a relay reservation here is attached to this supernode.
        isAttached: (peer) => components.relay?.reservations.has(peerIdFromString(peer)) ?? false,
        log: log.child('turn'),
      })(components),
    load: loadService({
      report: () => deps.election.ownReport(),
      onAsked: (peer, candidate) => deps.election.noteAsker(peer, candidate),
      log: log.child('election'),
    }),
  }
}

/** The part of circuit-relay-v2's server that tells who holds a reservation here. */
interface RelayReservations {
  reservations: { has(peer: PeerId): boolean }
}

/**
 * A peer whose clock is more than MAX_PEER_SKEW_MS off: its timestamps mean
 * nothing in any validity window, so its requests are refused, saying why.
 */
function refuseSkewed(msg: SipMessage, link: SipLink, log: Logger): void {
  log.warn(`refused SIP from ${link.peer}: its clock is more than 6 h off this node's`)
  if (msg.kind === 'request' && msg.method !== 'ACK')
    link.send(
      respond(msg, 403, 'Clock Too Far Off', [['Warning', '399 kaiwa "check the clock (NTP)"']]),
    )
}

function stunOnly(servers: RTCIceServer[]): RTCIceServer[] {
  return servers
    .map((s) => ({ urls: [s.urls].flat().filter((u) => u.startsWith('stun:')) }))
    .filter((s) => s.urls.length > 0)
}
