/**
 * The composition root of a Kaiwa node (used by `kaiwa node`, by the Electron
 * main process and by the multi-node tests), modelled on js-libp2p's
 * `createLibp2p` and Syncthing's `App`:
 *
 * 1. open what outlives everything: the data directory, identity, settings
 *    and stores;
 * 2. build what outlives a role change: the user directory, the SIP router
 *    and gateway, the TURN relay's state, the election;
 * 3. start libp2p for the role, with Kaiwa's protocols as libp2p services
 *    (`servicesFor`), so a role change is "stop the instance, start the next";
 * 4. start the loops (bootstrap dialer, election, refresh) and the API.
 *
 * Every started part pushes its stop onto one StopList, which runs in reverse
 * order on shutdown and on a failed start-up. Nothing else constructs these
 * services.
 */
import { InterfaceWatch } from '../overlay/node/interface-watch.js'
import { dropDeadConnections } from '../overlay/node/connection-liveness.js'
import { MediaAnchor } from '../overlay/media/media-anchor.js'
import { CONTACT_REFRESH_MS } from '../shared/records/record-policy.js'
import type { Role, SupernodeMode } from '../shared/api/contract.js'
import type { Logger } from '../shared/logger.js'
import { mergeBootstrap } from '../shared/network/default-bootstrap.js'
import { DEFAULT_OVERLAY_DOMAIN } from '../shared/sip/overlay-uri.js'
import { KAIWA_VERSION } from '../shared/version.js'
import { openDataDir } from '../overlay/store/data-dir.js'
import type { DataDir } from '../overlay/store/data-dir.js'
import { ElectionService } from '../overlay/election/election-service.js'
import { loadOrCreateIdentity, saveIdentity } from '../overlay/identity/identity-store.js'
import type { Identity } from '../overlay/identity/identity-store.js'
import { MailboxStore } from '../overlay/mailbox/mailbox-store.js'
import { BootstrapDialer } from '../overlay/node/bootstrap-dialer.js'
import type { KaiwaLibp2p } from '../overlay/node/libp2p-factory.js'
import { RefreshLoop } from '../overlay/node/refresh-loop.js'
import { RoleController } from '../overlay/node/role-controller.js'
import { initialRole } from '../overlay/node/role-policy.js'
import { dhtNeighbourQuery } from '../overlay/names/neighbour-query.js'
import { userRecordValidators } from '../overlay/names/record-validator.js'
import { LanNameTable } from '../overlay/names/lan-name-table.js'
import { effectiveCaps, SettingsStore } from '../overlay/store/settings-store.js'
import { SipGatewayError } from '../overlay/sip/gateway/gateway-types.js'
import { loadOrCreateSipPassword } from '../overlay/sip/gateway/sip-password.js'
import { SipService } from '../overlay/sip/sip-service.js'
import { CallLog } from '../overlay/store/call-log.js'
import { ContactBook } from '../overlay/store/contact-book.js'
import { migrateAll } from '../overlay/store/migrate-all.js'
import { recordListsDevice } from '../overlay/turn/turn-admission.js'
import { TurnService } from '../overlay/turn/turn-service.js'
import { UserDirectory } from '../overlay/names/user-directory.js'
import type { PublishResult } from '../overlay/names/user-directory.js'
import type { ApiComponents } from './api/api-components.js'
import { createNodeApi } from './api/node-api.js'
import { applyCaps } from './api/usage.js'
import type { KaiwaNode, KaiwaNodeOptions } from './kaiwa-node-options.js'
import { buildFileTransfers } from './build-file-transfers.js'
import { buildGroups } from './build-groups.js'
import { buildSync } from './build-sync.js'
import type { SyncParts } from './build-sync.js'
import { startLibp2p } from './libp2p-start.js'
import { allocationLimitsForKbps } from '../overlay/turn/relay-limits.js'
import { bridgeParts } from './bridge-parts.js'
import { TurnsForwarder } from '../overlay/bridge/turns-forwarder.js'
import { withLogRing } from './log-ring.js'
import type { LogRing } from './log-ring.js'
import { StopList } from './stop-list.js'

export type { KaiwaNode, KaiwaNodeOptions } from './kaiwa-node-options.js'

export async function startKaiwaNode(opts: KaiwaNodeOptions): Promise<KaiwaNode> {
  const ring = withLogRing(opts.log)
  const log = ring.log
  const stops = new StopList(log)
  try {
    const data = await openDataDir(opts.dataDir)
    stops.push('the data directory', () => data.close())
    const base = await openBase(data, log)
    const parts = buildParts(base, opts, log)
    await startParts(parts, base, opts, stops, log)
    const node = assemble(parts, base, opts, ring, stops)
    if (opts.name != null) await node.claim(opts.name)
    parts.refresh.start()
    stops.push('the refresh loop', () => parts.refresh.stop())
    parts.watch.start()
    stops.push('the interface watch', () => parts.watch.stop())
    // Publish now (not one interval from now): addresses may have changed since
    // the last run, and mail may be waiting for us.
    if ((await base.settings.get()).name != null) parts.refresh.soon()
    return node
  } catch (err) {
    // A failed start leaves nothing running: libp2p, the gateway and the data dir all stop.
    await stops.stopAll()
    log.debug(`start-up failed: ${String(err)}`)
    throw err
  }
}

/** Step 1: what outlives everything, read from the data directory. */
type Base = Awaited<ReturnType<typeof openBase>>

async function openBase(data: DataDir, log: Logger) {
  // Stored data from an older Kaiwa is migrated before anything reads it; data
  // from a newer one is refused untouched (docs/storage.md).
  const storeLog = log.child('storage')
  await migrateAll(data.datastore, storeLog)
  const { identity, created } = await loadOrCreateIdentity(data.datastore)
  if (created) log.info(`created a new identity in ${data.path}`)
  const settings = new SettingsStore(data.datastore, { log: storeLog })
  return {
    data,
    identity,
    // Components read the account key on use: restoring a backup replaces it.
    account: identity as { accountKey: Identity['accountKey'] },
    settings,
    saved: await settings.get(),
    mailboxStore: new MailboxStore(data.datastore, { log: log.child('mailbox') }),
    // One book for the SIP service (sender checks) and the API (the UI's edits).
    contacts: new ContactBook(data.datastore, undefined, { log: storeLog }),
    startedAt: Date.now(),
    storeLog,
  }
}

/** Step 2: what outlives a role change. Nothing here starts yet. */
type Parts = ReturnType<typeof buildParts>

function buildParts(base: Base, opts: KaiwaNodeOptions, log: Logger) {
  const { data, account } = base
  const domain = opts.overlayDomain ?? DEFAULT_OVERLAY_DOMAIN
  const node = (): KaiwaLibp2p => roles.node()
  const records = recordPolicy(base, opts, node, log)
  const lanTable = new LanNameTable({
    datastore: data.datastore,
    ...(opts.claimPowBits != null ? { powBits: opts.claimPowBits } : {}),
  })
  const supernodes = {
    connected: () => node().services.supernodes.connected(),
    isSupernode: (peer: string) => node().services.supernodes.isSupernode(peer),
  }
  // A mode chosen in Settings wins, unless --supernode locked it for this run.
  const mode: SupernodeMode =
    opts.supernodeLocked === true ? opts.supernode : (base.saved.supernodeMode ?? opts.supernode)
  // Supernodes saved from joined invites are dialled with --bootstrap's (issue 13).
  const bootstrap = mergeBootstrap(opts.bootstrap, base.saved.bootstrap ?? [])
  const roles: RoleController = new RoleController({
    mode,
    initialRole: initialRole(mode),
    build: (role): Promise<KaiwaLibp2p> =>
      startLibp2p(role, {
        deviceKey: base.identity.deviceKey,
        datastore: data.datastore,
        listen: opts.listen,
        bootstrap: bootstrap.filter((a) => a.includes('/p2p/')),
        mdns: opts.mdns,
        upnp: opts.upnp,
        records,
        lanTable,
        ...(opts.claimPowBits != null ? { powBits: opts.claimPowBits } : {}),
        mailboxStore: base.mailboxStore,
        // The majority's key routes, so it is also the key mail must be signed by.
        senderKey: async (name, { signal }) =>
          (await directory.lookup(name, signal != null ? { signal } : {}))?.record.publicKey ??
          null,
        turnAdmission: {
          deviceOf: async (name, peerId, { signal }) => {
            const found = await directory.lookup(name, signal != null ? { signal } : {})
            return (
              found != null &&
              found.conflict == null &&
              recordListsDevice(found.record, peerId, Date.now())
            )
          },
        },
        sip,
        sync: { fromLink: (bytes, peer) => sync.sync.fromLink(bytes, peer) },
        files,
        turn,
        bridge,
        election,
        addressesChanged,
        log,
      }),
    onChanged: () => {
      election.roleChanged()
      addressesChanged()
    },
    log,
  })
  const directory = new UserDirectory({
    node,
    datastore: data.datastore,
    ...(opts.claimPowBits != null ? { powBits: opts.claimPowBits } : {}),
    get accountKey() {
      return account.accountKey
    },
    removedDevices: () => sync.devices.removed(),
  })
  const sip: SipService = new SipService({
    node,
    role: (): Role => roles.role(),
    directory,
    datastore: data.datastore,
    mailboxStore: base.mailboxStore,
    contacts: base.contacts,
    get accountKey() {
      return account.accountKey
    },
    ownName: async () => (await base.settings.get()).name,
    domain,
    onFileMail: (from, body) => files.fromMail(from, body),
    sync: {
      filed: (m, id) => sync.sipHooks.filed(m, id),
      fromMail: (b) => sync.sipHooks.fromMail(b),
    },
    groups: {
      fromLink: (from, sender, body) => groups.inbound.fromLink(from, sender, body),
      fromMail: (mail) => groups.inbound.fromMail(mail),
    },
    log: log.child('sip'),
  })
  const files = buildFileTransfers(base, domain, node, directory, () => sip, log)
  const groups = buildGroups(base, domain, node, directory, () => sip, log)
  const sync = buildSync(
    base,
    domain,
    node,
    directory,
    () => sip,
    () => refresh.soon(),
    log,
  )
  const turn = turnService(base, opts, node, supernodes.connected, log)
  // Supernodes' port-443 bridge (overlay over WebSocket-TLS and TURN over TLS on one port).
  const bridge = bridgeParts({
    port: opts.bridgePort ?? 0,
    optional: opts.bridgePortOptional === true,
    listen: opts.listen,
    dataDir: data.path,
    turn,
    log: log.child('bridge'),
  })
  const election = new ElectionService({
    roles,
    supernodes,
    node,
    startedAt: base.startedAt,
    turnOn: () => (opts.turnPort ?? 0) > 0,
    caps: async () => effectiveCaps(await base.settings.get()),
    log: log.child('election'),
    ...(opts.election != null ? { tuning: opts.election } : {}),
  })
  const refresh = refreshLoop(base, directory, sip, sync, log)
  const dialer = new BootstrapDialer({ node, addrs: bootstrap, log: log.child('bootstrap') })
  // New addresses: republish, and in `auto` let the election look again (AutoNAT
  // may just have confirmed a public address).
  function addressesChanged(): void {
    refresh.soon()
    if (roles.mode() === 'auto' && roles.role() === 'client') election.soon()
  }
  // Roaming: an interface change alone announces nothing in libp2p. Connections over a
  // vanished address look open but are dead: drop them now, so the supernode link, the
  // relay reservation and SIP links are re-made from the new address within seconds.
  const netLog = log.child('net')
  const roamed = async ({ removed }: { removed: string[] }): Promise<void> => {
    try {
      if (removed.length > 0) {
        const dead = await dropDeadConnections(node().getConnections(), { log: netLog })
        if (dead.length > 0) dialer.retryNow()
      }
    } catch (err) {
      netLog.debug(`checking connections after the address change: ${String(err)}`)
    }
    addressesChanged()
  }
  const watch = new InterfaceWatch({ onChange: (c) => void roamed(c), log: netLog })
  return {
    domain,
    node,
    supernodes,
    roles,
    directory,
    sip,
    files,
    groups,
    sync,
    turn,
    election,
    refresh,
    dialer,
    watch,
  }
}

/** DHT record validation: signatures, stamps, and the neighbour check on first claims. */
function recordPolicy(base: Base, opts: KaiwaNodeOptions, node: () => KaiwaLibp2p, log: Logger) {
  const recordLog = log.child('records')
  return userRecordValidators({
    datastore: base.data.datastore,
    onRefused: (name, reason) => recordLog.warn(`refused record ${name}: ${reason}`),
    // Before a first claim for a name it does not hold, a storing node asks
    // the other closest nodes (docs/security.md).
    neighbours: dhtNeighbourQuery(node),
    ...(opts.claimPowBits != null ? { powBits: opts.claimPowBits } : {}),
  })
}

function turnService(
  base: Base,
  opts: KaiwaNodeOptions,
  node: () => KaiwaLibp2p,
  supernodes: () => string[],
  log: Logger,
): TurnService {
  return new TurnService({
    node,
    dataDir: base.data.path,
    port: opts.turnPort ?? 0,
    host: opts.turnHost ?? '0.0.0.0',
    portOptional: opts.turnPortOptional,
    ...(opts.turnRelayPorts != null ? { relayPorts: opts.turnRelayPorts } : {}),
    ...(opts.turnAllowPeers != null ? { allowPeers: opts.turnAllowPeers } : {}),
    ...(opts.turnAllocationKbps != null
      ? { allocationLimits: allocationLimitsForKbps(opts.turnAllocationKbps) }
      : {}),
    // One thread unless asked: with several, a dual-stack supernode's relay candidates came too
    // late for the app's ICE gathering now and then (the NAT lab's IPv6 test; README limits).
    threads: opts.turnWorkers ?? 1,
    supernodes,
    // Supernodes issue credentials to verified devices of a claimed name.
    ownName: async () => (await base.settings.get()).name,
    log: log.child('turn'),
  })
}

/** Republish this device like a SIP UA refreshing its registration; collect mail after. */
function refreshLoop(
  base: Base,
  directory: UserDirectory,
  sip: SipService,
  sync: SyncParts,
  log: Logger,
) {
  return new RefreshLoop({
    intervalMs: CONTACT_REFRESH_MS,
    log: log.child('refresh'),
    run: async () => {
      const { name } = await base.settings.get()
      if (name == null) return
      // A device another device removed from the account no longer publishes under it.
      if (await sync.sync.selfRemoved()) return
      const { record } = await directory.publish(name)
      // Devices of the account seen for the first time get a snapshot (account sync).
      void sync.sync.recordSeen(record).catch((err) => log.debug(`sync: ${String(err)}`))
      // Mail may have been stored for us while we were unreachable.
      void sip.collectOfflineMail().catch((err) => log.debug(`offline mail: ${String(err)}`))
    },
  })
}

/** Step 3: start in dependency order; each start pushes its stop. */
async function startParts(
  parts: Parts,
  base: Base,
  opts: KaiwaNodeOptions,
  stops: StopList,
  log: Logger,
): Promise<void> {
  await base.mailboxStore.start()
  stops.push('the mailbox store', () => base.mailboxStore.stop())
  await startGateway(parts, base.data.path, opts, log)
  stops.push('the SIP gateway', () => parts.sip.stopGateway())
  await parts.roles.start()
  stops.push('libp2p', () => parts.roles.stop())
  applyCaps({ turn: parts.turn, mailbox: base.mailboxStore }, effectiveCaps(base.saved))
  parts.dialer.start()
  stops.push('the bootstrap dialer', () => parts.dialer.stop())
  parts.election.start()
  stops.push('the election', () => parts.election.stop())
  parts.files.start()
  stops.push('file transfers', () => parts.files.stop())
  stops.push('account sync', () => parts.sync.stop())
}

/** The local SIP gateway outlives role changes: it talks to the router, not to libp2p. */
async function startGateway(
  parts: Pick<Parts, 'sip' | 'turn'>,
  dataDir: string,
  opts: KaiwaNodeOptions,
  log: Logger,
): Promise<void> {
  if ((opts.sipPort ?? 0) <= 0) return
  // The media anchor (on unless mediaAnchor is false): the node is the B2BUA
  // for phones' media (issue 12). Its calls get the same STUN/TURN servers as
  // the UI's, from the supernodes.
  const media =
    opts.mediaAnchor === false
      ? undefined
      : new MediaAnchor({
          iceServers: () => parts.turn.iceServers().catch(() => []),
          log: log.child('media'),
        })
  try {
    await parts.sip.startGateway({
      port: opts.sipPort!,
      password: opts.sipPassword ?? (await loadOrCreateSipPassword(dataDir)),
      ...(opts.sipTuning != null ? { tuning: opts.sipTuning } : {}),
      ...(media != null ? { media } : {}),
    })
  } catch (err) {
    if (!(err instanceof SipGatewayError) || opts.sipPortOptional !== true) throw err
    log.warn(`${err.message}; running without the SIP gateway`)
  }
}

/** Step 4: the node's face (the API and the handle callers and tests hold). */
function assemble(
  parts: Parts,
  base: Base,
  opts: KaiwaNodeOptions,
  ring: LogRing,
  stops: StopList,
): KaiwaNode {
  const { data, identity, account, settings } = base
  const { roles, directory, node } = parts
  const log = ring.log
  const claim = async (name: string): Promise<PublishResult> => {
    try {
      const result = await directory.claim(name)
      await settings.update({ name: result.record.name })
      // The account's other devices (a restored backup's) are greeted at once.
      void parts.sync.sync.recordSeen(result.record).catch(() => undefined)
      return result
    } catch (err) {
      // A clock far off is the likeliest reason storing nodes refuse a valid
      // claim (issuedAt in their future or past): say so, and how to fix it.
      const clock = node().services.clock.ownSkew()
      if (clock.state === 'warn' && err instanceof Error) err.message += `. ${clock.message}`
      throw err
    }
  }
  const components: ApiComponents = {
    libp2p: node,
    roles,
    settings,
    account,
    directory,
    sip: parts.sip,
    files: parts.files,
    groups: parts.groups,
    devices: parts.sync.sync,
    turn: parts.turn,
    mailbox: base.mailboxStore,
    supernodes: parts.supernodes,
    claim,
    domain: parts.domain,
    dataDir: data.path,
    datastore: data.datastore,
  }
  const turnsForwarder = new TurnsForwarder({ log: log.child('turns-forward') })
  stops.push('the TURN over TLS forwarder', () => turnsForwarder.close())
  const api = createNodeApi({
    node: components,
    startedAt: base.startedAt,
    supernodeLocked: opts.supernodeLocked === true,
    ui: {
      contacts: base.contacts,
      calls: new CallLog(data.datastore, undefined, { log: base.storeLog }),
      readMarks: parts.sync.readMarks,
      logText: ring.text,
      turnsForwarder,
      versions: () => ({ kaiwa: KAIWA_VERSION, node: process.versions.node, ...opts.versions }),
      adoptAccount: async (backup) => {
        await saveIdentity(data.datastore, { ...identity, accountKey: backup.accountKey })
        account.accountKey = backup.accountKey
        log.info('restored an account from a backup; this device joins it')
        if (backup.name != null) await claim(backup.name)
      },
    },
  })
  return {
    peerId: node().peerId.toString(),
    dataDir: data.path,
    identity,
    directory,
    settings,
    datastore: data.datastore,
    api,
    sip: parts.sip,
    files: parts.files,
    groups: parts.groups,
    turn: parts.turn,
    domain: parts.domain,
    roles,
    supernodes: parts.supernodes,
    election: parts.election,
    mailbox: base.mailboxStore,
    contacts: base.contacts,
    role: () => roles.role(),
    claim,
    libp2p: node,
    addrs: () => node().getMultiaddrs(),
    stop: () => stops.stopAll(),
  }
}
