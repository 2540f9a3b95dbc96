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
import { BootstrapDialer } from '../overlay/node/bootstrap-dialer.js'
import { dialDiscoveredPeers } from '../overlay/node/discovery-dialer.js'
import { openDataDir } from '../overlay/data-dir.js'
import type { DataDir } from '../overlay/data-dir.js'
import { loadOrCreateIdentity, saveIdentity } from '../overlay/identity-store.js'
import type { Identity } from '../overlay/identity-store.js'
import { createKaiwaLibp2p } from '../overlay/node/libp2p-factory.js'
import type { KaiwaLibp2p } from '../overlay/node/libp2p-factory.js'
import { userRecordValidators } from '../overlay/record-validator.js'
import { initialRole } from '../overlay/node/role-policy.js'
import { effectiveCaps, SettingsStore } from '../overlay/settings-store.js'
import { applyCaps } from './api/usage.js'
import { UserDirectory } from '../overlay/user-directory.js'
import type { PublishResult } from '../overlay/user-directory.js'
import { createNodeApi } from './api/node-api.js'
import { SipService } from '../overlay/sip/sip-service.js'
import { TurnService } from '../overlay/turn/turn-service.js'
import { DEFAULT_OVERLAY_DOMAIN } from '../shared/sip/overlay-uri.js'
import { SipGatewayError } from '../overlay/sip/gateway/gateway-types.js'
import { loadOrCreateSipPassword } from '../overlay/sip/gateway/sip-password.js'
import type { SipGatewayTuning } from '../overlay/sip/gateway/sip-gateway.js'
import { RefreshLoop } from '../overlay/node/refresh-loop.js'
import { RoleController } from '../overlay/node/role-controller.js'
import { SupernodeTracker } from '../overlay/node/supernode-tracker.js'
import { RelayKeeper } from '../overlay/node/relay-keeper.js'
import { ElectionService } from '../overlay/election/election-service.js'
import type { ElectionTuning } from '../overlay/election/election-service.js'
import { withLogRing } from './log-ring.js'
import { ContactBook } from '../overlay/store/contact-book.js'
import { CallLog } from '../overlay/store/call-log.js'
import { ReadMarks } from '../overlay/store/read-marks.js'
import type { MailboxStore } from '../overlay/mailbox/mailbox-store.js'
import { KAIWA_VERSION } from '../shared/version.js'

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
  /** Election timing and thresholds (tests shorten them). */
  election?: Partial<ElectionTuning>
  /** Extra versions for About (e.g. Electron's and Chromium's). */
  versions?: Record<string, string>
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
  readonly roles: RoleController
  /** Connected supernodes, by what they announce in identify. */
  readonly supernodes: SupernodeTracker
  readonly election: ElectionService
  readonly mailbox: MailboxStore
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
  const ring = withLogRing(opts.log)
  const log = ring.log
  const startedAt = Date.now()
  const { identity, created } = await loadOrCreateIdentity(data.datastore)
  if (created) log.info(`created a new identity in ${data.path}`)
  const settings = new SettingsStore(data.datastore)
  const recordLog = log.child('records')
  const { validators, selectors } = userRecordValidators({
    datastore: data.datastore,
    onRefused: (name, reason) => recordLog.warn(`refused record ${name}: ${reason}`),
  })

  const saved = await settings.get()
  const mode: SupernodeMode =
    opts.supernodeLocked === true ? opts.supernode : (saved.supernodeMode ?? opts.supernode)
  // TURN and the role controller come after the first libp2p instance; these are read lazily.
  const late: {
    turn?: TurnService
    election?: ElectionService
    onSelfUpdate?: () => void
    relays?: RelayKeeper
  } = {}
  const build = async (r: Role): Promise<KaiwaLibp2p> => {
    const built = await createKaiwaLibp2p({
      role: r,
      deviceKey: identity.deviceKey,
      datastore: data.datastore,
      listen: opts.listen,
      bootstrap: opts.bootstrap.filter((a) => a.includes('/p2p/')),
      mdns: opts.mdns,
      upnp: opts.upnp,
      validators,
      selectors,
      // Overlay links get the supernodes' STUN only: where punching fails,
      // signalling stays on the circuit relay, and TURN is kept for media. With
      // TURN offered too, libjuice sometimes settled on a relay pair where a
      // direct one was possible (seen in the NAT lab).
      iceServers: async () => stunOnly((await late.turn?.iceServers()) ?? []),
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
    built.addEventListener('self:peer:update', () => late.onSelfUpdate?.())
    supernodes.attach(built)
    late.relays?.stop()
    late.relays = undefined
    if (r === 'client') {
      late.relays = new RelayKeeper({
        node: built,
        supernodes: () => supernodes.connected(),
        leaving: () => late.election?.leaving ?? new Set(),
        load: (peer) => late.election?.loadOf(peer),
        log: log.child('relay'),
      })
      late.relays.start()
    }
    return built
  }
  const services: { sip?: SipService; turn?: TurnService } = {}
  const supernodes = new SupernodeTracker()
  const roles = new RoleController({
    mode,
    initialRole: initialRole(mode, opts.bootstrap.length),
    build,
    attach: async () => {
      await services.sip?.attach()
      await services.turn?.attach()
      await late.election?.attach()
    },
    detach: async () => {
      await late.election?.detach()
      await services.sip?.detach()
      await services.turn?.detach()
    },
    onChanged: () => late.onSelfUpdate?.(),
    log,
  })
  await roles.start()
  const node = (): KaiwaLibp2p => roles.node()
  const role = (): Role => roles.role()
  // Components read the account key on use: restoring a backup replaces it.
  const account = identity as { accountKey: Identity['accountKey'] }
  const directory = new UserDirectory({
    node,
    datastore: data.datastore,
    get accountKey() {
      return account.accountKey
    },
  })
  const domain = opts.overlayDomain ?? DEFAULT_OVERLAY_DOMAIN
  const sip = new SipService({
    node,
    role,
    directory,
    datastore: data.datastore,
    get accountKey() {
      return account.accountKey
    },
    ownName: async () => (await settings.get()).name,
    domain,
    log: log.child('sip'),
  })
  services.sip = sip
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
        await roles.stop().catch(() => {})
        throw err
      }
    }
  }
  const turn = new TurnService({
    node,
    role,
    dataDir: data.path,
    port: opts.turnPort ?? 0,
    host: opts.turnHost ?? '0.0.0.0',
    portOptional: opts.turnPortOptional,
    ...(opts.turnRelayPorts != null ? { relayPorts: opts.turnRelayPorts } : {}),
    supernodes: () => supernodes.connected(),
    log: log.child('turn'),
  })
  late.turn = turn
  services.turn = turn

  try {
    await turn.attach()
  } catch (err) {
    await sip.stopGateway().catch(() => {})
    await sip.detach().catch(() => {})
    await roles.stop().catch(() => {})
    throw err
  }
  const dialer = new BootstrapDialer({ node, addrs: opts.bootstrap, log: log.child('bootstrap') })
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

  const election = new ElectionService({
    roles,
    supernodes,
    node,
    startedAt,
    turnOn: () => (opts.turnPort ?? 0) > 0,
    caps: async () => effectiveCaps(await settings.get()),
    log: log.child('election'),
    ...(opts.election != null ? { tuning: opts.election } : {}),
  })
  late.election = election
  await election.attach()
  election.start()
  // New addresses: republish, and in `auto` let the election look again (AutoNAT
  // may just have confirmed a public address).
  late.onSelfUpdate = (): void => {
    refresh.soon()
    if (roles.mode() === 'auto' && role() === 'client') election.soon()
  }

  let stopped = false
  const self: KaiwaNode = {
    peerId: node().peerId.toString(),
    dataDir: data.path,
    identity,
    directory,
    settings,
    datastore: data.datastore,
    sip,
    turn,
    domain,
    roles,
    supernodes,
    election,
    mailbox: sip.mailboxStore,
    api: undefined as unknown as KaiwaApi,
    role,
    claim: async (name) => {
      const result = await directory.claim(name)
      await settings.update({ name: result.record.name })
      return result
    },
    libp2p: node,
    addrs: () => node().getMultiaddrs(),
    stop: async () => {
      if (stopped) return
      stopped = true
      refresh.stop()
      dialer.stop()
      election.stop()
      late.relays?.stop()
      await sip.stopGateway().catch(() => {})
      await sip.detach().catch(() => {})
      await turn.stop().catch(() => {})
      await roles.stop()
      await data.close()
    },
  }
  ;(self as { api: KaiwaApi }).api = createNodeApi({
    node: self,
    datastore: data.datastore,
    startedAt,
    supernodeLocked: opts.supernodeLocked === true,
    ui: {
      contacts: new ContactBook(data.datastore, (k) => log.warn(`damaged contact entry ${k}`)),
      calls: new CallLog(data.datastore, (k) => log.warn(`damaged call log entry ${k}`)),
      readMarks: new ReadMarks(data.datastore),
      logText: ring.text,
      versions: () => ({ kaiwa: KAIWA_VERSION, node: process.versions.node, ...opts.versions }),
      adoptAccount: async (backup) => {
        await saveIdentity(data.datastore, { ...identity, accountKey: backup.accountKey })
        account.accountKey = backup.accountKey
        log.info('restored an account from a backup; this device joins it')
        if (backup.name != null) await self.claim(backup.name)
      },
    },
  })
  applyCaps(self, effectiveCaps(saved))
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

function stunOnly(servers: RTCIceServer[]): RTCIceServer[] {
  return servers
    .map((s) => ({ urls: [s.urls].flat().filter((u) => u.startsWith('stun:')) }))
    .filter((s) => s.urls.length > 0)
}
