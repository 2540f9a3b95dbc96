/**
 * The supernode's half of a one-hop lookup: ask the key's closest holders, from
 * the full supernode table, all at once, instead of walking towards them
 * round by round as kad-dht does.
 *
 * `fanout` holders (the quorum read's `max`, names/quorum-read.ts) are asked
 * in parallel; each one that fails, times out or returns an invalid record is
 * replaced by the next closest, so a supernode that left without a leave (its
 * entry not yet expired) costs one holder timeout, not the lookup. It stops:
 *   - early, when `agree` holders returned records under one key and the
 *     newest is acceptable (fresh), as the quorum read stops (when `early`);
 *   - when `fanout` holders have answered, or no candidate is left;
 *   - at the caller's signal, counting the holders still being read as failed.
 */
import type { ContactRecord } from '../../shared/records/contact-record.js'
import { agreed, type Responder } from '../names/quorum-read.js'

export interface OneHopReadInit {
  /** Holders asked at once, and answers wanted. @default 5 */
  fanout?: number
  /** Holders agreeing on one key that end the read early. @default 3 */
  agree?: number
  /** Deadline of each holder's read. @default 2000 */
  holderTimeoutMs?: number
}

export interface Holder {
  /** Peer id string. */
  id: string
  /** Its stored record's bytes, or undefined when it holds none. */
  read(signal: AbortSignal): Promise<Uint8Array | undefined>
}

export interface OneHopReadOutcome {
  responders: Responder[]
  answered: number
  failed: number
  /** Holders that failed or timed out (not those that sent an invalid record). */
  unreachable: string[]
}

export async function oneHopRead(
  holders: readonly Holder[],
  check: (bytes: Uint8Array) => Promise<ContactRecord | undefined>,
  init: OneHopReadInit,
  options: { early: boolean; signal: AbortSignal; acceptable: (r: ContactRecord) => boolean },
): Promise<OneHopReadOutcome> {
  const fanout = init.fanout ?? 5
  const agree = init.agree ?? 3
  const holderTimeoutMs = init.holderTimeoutMs ?? 2_000
  const responders: Responder[] = []
  const unreachable: string[] = []
  let answered = 0
  let failed = 0
  let next = 0
  let inflight = 0
  const stop = new AbortController()
  return new Promise((resolve) => {
    let done = false
    const finish = (): void => {
      if (done) return
      done = true
      stop.abort()
      options.signal.removeEventListener('abort', cut)
      resolve({ responders, answered, failed, unreachable })
    }
    // The deadline: holders still being read count as failed (no "nobody has it" from a cut read).
    const cut = (): void => {
      if (!done) failed += inflight
      finish()
    }
    const settle = (): void => {
      inflight--
      if (done) return
      if (options.early && agreed(responders, agree, options.acceptable, undefined)) return finish()
      launch()
      if (inflight === 0) finish()
    }
    const launch = (): void => {
      while (!done && next < holders.length && answered + inflight < fanout) {
        const h = holders[next++]!
        inflight++
        const signal = AbortSignal.any([
          options.signal,
          stop.signal,
          AbortSignal.timeout(holderTimeoutMs),
        ])
        h.read(signal)
          .then(async (bytes) => {
            if (bytes == null) {
              answered++
              return
            }
            const record = await check(bytes)
            if (record == null) {
              failed++
              return
            }
            answered++
            responders.push({ peer: h.id, record, bytes })
          })
          .catch(() => {
            failed++
            if (!stop.signal.aborted) unreachable.push(h.id)
          })
          .finally(settle)
      }
    }
    if (options.signal.aborted) return finish()
    options.signal.addEventListener('abort', cut, { once: true })
    launch()
    if (inflight === 0) finish()
  })
}
