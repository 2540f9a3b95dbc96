/**
 * A lookup that reads several of the closest nodes instead of believing the
 * first one that answers, so one node serving a hijacked claim is outvoted
 * and, more importantly, seen.
 *
 * The DHT's `get` query emits a PEER_RESPONSE for every server it asks, with
 * that server's record (already passed through our validator by kad-dht). We
 * collect them, one per peer, and stop:
 *   - early, as soon as `agree` responders hold records under one key and no
 *     responder disagrees (the fast path: one `get`, a few round trips), when
 *     the caller allows an early stop, and the newest of them is at least as
 *     new (`seq`) as the newest record the caller has already seen under that
 *     key: a lookup never settles for an older record than one it knows of
 *     (a supernode restarted with old data answering first, issue 13);
 *   - after `max` responders with records;
 *   - `settleMs` after the first record, taking what has arrived by then;
 *   - when the query ends, or at the caller's deadline.
 * Breaking out of the query also skips kad-dht's end-of-query "correction",
 * which would push its pick to every peer that disagreed.
 */
import { equals } from 'uint8arrays'
import type { KadDHT } from '@libp2p/kad-dht'
import { decodeContactRecord, type ContactRecord } from '../../shared/records/contact-record.js'

export interface QuorumReadInit {
  /**
   * Responders that must agree (same key, none disagreeing) to stop early.
   * @default 3
   */
  agree?: number
  /**
   * Most responders with records to collect.
   * @default 5
   */
  max?: number
  /**
   * How long to keep collecting after the first record arrived.
   * @default 1500
   */
  settleMs?: number
}

export interface Responder {
  /** Peer id string of the DHT server that answered. */
  peer: string
  record: ContactRecord
  bytes: Uint8Array
}

export interface QuorumReadOutcome {
  responders: Responder[]
  /** Servers that answered (with or without a record). */
  answered: number
  /** Servers that failed or timed out, or served an invalid record. */
  failed: number
  /** The error that ended the query, if it did not end normally. */
  error?: unknown
}

export interface QuorumReadOptions {
  signal: AbortSignal
  /** Stop as soon as `agree` responders agree; true for ordinary lookups. */
  early: boolean
  /** Extra stop condition for the early path, e.g. "the agreed record is fresh". */
  acceptable?: (r: ContactRecord) => boolean
  /** Responders already known (this node's own store), counted like any other. */
  seed?: Responder[]
  /**
   * The newest record the caller has seen for this key (from earlier lookups
   * or its own publish): no early stop on an older `seq` under its account key.
   */
  known?: ContactRecord
}

export async function quorumRead(
  dht: Pick<KadDHT, 'get'>,
  key: Uint8Array,
  init: QuorumReadInit,
  options: QuorumReadOptions,
): Promise<QuorumReadOutcome> {
  const agree = init.agree ?? 3
  const max = init.max ?? 5
  const settleMs = init.settleMs ?? 1500
  const responders: Responder[] = [...(options.seed ?? [])]
  const settle = new AbortController()
  let timer: ReturnType<typeof setTimeout> | undefined
  const startSettle = (): void => {
    timer ??= setTimeout(() => settle.abort(), settleMs)
  }
  if (responders.length > 0) startSettle()
  const done = (): boolean =>
    responders.length >= max ||
    (options.early && agreed(responders, agree, options.acceptable ?? (() => true), options.known))
  let answered = 0
  let failed = 0
  let error: unknown
  try {
    if (!done()) {
      const signal = AbortSignal.any([options.signal, settle.signal])
      for await (const ev of dht.get(key, { signal })) {
        if (ev.name === 'QUERY_ERROR') failed++
        // PUT_VALUE responses come from kad-dht's correction step, not from a read.
        if (ev.name !== 'PEER_RESPONSE' || ev.messageName !== 'GET_VALUE') continue
        answered++
        if (ev.record == null) continue
        const peer = ev.from.toString()
        if (responders.some((r) => r.peer === peer)) continue
        const bytes = ev.record.value
        responders.push({ peer, record: decodeContactRecord(bytes), bytes })
        startSettle()
        if (done()) break
      }
    }
  } catch (err) {
    // The settle deadline is an ordinary end; anything else is for the caller to judge.
    if (!settle.signal.aborted || options.signal.aborted) error = err
  } finally {
    clearTimeout(timer)
  }
  return { responders, answered, failed, ...(error !== undefined ? { error } : {}) }
}

/**
 * `n` or more responders, all under one key, and the newest of them (by the
 * signed `seq`) acceptable and no older than `known` when `known` is under
 * the same key.
 */
export function agreed(
  rs: readonly Responder[],
  n: number,
  acceptable: (r: ContactRecord) => boolean,
  known: ContactRecord | undefined,
): boolean {
  if (rs.length < n) return false
  const k = rs[0]!.record.publicKey
  if (!rs.every((r) => equals(r.record.publicKey, k))) return false
  const newest = rs.reduce((a, b) => (b.record.seq > a.record.seq ? b : a))
  if (known != null && equals(known.publicKey, k) && newest.record.seq < known.seq) return false
  return acceptable(newest.record)
}
