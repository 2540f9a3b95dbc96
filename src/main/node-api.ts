/**
 * The control API's implementation over a running node. Transport-agnostic:
 * the HTTP/WebSocket server and (later) the Electron IPC bridge serve it.
 */
import type { Datastore } from 'interface-datastore'
import type { ApiOutput, KaiwaApi, SupernodeMode } from '../shared/api/contract.js'
import {
  NotFoundError,
  OverlayTimeoutError,
  SipRejectedError,
  UserUnavailableError,
  ServiceUnavailableError,
} from '../shared/errors.js'
import { normalizeUserId } from '../shared/user-id.js'
import { sendMessage } from '../overlay/sip/internal-ua.js'
import { contactRecordToJson, fingerprint } from '../shared/records/contact-record.js'
import { countStoredRecords } from '../overlay/record-validator.js'
import { KAIWA_DHT_PROTOCOL } from '../overlay/libp2p-factory.js'
import { reachability } from '../overlay/role-policy.js'
import type { KaiwaNode } from './kaiwa-node.js'

export interface NodeApiInit {
  node: KaiwaNode
  datastore: Datastore
  supernodeMode: SupernodeMode
  startedAt: number
}

export function createNodeApi(init: NodeApiInit): KaiwaApi {
  const { node } = init
  const later = (): never => {
    throw new ServiceUnavailableError('not implemented yet')
  }
  const usage = async (): Promise<ApiOutput<'usage'>> => ({
    role: node.role(),
    bytesRelayed: 0,
    relayKbps: 0,
    relayedCalls: 0,
    peersServed: 0,
    recordsStored: 0,
    mailboxBytes: 0,
    mailboxMessages: 0,
    caps: { relayKbps: 0, relayedCalls: 0, storageMiB: 0 },
  })
  return {
    usage,
    conversation: later,
    conversations: later,
    markRead: later,
    contacts: later,
    contactAdd: later,
    contactRemove: later,
    contactTrust: later,
    calls: later,
    callLog: later,
    iceServers: later,
    settings: later,
    settingsUpdate: later,
    identityExport: later,
    identityImport: later,
    logs: later,
    about: later,
    status: async () => {
      const libp2p = node.libp2p()
      const addrs = libp2p.getMultiaddrs()
      const { name } = await node.settings.get()
      return {
        peerId: libp2p.peerId.toString(),
        role: node.role(),
        supernodeMode: init.supernodeMode,
        name,
        fingerprint: await fingerprint(node.identity.accountKey.publicKey.raw),
        addrs: addrs.map((a) => a.toString()),
        peers: libp2p.getPeers().length,
        supernodes: await connectedSupernodes(node),
        reachability: reachability(node.role(), addrs),
        recordsHeld: await countStoredRecords(init.datastore),
        uptimeSeconds: Math.round((Date.now() - init.startedAt) / 1000),
        sip: await node.sip.gatewayStatus(),
        turn: turnStatus(node),
        usage: await usage(),
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
        node.peerId,
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
    inbox: async ({ limit }) => ({
      messages: await node.sip.history.list({
        direction: 'in',
        ...(limit != null ? { limit } : {}),
      }),
    }),
    lookup: async ({ name }) => {
      const found = await node.directory.lookup(name)
      if (found == null) throw new NotFoundError(`no user "${name}" in the overlay`)
      return { record: await contactRecordToJson(found.record, Date.now()) }
    },
  }
}

/** Connected peers that serve Kaiwa's DHT, i.e. supernodes this node is attached to. */
async function connectedSupernodes(node: KaiwaNode): Promise<string[]> {
  const libp2p = node.libp2p()
  const out: string[] = []
  for (const peer of libp2p.getPeers()) {
    try {
      const info = await libp2p.peerStore.get(peer)
      if (info.protocols.includes(KAIWA_DHT_PROTOCOL)) out.push(peer.toString())
    } catch {
      // not in the peer store yet
    }
  }
  return out
}

function turnStatus(node: KaiwaNode): ApiOutput<'status'>['turn'] {
  const t = node.turn.status()
  if (t == null) return null
  return { address: t.address, urls: t.urls, stats: { ...t.stats } as Record<string, number> }
}
