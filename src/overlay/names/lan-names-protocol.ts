/**
 * `/kaiwa/lan-names/1.0.0`: LAN peers ask each other for names and offer
 * their own claims, when no supernode is around (lan-name-table.ts says why a
 * LAN replicates every name). One request, one reply, each a length-prefixed
 * CBOR map (../rpc/cbor-rpc.ts):
 *
 *   { v: 1, get: NAME }    -> { record: BYTES } | {}
 *   { v: 1, put: BYTES }   -> { ok: true } | { ok: false, code, reason, held?: BYTES }
 *
 * `code` is `name_taken` (another key holds the name here; `held` is its
 * record, so the claimant sees whose) or `refused` (invalid, stale, not the
 * sender's own record, table full). Only peers on a LAN link may ask or offer:
 * a direct connection (not relayed) from a private, loopback or link-local
 * address. Anyone else gets `{ error: 'not_lan' }`: a peer on the internet
 * must neither fill this node's LAN table nor read it.
 */
import { isPrivate } from '@libp2p/utils'
import type { Connection, PeerId } from '@libp2p/interface'
import { KaiwaError, NameTakenError } from '../../shared/errors.js'
import type { Logger } from '../../shared/logger.js'
import { decodeContactRecord } from '../../shared/records/contact-record.js'
import { MAX_RECORD_BYTES } from '../../shared/records/record-policy.js'
import { isValidUserId } from '../../shared/user-id.js'
import { requestCborRpc, serveCborRpc } from '../rpc/cbor-rpc.js'
import type { DialerSlice, RegistrarSlice } from '../rpc/cbor-rpc.js'
import type { LanNameTable } from './lan-name-table.js'

export const LAN_NAMES_PROTOCOL = '/kaiwa/lan-names/1.0.0'
const LIMITS = {
  protocol: LAN_NAMES_PROTOCOL,
  maxMessageBytes: MAX_RECORD_BYTES + 512,
  timeoutMs: 3000,
}

/** The peer answered that we are not on its LAN, or sent a reply we cannot read. */
export class LanNamesRefusedError extends KaiwaError {
  constructor(message: string) {
    super(message, 'rejected')
    this.name = 'LanNamesRefusedError'
  }
}

/**
 * Is this connection a LAN link? Direct (no circuit relay, no limits) and
 * from a private (RFC 1918, RFC 6598 shared), loopback or link-local address.
 */
export function isLanConnection(conn: Pick<Connection, 'remoteAddr' | 'limits'>): boolean {
  if (conn.limits != null) return false
  if (conn.remoteAddr.toString().includes('/p2p-circuit')) return false
  try {
    return isPrivate(conn.remoteAddr)
  } catch {
    return false
  }
}

export interface LanNamesServerInit {
  registrar: RegistrarSlice
  table: LanNameTable
  log: Logger
}

export async function serveLanNames(init: LanNamesServerInit): Promise<() => Promise<void>> {
  return serveCborRpc(init.registrar, {
    ...LIMITS,
    maxInboundStreams: 32,
    handler: async (req, { peer, connection }) => {
      if (!isLanConnection(connection)) return { error: 'not_lan' }
      if (typeof req.get === 'string') {
        if (!isValidUserId(req.get)) return {}
        const held = await init.table.get(req.get)
        return held != null ? { record: held.bytes } : {}
      }
      if (req.put instanceof Uint8Array) return offered(init, req.put, peer)
      return { ok: false, code: 'refused', reason: 'unknown request' }
    },
    onBadRequest: () => ({ ok: false, code: 'refused', reason: 'unreadable request' }),
    log: init.log,
  })
}

async function offered(
  init: LanNamesServerInit,
  bytes: Uint8Array,
  peer: PeerId,
): Promise<Record<string, unknown>> {
  try {
    await init.table.admit(bytes, peer.toString())
    return { ok: true }
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err)
    init.log.debug(`refused a LAN name from ${peer.toString()}: ${reason}`)
    if (err instanceof NameTakenError) {
      // admit() decoded the bytes before it could find the name taken.
      const held = await init.table.get(decodeContactRecord(bytes).name)
      return { ok: false, code: 'name_taken', reason, ...(held ? { held: held.bytes } : {}) }
    }
    return { ok: false, code: 'refused', reason }
  }
}

/** Ask `peer` for its record of `name`: the record's bytes, or undefined when it holds none. */
export async function requestLanName(
  node: DialerSlice,
  peer: PeerId,
  name: string,
  signal?: AbortSignal,
): Promise<Uint8Array | undefined> {
  const reply = await requestCborRpc(node, peer, { v: 1, get: name }, { ...LIMITS, signal })
  if (reply.error != null) throw new LanNamesRefusedError(`${peer.toString()}: ${reply.error}`)
  return reply.record instanceof Uint8Array ? reply.record : undefined
}

export type OfferReply =
  { ok: true } | { ok: false; code: 'name_taken' | 'refused'; reason: string; held?: Uint8Array }

/** Offer our record to `peer`; what it answered. */
export async function offerLanName(
  node: DialerSlice,
  peer: PeerId,
  bytes: Uint8Array,
  signal?: AbortSignal,
): Promise<OfferReply> {
  const reply = await requestCborRpc(node, peer, { v: 1, put: bytes }, { ...LIMITS, signal })
  if (reply.ok === true) return { ok: true }
  if (reply.error != null) throw new LanNamesRefusedError(`${peer.toString()}: ${reply.error}`)
  return {
    ok: false,
    code: reply.code === 'name_taken' ? 'name_taken' : 'refused',
    reason: typeof reply.reason === 'string' ? reply.reason.slice(0, 300) : 'refused',
    ...(reply.held instanceof Uint8Array ? { held: reply.held } : {}),
  }
}
