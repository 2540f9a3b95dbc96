/**
 * `/kaiwa/account-sync/1.0.0`: one sealed sync batch (sync-wire.ts) from a
 * device to another device of the same account, one reply. Batches are small
 * (≤ 48 KiB), so the protocol also runs over a relayed connection, as SIP
 * signalling does; whatever the path, only the account's devices can open it.
 *
 *   request { b: batch bytes }      reply { ok: true } | { ok: false, error }
 */
import type { PeerId } from '@libp2p/interface'
import { requestCborRpc, serveCborRpc } from '../rpc/cbor-rpc.js'
import type { CborMap, DialerSlice } from '../rpc/cbor-rpc.js'
import { protocolService } from '../rpc/handler-service.js'
import { MAX_SYNC_BATCH_BYTES } from '../../shared/sync/sync-wire.js'
import { KaiwaError } from '../../shared/errors.js'
import type { Logger } from '../../shared/logger.js'

export const SYNC_PROTOCOL = '/kaiwa/account-sync/1.0.0'
const LIMITS = {
  protocol: SYNC_PROTOCOL,
  maxMessageBytes: MAX_SYNC_BATCH_BYTES + 64,
  timeoutMs: 10_000,
  limited: true,
}

/** The other device refused the batch (another account, a removed device, a forgery). */
export class SyncRefusedError extends KaiwaError {
  constructor(reason: string) {
    super(`the other device refused the sync: ${reason}`, 'rejected')
    this.name = 'SyncRefusedError'
  }
}

export interface SyncProtocolInit {
  /** Verify, open and apply a batch that `peer` (Noise-authenticated) sent; throws to refuse. */
  onBatch: (bytes: Uint8Array, peer: string) => Promise<void>
  log: Logger
}

export function syncProtocol(init: SyncProtocolInit): ReturnType<typeof protocolService> {
  return protocolService('account-sync', SYNC_PROTOCOL, (registrar) =>
    serveCborRpc(registrar, {
      ...LIMITS,
      maxInboundStreams: 4,
      handler: async (req: CborMap, { peer }): Promise<CborMap> => {
        if (!(req.b instanceof Uint8Array)) return { ok: false, error: 'no batch' }
        try {
          await init.onBatch(req.b, peer.toString())
          return { ok: true }
        } catch (err) {
          const reason = err instanceof Error ? err.message : String(err)
          init.log.warn(`refused a sync batch from ${peer.toString()}: ${reason}`)
          return { ok: false, error: reason.slice(0, 300) }
        }
      },
      onBadRequest: () => ({ ok: false, error: 'malformed request' }),
    }),
  )
}

/** Push one batch to `peer`; throws SyncRefusedError when it says no, a CborRpcError when unreachable. */
export async function pushSyncBatch(
  node: DialerSlice,
  peer: PeerId,
  batch: Uint8Array,
): Promise<void> {
  const reply = await requestCborRpc(node, peer, { b: batch }, LIMITS)
  if (reply.ok !== true)
    throw new SyncRefusedError(typeof reply.error === 'string' ? reply.error : 'no reason given')
}
