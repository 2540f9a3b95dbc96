/**
 * The control API's implementation over a running node. Transport-agnostic:
 * the HTTP/WebSocket server and (later) the Electron IPC bridge serve it.
 */
import type { Datastore } from 'interface-datastore'
import { storageHealth } from '../../overlay/store/quarantine.js'
import type { ApiOutput, KaiwaApi } from '../../shared/api/contract.js'
import {
  NotFoundError,
  OverlayTimeoutError,
  SipRejectedError,
  UserUnavailableError,
  ConflictError,
} from '../../shared/errors.js'
import { normalizeUserId } from '../../shared/user-id.js'
import { sendMessage } from '../../overlay/sip/internal-ua.js'
import { contactRecordToJson, fingerprint } from '../../shared/records/contact-record.js'
import { countStoredRecords } from '../../overlay/names/record-validator.js'
import { reachability } from '../../overlay/node/role-policy.js'
import { networkState, noSupernodeHint } from '../../shared/network/no-supernode.js'
import { lanPeerCount } from '../../overlay/names/lan-scope.js'
import type { ApiComponents } from './api-components.js'
import { effectiveCaps, effectiveFileSettings } from '../../overlay/store/settings-store.js'
import { checkedFiles, createFileApi } from './file-api.js'
import { createGroupApi, withGroupMessages } from './group-api.js'
import { createInviteApi } from './invite-api.js'
import { createDeviceApi } from './device-api.js'
import { createUiApi } from './ui-api.js'
import type { UiApiInit } from './ui-api.js'
import { applyCaps, createUsageMeter } from './usage.js'

export interface NodeApiInit {
  node: ApiComponents
  startedAt: number
  /** `--supernode` was given: Settings cannot change the mode for this run. */
  supernodeLocked: boolean
  ui: Omit<UiApiInit, 'node'>
}

export function createNodeApi(init: NodeApiInit): KaiwaApi {
  const { node } = init
  const usage = createUsageMeter(node)
  const settingsJson = async (): Promise<ApiOutput<'settings'>> => {
    const saved = await node.settings.get()
    return {
      supernodeMode: node.roles.mode(),
      caps: effectiveCaps(saved),
      files: effectiveFileSettings(saved, node.dataDir),
    }
  }
  const ui = createUiApi({ ...init.ui, node })
  return {
    ...ui,
    ...createInviteApi({ node, contactAdd: ui.contactAdd }),
    ...createFileApi(node),
    ...createGroupApi(node.groups, async () => (await node.settings.get()).name),
    ...createDeviceApi(node.devices),
    usage,
    settings: settingsJson,
    settingsUpdate: async ({ supernodeMode, caps, files }) => {
      if (supernodeMode != null && supernodeMode !== node.roles.mode() && init.supernodeLocked)
        throw new ConflictError(
          `the supernode mode was set with --supernode ${node.roles.mode()} for this run; ` +
            'restart the node without that flag to choose it here',
        )
      const current = await node.settings.get()
      const next = await node.settings.update({
        ...(supernodeMode != null ? { supernodeMode } : {}),
        ...(caps != null ? { caps: { ...current.caps, ...caps } } : {}),
        ...(files != null ? { files: { ...current.files, ...(await checkedFiles(files)) } } : {}),
      })
      applyCaps(node, effectiveCaps(next))
      // File acceptance is the account's choice: the other devices take it too.
      if (files != null) void node.devices.settingsChanged(files).catch(() => undefined)
      if (supernodeMode != null) await node.roles.setMode(supernodeMode)
      return settingsJson()
    },
    status: async () => {
      const libp2p = node.libp2p()
      const addrs = libp2p.getMultiaddrs()
      const { name } = await node.settings.get()
      return {
        peerId: libp2p.peerId.toString(),
        role: node.roles.role(),
        supernodeMode: node.roles.mode(),
        name,
        fingerprint: fingerprint(node.account.accountKey.publicKey.raw),
        addrs: addrs.map((a) => a.toString()),
        peers: libp2p.getPeers().length,
        supernodes: node.supernodes.connected(),
        ...network(node),
        reachability: reachability(node.roles.role(), addrs),
        recordsHeld: await countStoredRecords(node.datastore),
        storage: await storageStatus(node.datastore),
        clock: libp2p.services.clock.ownSkew(),
        uptimeSeconds: Math.round((Date.now() - init.startedAt) / 1000),
        sip: await node.sip.gatewayStatus(),
        turn: turnStatus(node),
        usage: await usage(),
        connections: libp2p.getConnections().map((c) => {
          const addr = c.remoteAddr.toString()
          return {
            peer: c.remotePeer.toString(),
            remoteAddr: addr,
            direction: c.direction,
            transport: connectionTransport(addr, c.limits != null),
            limited: c.limits != null,
            openedAt: new Date(c.timeline.open).toISOString(),
          }
        }),
      } satisfies ApiOutput<'status'>
    },
    claim: async ({ name }) => {
      const { record } = await node.claim(name)
      return { record: await contactRecordToJson(record, Date.now()) }
    },
    message: async ({ to, text }) => {
      const toUser = normalizeUserId(to)
      const { name } = await node.settings.get()
      if (name == null) throw new NotFoundError('claim a user ID first: kaiwa claim NAME')
      const res = await sendMessage(
        node.sip.router,
        { fromUser: name, toUser, domain: node.domain, text },
        node.libp2p().peerId.toString(),
      )
      if (res.status === 202) return { status: 'stored', code: 202, reason: res.reason }
      if (res.status < 300) return { status: 'delivered', code: res.status, reason: res.reason }
      if (res.status === 404) throw new NotFoundError(`no user "${toUser}" in the overlay`)
      if (res.status === 408)
        throw new OverlayTimeoutError(`the overlay did not answer in time (${res.reason})`)
      if (res.status === 480)
        throw new UserUnavailableError(
          `${toUser} is unreachable and the message could not be stored`,
        )
      throw new SipRejectedError(res.status, `${res.status} ${res.reason}`)
    },
    turnCredentials: async () => node.turn.credentials(),
    // Group messages are merged in, each with its `group` (group-api.ts).
    inbox: async ({ limit }) =>
      withGroupMessages(
        await node.sip.history.list({ direction: 'in', ...(limit != null ? { limit } : {}) }),
        node.groups,
        node.domain,
        limit,
      ),
    lookup: async ({ name }) => {
      // A user asking sees the current record, not one cached by routing.
      const found = await node.directory.lookup(name, { fresh: true })
      if (found == null) throw new NotFoundError(`no user "${name}" in the overlay`)
      const conflict =
        found.conflict == null
          ? null
          : {
              keys: found.conflict.keys.map((k) => ({
                fingerprint: k.fingerprint,
                count: k.count,
              })),
            }
      return { record: await contactRecordToJson(found.record, Date.now()), conflict }
    },
  }
}

/**
 * Which network this node is on (issue 13): the overlay, a LAN-only one (no
 * supernode, LAN peers), or none; and for the last two, what that means.
 */
function network(node: ApiComponents): Pick<ApiOutput<'status'>, 'hint' | 'network' | 'lanPeers'> {
  const role = node.roles.role()
  const supernodes = node.supernodes.connected().length
  const lanPeers = lanPeerCount(node.libp2p())
  const text = noSupernodeHint(role, supernodes, lanPeers)
  return {
    network: networkState(role, supernodes, lanPeers),
    lanPeers,
    ...(text != null ? { hint: text } : {}),
  }
}

/** Entries moved to quarantine because they could not be read (docs/storage.md). */
async function storageStatus(datastore: Datastore): Promise<ApiOutput<'status'>['storage']> {
  const { quarantined } = await storageHealth(datastore)
  return {
    quarantined: quarantined.length,
    entries: quarantined.map((q) => ({
      collection: q.collection,
      key: q.key,
      reason: q.reason,
      at: q.at,
    })),
  }
}

function turnStatus(node: ApiComponents): ApiOutput<'status'>['turn'] {
  const t = node.turn.status()
  if (t == null) return null
  return { address: t.address, urls: t.urls, stats: { ...t.stats } as Record<string, number> }
}

/** How a connection runs, from its remote address (a relayed WebRTC dial keeps the circuit in it). */
export function connectionTransport(
  addr: string,
  limited: boolean,
): 'tcp' | 'webrtc' | 'relay' | 'other' {
  if (/\/webrtc(\/|$)/.test(addr) && !limited) return 'webrtc'
  if (addr.includes('/p2p-circuit')) return 'relay'
  if (addr.includes('/tcp/')) return 'tcp'
  return 'other'
}
