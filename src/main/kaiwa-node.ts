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
import type { Role, SupernodeMode } from '../shared/api/contract.js'
import type { Logger } from '../shared/logger.js'
import { mergeBootstrap } from '../shared/network/default-bootstrap.js'
import { DEFAULT_OVERLAY_DOMAIN } from '../shared/sip/overlay-uri.js'
import { KAIWA_VERSION } from '../shared/version.js'
import { openDataDir } from '../overlay/store/data-dir.js'
import { ElectionService } from '../overlay/election/election-service.js'
import { saveIdentity } from '../overlay/identity/identity-store.js'
import { BootstrapDialer } from '../overlay/node/bootstrap-dialer.js'
import type { KaiwaLibp2p } from '../overlay/node/libp2p-factory.js'
import { RoleController } from '../overlay/node/role-controller.js'
import { initialRole } from '../overlay/node/role-policy.js'
import { LanNameTable } from '../overlay/names/lan-name-table.js'
import { effectiveCaps } from '../overlay/store/settings-store.js'
import { SipService } from '../overlay/sip/sip-service.js'
import { CallLog } from '../overlay/store/call-log.js'
import { recordListsDevice } from '../overlay/turn/turn-admission.js'
import { UserDirectory } from '../overlay/names/user-directory.js'
import { oneHopLookup } from '../overlay/supernodes/one-hop-client.js'
import type { PublishResult } from '../overlay/names/user-directory.js'
import type { ApiComponents } from './api/api-components.js'
import { createNodeApi } from './api/node-api.js'
import { applyCaps } from './api/usage.js'
import type { KaiwaNode, KaiwaNodeOptions } from './kaiwa-node-options.js'
import { buildFileTransfers } from './build-file-transfers.js'
import { buildGroups } from './build-groups.js'
import { buildSync } from './build-sync.js'
import { startLibp2p } from './libp2p-start.js'
import { startGateway } from './build-gateway.js'
import { buildRefresh } from './build-refresh.js'
import { buildTurn } from './build-turn.js'
import { openBase, recordPolicy } from './node-base.js'
import type { NodeBase } from './node-base.js'
import { bridgeParts } from './bridge-parts.js'
import { TurnsForwarder } from '../overlay/bridge/turns-forwarder.js'
import { withLogRing } from './log-ring.js'
import type { LogRing } from './log-ring.js'
import { StopList } from './stop-list.js'
import { PendingClaim } from '../overlay/names/pending-claim.js'

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
    if (opts.name != null) {
      // With nowhere to store the name yet (a LAN before mDNS found anyone, supernodes
      // not up), it stays pending and is claimed once it can be (pending-claim.ts).
      const pending = new PendingClaim({
        claim: (name) => node.claim(name),
        scope: () => parts.directory.scope(),
        claimedName: async () => (await base.settings.get()).name,
        log: log.child('claim'),
      })
      stops.push('the pending claim', () => pending.stop())
      await pending.start(opts.name)
    }
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

/** Step 2: what outlives a role change. Nothing here starts yet. */
type Parts = ReturnType<typeof buildParts>
type Base = NodeBase

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
    // Through this node's supernode (or its own table, as one) first; the DHT walk as fallback.
    oneHop: oneHopLookup(node),
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
    groups,
    log,
  )
  const turn = buildTurn(base, opts, node, supernodes.connected, log)
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
  const refresh = buildRefresh(base, directory, sip, sync, log)
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
  // Sync events an earlier run could not send go out again, now that libp2p runs.
  await parts.sync.start()
  stops.push('account sync', () => parts.sync.stop())
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
