/**
 * `/kaiwa/supernode-table/1.0.0`: how a new supernode gets the current table
 * (issue 16 §5). Gossip carries only what happens from now on; a supernode
 * that has just joined asks one supernode already on the topic for every
 * event it holds, in pages (cbor-rpc: one request, one reply each):
 *
 *   request  { a?: <peer id multihash> }   the page after this peer (absent: the first)
 *   reply    { e: [<event bytes>…], m: bool }   at most PAGE_EVENTS, ordered by peer; m: more follow
 *
 * Each event carries its own signature (membership-event.ts), so the asker
 * checks every entry as it would a gossiped one and trusts the answering peer
 * for nothing but completeness. Why pull from one peer rather than have every
 * member re-announce when it sees a new subscriber: at 10^4 supernodes a
 * re-announce storm would cost every join 10^4 messages on every mesh link;
 * one paged pull costs one table (~3 MB at 10^4) on one link.
 */
import type { PeerId } from '@libp2p/interface'
import { compare } from 'uint8arrays'
import type { Logger } from '../../shared/logger.js'
import { MAX_EVENT_BYTES } from '../../shared/supernodes/membership-event.js'
import { requestCborRpc, serveCborRpc } from '../rpc/cbor-rpc.js'
import type { CborMap, DialerSlice, RegistrarSlice } from '../rpc/cbor-rpc.js'

export const TABLE_SYNC_PROTOCOL = '/kaiwa/supernode-table/1.0.0'
/** Events per reply page. */
export const PAGE_EVENTS = 200
const MAX_MESSAGE_BYTES = PAGE_EVENTS * (MAX_EVENT_BYTES + 8) + 256
/** Most pages one pull reads (2,000 × 200 = 400,000 events: beyond any table we hold). */
const MAX_PAGES = 2_000

export interface TableSource {
  /** Every held event's bytes with the peer multihash it is about, for paging. */
  snapshot(): Array<{ peer: Uint8Array; bytes: Uint8Array }>
}

export async function serveTableSync(
  registrar: RegistrarSlice,
  source: TableSource,
  log: Logger,
): Promise<() => Promise<void>> {
  return serveCborRpc(registrar, {
    protocol: TABLE_SYNC_PROTOCOL,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    maxInboundStreams: 4,
    log,
    handler: (req) => {
      const after = req.a
      if (after !== undefined && !(after instanceof Uint8Array)) throw new Error('bad cursor')
      const all = source
        .snapshot()
        .filter((e) => after === undefined || compare(e.peer, after) > 0)
        .sort((x, y) => compare(x.peer, y.peer))
      const page = all.slice(0, PAGE_EVENTS)
      return { e: page.map((e) => e.bytes), m: all.length > PAGE_EVENTS } satisfies CborMap
    },
  })
}

/**
 * Pull a peer's whole table, page by page, handing each event's bytes to
 * `take`, which checks and admits it and returns the peer it is about (even
 * when refusing it), or undefined when the bytes are no event at all.
 * Resolves to how many events arrived.
 */
export async function pullTable(
  node: DialerSlice,
  peer: PeerId,
  take: (bytes: Uint8Array) => Promise<Uint8Array | undefined>,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<number> {
  let after: Uint8Array | undefined
  let count = 0
  for (let page = 0; page < MAX_PAGES; page++) {
    const reply = await requestCborRpc(node, peer, after === undefined ? {} : { a: after }, {
      protocol: TABLE_SYNC_PROTOCOL,
      maxMessageBytes: MAX_MESSAGE_BYTES,
      timeoutMs: options.timeoutMs ?? 10_000,
      ...(options.signal != null ? { signal: options.signal } : {}),
    })
    const events = reply.e
    if (!Array.isArray(events) || events.length > PAGE_EVENTS || typeof reply.m !== 'boolean') {
      throw new TypeError(`${TABLE_SYNC_PROTOCOL}: malformed page`)
    }
    let last: Uint8Array | undefined
    for (const bytes of events) {
      if (!(bytes instanceof Uint8Array)) throw new TypeError(`${TABLE_SYNC_PROTOCOL}: bad entry`)
      count++
      last = (await take(bytes)) ?? last
    }
    // The cursor is the last event's peer; a page of garbage, or one going backwards, ends the pull.
    if (!reply.m || last == null || (after != null && compare(last, after) <= 0)) return count
    after = last
  }
  return count
}
