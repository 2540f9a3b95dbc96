/**
 * Builds the libp2p node for one role. This is the only place that names
 * concrete transports and services; everything else sees the `KaiwaLibp2p`
 * type. A role change (client <-> supernode) rebuilds the node with the same
 * keys and datastore, because libp2p services are fixed at construction.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { autoNAT } from '@libp2p/autonat'
import { bootstrap } from '@libp2p/bootstrap'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { mdns } from '@libp2p/mdns'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { uPnPNAT } from '@libp2p/upnp-nat'
import { webRTC } from '@libp2p/webrtc'
import { wssTransport } from '../bridge/wss-transport.js'
import type { WssTransportInit } from '../bridge/wss-transport.js'
import { createLibp2p } from 'libp2p'
import { networkInterfaces } from 'node:os'
import type { KadDHT, SelectFn, ValidateFn } from '@libp2p/kad-dht'
import type { Libp2p, PrivateKey, ServiceMap } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'
import type { Role } from '../../shared/api/contract.js'
import type { ClockService } from '../clock/clock-service.js'
import { forHostFamily, hostIceFamily, iceUrlFamily } from '../media/ice-servers.js'
import type { SipLinks } from '../sip/sip-links.js'
import type { FileProtocol } from '../files/file-protocol.js'
import type { SupernodeTracker } from './supernode-tracker.js'
import { inTurnScope } from './turn-dial-scope.js'
import { KAIWA_DHT_PROTOCOL, KAIWA_MDNS_TAG, KAIWA_PROTOCOL_PREFIX } from './protocols.js'

/**
 * Relay limits for signalling. The circuit-relay-v2 defaults (2 min, 128 KiB per
 * relayed connection) cut a SIP dialog short; media never rides the circuit
 * (it goes over ICE or TURN), so these stay modest.
 */
export const RELAY_LIMITS = {
  maxReservations: 512,
  reservationTtl: 2 * 60 * 60_000,
  defaultDurationLimit: 30 * 60_000,
  defaultDataLimit: BigInt(16 * 1024 * 1024),
}

/**
 * How many relay reservations a client asks for at start. One: circuit-relay's
 * discovery runs a DHT random walk for as long as it has fewer relays than
 * listeners, so asking for two in a network with one supernode (the demo, a
 * new network) keeps a client querying the DHT forever.
 */
export const CLIENT_RELAY_RESERVATIONS = 1

export interface Libp2pFactoryOptions {
  role: Role
  deviceKey: PrivateKey
  datastore: Datastore
  listen: string[]
  /** Bootstrap multiaddrs that carry a `/p2p/<peer id>`. */
  bootstrap: string[]
  mdns: boolean
  upnp: boolean
  validators: Record<string, ValidateFn>
  selectors: Record<string, SelectFn>
  /**
   * STUN/TURN servers for overlay WebRTC links (node-datachannel's ICE). Without
   * STUN two NATed nodes gather no server-reflexive candidates and cannot punch;
   * supernodes provide them. Asked for at every WebRTC dial and answer.
   */
  iceServers?: () => Promise<RTCIceServer[]>
  /**
   * TURN servers (with credentials) for the WebRTC dials made inside `viaTurn`
   * (turn-dial-scope.ts): those gather relay candidates only.
   */
  turnServers?: () => Promise<RTCIceServer[]>
  /**
   * Kaiwa's own services for this role, js-libp2p style (`name: factory(init)`):
   * libp2p builds each with its components, starts them with the node and stops
   * them with it, so a role change needs no hand-written re-attachment. They are
   * added after libp2p's own, in order, so a later one may take an earlier one
   * as a component (e.g. the relay keeper takes `supernodes`).
   */
  services: KaiwaServiceFactories
  /**
   * The port-443 bridge (src/overlay/bridge/): every node dials supernodes' `/tls/ws` addresses
   * with it; `listen` (supernodes with a bridge port) also serves them, TURN over TLS beside.
   */
  bridge?: { init: WssTransportInit; listen: string[] }
}

/** Kaiwa's services present in every role; the rest depend on the role. */
export interface KaiwaServiceFactories {
  supernodes: (components: never) => SupernodeTracker
  sipLinks: (components: never) => SipLinks
  clock: (components: never) => ClockService
  files: (components: never) => FileProtocol
  [name: string]: (components: never) => unknown
}

export type KaiwaServices = ServiceMap & {
  dht: KadDHT
  identify: unknown
  ping: unknown
  autonat: unknown
  supernodes: SupernodeTracker
  sipLinks: SipLinks
  clock: ClockService
  files: FileProtocol
}
export type KaiwaLibp2p = Libp2p<KaiwaServices>

export async function createKaiwaLibp2p(opts: Libp2pFactoryOptions): Promise<KaiwaLibp2p> {
  const supernode = opts.role === 'supernode'
  const listen = [...opts.listen, ...(opts.bridge?.listen ?? []), '/webrtc']
  // A client asks supernodes for relay reservations by listening on /p2p-circuit
  // once per reservation it wants; its relay addresses then go into its record.
  if (!supernode) for (let i = 0; i < CLIENT_RELAY_RESERVATIONS; i++) listen.push('/p2p-circuit')

  const services: Record<string, (components: never) => unknown> = {
    identify: identify(),
    ping: ping(),
    autonat: autoNAT({ protocolPrefix: KAIWA_PROTOCOL_PREFIX }),
    dht: kadDHT({
      protocol: KAIWA_DHT_PROTOCOL,
      clientMode: !supernode,
      // Keep LAN and loopback addresses: Kaiwa runs on home networks and on one host.
      peerInfoMapper: passthroughMapper,
      // A server may be the first node of a network with nobody to ask: its
      // queries must end, not wait. A client must NOT run queries with an empty
      // routing table: they finish without any I/O, and the relay transport's
      // random walk then re-runs them in a tight microtask loop that starves the
      // event loop. Clients wait for a supernode instead (our calls time out).
      allowQueryWithZeroPeers: supernode,
      validators: opts.validators,
      selectors: opts.selectors,
      datastorePrefix: '/dht',
    }),
  }
  if (supernode) services.relay = circuitRelayServer({ reservations: RELAY_LIMITS })
  if (opts.upnp) services.upnp = uPnPNAT({ portMappingDescription: 'Kaiwa' })
  Object.assign(services, opts.services)

  const peerDiscovery = []
  if (opts.bootstrap.length > 0) peerDiscovery.push(bootstrap({ list: opts.bootstrap }))
  if (opts.mdns) peerDiscovery.push(mdns({ serviceTag: KAIWA_MDNS_TAG }))

  const node = await createLibp2p({
    privateKey: opts.deviceKey,
    datastore: opts.datastore,
    start: false,
    addresses: { listen },
    transports: [
      tcp(),
      webRTC({
        rtcConfiguration: overlayRtcConfiguration(opts),
      }),
      circuitRelayTransport({ reservationCompletionTimeout: 10_000 }),
      ...(opts.bridge != null ? [wssTransport(opts.bridge.init)] : []),
    ],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery,
    connectionManager: {
      maxConnections: supernode ? 1024 : 128,
      // The default (5 inbound per second per host) resets a single-host or
      // NATed-office network while it forms; supernodes rate-limit elsewhere.
      inboundConnectionThreshold: 200,
      maxIncomingPendingConnections: 64,
      dialTimeout: 10_000,
    },
    // Pings every connection: keeps NAT mappings to supernodes open and notices
    // dead links (design.md "Keepalive": below the ~30 s home-gateway timeout).
    connectionMonitor: { pingInterval: 15_000 },
    services: services as never,
  })
  return node as unknown as KaiwaLibp2p
}

/**
 * The configuration of each overlay WebRTC dial and answer: the supernodes' STUN,
 * or, for a dial inside `viaTurn` (turn-dial-scope.ts), their TURN with relay
 * candidates only.
 */
export function overlayRtcConfiguration(
  opts: Pick<Libp2pFactoryOptions, 'iceServers' | 'turnServers'>,
): () => Promise<RTCConfiguration> {
  return async () => {
    const family = hostIceFamily(networkInterfaces())
    if (inTurnScope())
      return {
        iceServers: forLibdatachannel((await opts.turnServers?.()) ?? [], family),
        iceTransportPolicy: 'relay',
      }
    return { iceServers: forLibdatachannel((await opts.iceServers?.()) ?? [], family) }
  }
}

/**
 * node-datachannel's RTCPeerConnection polyfill hands each TURN server to
 * libdatachannel as `turn:user:pass@host`, and libdatachannel splits the user
 * part at the first ':'. Our usernames are `expiry:peerId` (the TURN REST
 * pattern), so they must be percent-encoded there (libdatachannel decodes
 * them); without this no relay candidate is ever gathered. Chromium takes the
 * UI's credentials raw, so this applies to overlay links only.
 *
 * Only servers of the host's `family` are kept (hostIceFamily: libjuice picks
 * one STUN server at random, so a dual-stack supernode's IPv6 URL would cost an
 * IPv4 host its server-reflexive candidate half the time), and never an IPv6
 * literal: libdatachannel 0.33's URL parser rejects `[2001:db8::2]:3478`, and
 * the whole RTCPeerConnection with it. An IPv6-only host's overlay links
 * therefore use host candidates, which IPv6 (no NAT) makes enough.
 */
export function forLibdatachannel(servers: RTCIceServer[], family: 4 | 6 = 4): RTCIceServer[] {
  return forHostFamily(servers, family).flatMap((s) => {
    const urls = [s.urls].flat().filter((u) => iceUrlFamily(u) !== 6)
    if (urls.length === 0) return []
    return s.username != null && s.credential != null
      ? [
          {
            ...s,
            urls,
            username: encodeURIComponent(s.username),
            credential: encodeURIComponent(String(s.credential)),
          },
        ]
      : [{ ...s, urls }]
  })
}
