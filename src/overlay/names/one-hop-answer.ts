/**
 * UserDirectory's use of a one-hop lookup (lookup-types.ts OneHopLookup): the
 * supernode's answer is checked exactly as DHT answers are (every record's
 * signature, name and expiry: record-policy.ts), and used only when nothing
 * about it is doubtful. Anything else returns undefined and the caller walks
 * the DHT as before:
 *   - the lookup failed (no supernode, a table not yet complete, a timeout);
 *   - a record fails its checks, or one holder is listed twice: a supernode
 *     that passes on such an answer is not believed for the rest of it;
 *   - nobody answered, or some holders failed and none had a record (a "no
 *     such user" needs holders that said so);
 *   - the newest record under a key is older (`seq`) than one this node has
 *     already seen under that key (a supernode or holders serving old data).
 * An empty list means the holders answered and none holds the name.
 */
import { equals } from 'uint8arrays'
import { decodeContactRecord } from '../../shared/records/contact-record.js'
import type { ContactRecord } from '../../shared/records/contact-record.js'
import { isValid } from './directory-util.js'
import type { OneHopAnswer, OneHopLookup } from './lookup-types.js'
import type { Responder } from './quorum-read.js'

export async function readOneHop(
  oneHop: OneHopLookup,
  key: Uint8Array,
  options: { signal: AbortSignal; now: () => number; powBits: number; known?: ContactRecord },
): Promise<Responder[] | undefined> {
  let answer: OneHopAnswer
  try {
    answer = await oneHop(key, { early: true, signal: options.signal })
  } catch {
    return undefined
  }
  const responders: Responder[] = []
  for (const r of answer.records) {
    if (!(await isValid(key, r.bytes, options.now(), options.powBits))) return undefined
    if (responders.some((x) => x.peer === r.peer)) return undefined
    responders.push({ peer: r.peer, record: decodeContactRecord(r.bytes), bytes: r.bytes })
  }
  if (responders.length === 0) {
    return answer.answered > 0 && answer.failed === 0 ? [] : undefined
  }
  const known = options.known
  if (known != null) {
    const same = responders.filter((r) => equals(r.record.publicKey, known.publicKey))
    if (same.length > 0 && Math.max(...same.map((r) => r.record.seq)) < known.seq) return undefined
  }
  return responders
}
