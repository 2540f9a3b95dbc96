/**
 * Composition root of a Kaiwa node (used by `kaiwa node`, by the Electron main
 * process and by the multi-node tests): opens the data directory, loads the
 * identity, builds the libp2p node for its role, and wires the user directory,
 * the refresh loop, the bootstrap dialer and the control API. Nothing else
 * constructs these services.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Datastore } from 'interface-datastore'
import { CONTACT_REFRESH_MS } from '../shared/records/record-policy.js'
import type { KaiwaApi, Role, SupernodeMode } from '../shared/api/contract.js'
import type { Logger } from '../shared/logger.js'
import { BootstrapDialer } from '../overlay/bootstrap-dialer.js'
import { dialDiscoveredPeers } from '../overlay/discovery-dialer.js'
import { openDataDir } from '../overlay/data-dir.js'
import type { DataDir } from '../overlay/data-dir.js'
import { loadOrCreateIdentity } from '../overlay/identity-store.js'
import type { Identity } from '../overlay/identity-store.js'
import { createKaiwaLibp2p } from '../overlay/libp2p-factory.js'
import type { KaiwaLibp2p } from '../overlay/libp2p-factory.js'
import { userRecordValidators } from '../overlay/record-validator.js'
import { hasPublicAddress, initialRole } from '../overlay/role-policy.js'
import { SettingsStore } from '../overlay/settings-store.js'
import { UserDirectory } from '../overlay/user-directory.js'
import type { PublishResult } from '../overlay/user-directory.js'
import { createNodeApi } from './node-api.js'
import { SipService } from './sip-service.js'
import { TurnService } from './turn-service.js'
import { DEFAULT_OVERLAY_DOMAIN } from '../shared/sip/overlay-uri.js'
import { SipGatewayError } from '../overlay/sip-gateway/gateway-types.js'
import { loadOrCreateSipPassword } from '../overlay/sip-gateway/sip-password.js'
import type { SipGatewayTuning } from '../overlay/sip-gateway/sip-gateway.js'
import { RefreshLoop } from './refresh-loop.js'

export interface KaiwaNodeOptions {
  dataDir: string
  /** libp2p listen multiaddrs (the TCP ones; /webrtc and /p2p-circuit are added per role). */
  listen: string[]
  bootstrap: string[]
  supernode: SupernodeMode
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
  /** If the TURN port is only the default and taken, run without TURN. */
  turnPortOptional?: boolean
  /** The local SIP gateway's UDP+TCP port on 127.0.0.1; 0 or absent: no gateway. */
  sipPort?: number
  /** If the port is taken, warn and run without the gateway instead of failing (a default port). */
  sipPortOptional?: boolean
  /** Digest password for phones; default: generated once and kept in DIR/sip-password. */
  sipPassword?: string
  /** Rate limits, timeouts and timers of the gateway (tests shorten them). */
  sipTuning?: Partial<SipGatewayTuning>
  log: Logger
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
  readonly turn: TurnService
  readonly domain: string
  role(): Role
  /** Claim a user ID for this account, publish this device under it, and keep it refreshed. */
  claim(name: string): Promise<PublishResult>
  libp2p(): KaiwaLibp2p
  addrs(): Multiaddr[]
  stop(): Promise<void>
}

export async function startKaiwaNode(opts: KaiwaNodeOptions): Promise<KaiwaNode> {
  const log = opts.log
  const data: DataDir = await openDataDir(opts.dataDir)
  try {
    return await startOnDataDir(data, opts)
  } catch (err) {
    await data.close().catch(() => {})
    log.debug(`start-up failed: ${String(err)}`)
    throw err
  }
}

async function startOnDataDir(data: DataDir, opts: KaiwaNodeOptions): Promise<KaiwaNode> {
  const log = opts.log
  const startedAt = Date.now()
  const { identity, created } = await loadOrCreateIdentity(data.datastore)
  if (created) log.info(`created a new identity in ${data.path}`)
  const settings = new SettingsStore(data.datastore)
  const recordLog = log.child('records')
  const { validators, selectors } = userRecordValidators({
    datastore: data.datastore,
    onRefused: (name, reason) => recordLog.warn(`refused record ${name}: ${reason}`),
  })

  let role: Role = initialRole(opts.supernode, opts.bootstrap.length)
  // TURN is created after the first libp2p instance; WebRTC asks for ICE servers lazily.
  const late: { turn?: TurnService } = {}
  const build = async (r: Role): Promise<KaiwaLibp2p> => {
    const node = await createKaiwaLibp2p({
      role: r,
      deviceKey: identity.deviceKey,
      datastore: data.datastore,
      listen: opts.listen,
      bootstrap: opts.bootstrap.filter((a) => a.includes('/p2p/')),
      mdns: opts.mdns,
      upnp: opts.upnp,
      validators,
      selectors,
      iceServers: async () => (await late.turn?.iceServers()) ?? [],
    })
    dialDiscoveredPeers(node, log.child('discovery'))
    try {
      await node.start()
    } catch (err) {
      // e.g. a listen address in use: release whatever did start (other listeners, services).
      await Promise.resolve()
        .then(() => node.stop())
        .catch(() => {})
      throw err
    }
    return node
  }
  let node = await build(role)
  const directory = new UserDirectory({
    node: () => node,
    datastore: data.datastore,
    accountKey: identity.accountKey,
  })
  const domain = opts.overlayDomain ?? DEFAULT_OVERLAY_DOMAIN
  const sip = new SipService({
    node: () => node,
    role: () => role,
    directory,
    datastore: data.datastore,
    accountKey: identity.accountKey,
    ownName: async () => (await settings.get()).name,
    domain,
    log: log.child('sip'),
  })
  await sip.attach()
  if ((opts.sipPort ?? 0) > 0) {
    try {
      await sip.startGateway({
        port: opts.sipPort!,
        password: opts.sipPassword ?? (await loadOrCreateSipPassword(data.path)),
        ...(opts.sipTuning != null ? { tuning: opts.sipTuning } : {}),
      })
    } catch (err) {
      if (err instanceof SipGatewayError && opts.sipPortOptional === true) {
        log.warn(`${err.message}; running without the SIP gateway`)
      } else {
        await sip.detach().catch(() => {})
        await Promise.resolve()
          .then(() => node.stop())
          .catch(() => {})
        throw err
      }
    }
  }
  const turn = new TurnService({
    node: () => node,
    role: () => role,
    dataDir: data.path,
    port: opts.turnPort ?? 0,
    host: opts.turnHost ?? '0.0.0.0',
    portOptional: opts.turnPortOptional,
    log: log.child('turn'),
  })
  late.turn = turn

  try {
    await turn.attach()
  } catch (err) {
    await sip.stopGateway().catch(() => {})
    await sip.detach().catch(() => {})
    await Promise.resolve()
      .then(() => node.stop())
      .catch(() => {})
    throw err
  }
  const dialer = new BootstrapDialer({
    node: () => node,
    addrs: opts.bootstrap,
    log: log.child('bootstrap'),
  })
  dialer.start()

  const refresh = new RefreshLoop({
    intervalMs: CONTACT_REFRESH_MS,
    log: log.child('refresh'),
    run: async () => {
      const { name } = await settings.get()
      if (name == null) return
      await directory.publish(name)
      // Mail may have been stored for us while we were unreachable.
      void sip.collectOfflineMail().catch((err) => log.debug(`offline mail: ${String(err)}`))
    },
  })

  // `auto`: promote when AutoNAT confirms a public address (design: a role
  // change rebuilds libp2p, since its services are fixed at construction).
  let changingRole = false
  const onSelfUpdate = (): void => {
    refresh.soon()
    if (opts.supernode !== 'auto' || role === 'supernode' || changingRole) return
    if (!hasPublicAddress(node.getMultiaddrs())) return
    changingRole = true
    void (async () => {
      log.info('publicly reachable (AutoNAT confirmed): taking the supernode role')
      node.removeEventListener('self:peer:update', onSelfUpdate)
      await sip.detach()
      await turn.detach()
      await node.stop()
      role = 'supernode'
      node = await build(role)
      await sip.attach()
      await turn.attach()
      node.addEventListener('self:peer:update', onSelfUpdate)
      refresh.soon()
    })()
      .catch((err) => log.error(`role change failed: ${String(err)}`))
      .finally(() => {
        changingRole = false
      })
  }
  node.addEventListener('self:peer:update', onSelfUpdate)

  let stopped = false
  const self: KaiwaNode = {
    peerId: node.peerId.toString(),
    dataDir: data.path,
    identity,
    directory,
    settings,
    datastore: data.datastore,
    sip,
    turn,
    domain,
    api: undefined as unknown as KaiwaApi,
    role: () => role,
    claim: async (name) => {
      const result = await directory.claim(name)
      await settings.update({ name: result.record.name })
      return result
    },
    libp2p: () => node,
    addrs: () => node.getMultiaddrs(),
    stop: async () => {
      if (stopped) return
      stopped = true
      refresh.stop()
      dialer.stop()
      await sip.stopGateway().catch(() => {})
      await sip.detach().catch(() => {})
      await turn.stop().catch(() => {})
      node.removeEventListener('self:peer:update', onSelfUpdate)
      await node.stop()
      await data.close()
    },
  }
  ;(self as { api: KaiwaApi }).api = createNodeApi({
    node: self,
    datastore: data.datastore,
    supernodeMode: opts.supernode,
    startedAt,
  })
  if (opts.name != null) {
    try {
      await self.claim(opts.name)
    } catch (err) {
      // A failed start leaves nothing running: libp2p, the dialer and the data dir all stop.
      await self.stop().catch(() => {})
      throw err
    }
  }
  refresh.start()
  // Publish now (not one interval from now): addresses may have changed since
  // the last run, and mail may be waiting for us.
  if ((await settings.get()).name != null) refresh.soon()
  return self
}
