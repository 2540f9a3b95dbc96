/**
 * The two request/reply protocols of one-hop lookups (issue 16 §5), both
 * served by supernodes only, both cbor-rpc (one CBOR map each way):
 *
 *   client ──/kaiwa/one-hop/1.0.0──▶ its supernode ──/kaiwa/record-read/1.0.0──▶ holders
 *          { k: key, e: early }                     { k: key }
 *          ◀── { r: [[holder, record]…], n, f }     ◀── { b?: record }
 *              or { x: 'not-ready' | 'bad-key' }        or { x: 'bad-key' }
 *
 * `k` is a contact-record DHT key (`/kaiwa-user/<name>`, dht-key.ts); any
 * other key is refused ('bad-key'), so neither protocol reads anything else
 * from a node's store. Records travel as the holders stored them; the client
 * checks each one (signature, name, expiry: record-policy.ts) before it
 * believes it. `holder` is a peer id multihash, `n` the holders that answered,
 * `f` those that failed.
 */
import type { PeerId } from '@libp2p/interface'
import { peerIdFromMultihash, peerIdFromString } from '@libp2p/peer-id'
import { decode as decodeMultihash } from 'multiformats/hashes/digest'
import { KaiwaError } from '../../shared/errors.js'
import type { Logger } from '../../shared/logger.js'
import { MAX_RECORD_BYTES } from '../../shared/records/record-policy.js'
import { nameFromRecordKey } from '../../shared/records/dht-key.js'
import type { OneHopAnswer } from '../names/lookup-types.js'
import { requestCborRpc, serveCborRpc } from '../rpc/cbor-rpc.js'
import type { CborMap, DialerSlice, RegistrarSlice } from '../rpc/cbor-rpc.js'

export const ONE_HOP_PROTOCOL = '/kaiwa/one-hop/1.0.0'
export const RECORD_READ_PROTOCOL = '/kaiwa/record-read/1.0.0'
/** Most records one one-hop reply carries (the read's fan-out and its replacements). */
export const MAX_ONE_HOP_RECORDS = 8
const MAX_KEY_BYTES = 128
const READ_BYTES = MAX_RECORD_BYTES + 64
const ONE_HOP_BYTES = MAX_ONE_HOP_RECORDS * (MAX_RECORD_BYTES + 64) + 64

/** A one-hop lookup could not be made (no supernode, a table not complete yet, a bad reply). */
export class OneHopUnavailableError extends KaiwaError {
  constructor(message: string, cause?: unknown) {
    super(message, 'unavailable', cause === undefined ? undefined : { cause })
    this.name = 'OneHopUnavailableError'
  }
}

/** Accepts only a contact-record key; anything else is a bad request. */
export function checkKey(k: unknown): Uint8Array | undefined {
  if (!(k instanceof Uint8Array) || k.byteLength > MAX_KEY_BYTES) return undefined
  try {
    nameFromRecordKey(k)
    return k
  } catch {
    return undefined
  }
}

export interface OneHopServer {
  lookup(key: Uint8Array, options: { early: boolean; signal: AbortSignal }): Promise<OneHopAnswer>
  /** The record this node stores for `key`, as stored. */
  readLocal(key: Uint8Array): Promise<Uint8Array | undefined>
}

/** Serve both protocols; resolves to a function that stops serving them. */
export async function serveOneHop(
  registrar: RegistrarSlice,
  server: OneHopServer,
  log: Logger,
): Promise<() => Promise<void>> {
  const stopRead = await serveCborRpc(registrar, {
    protocol: RECORD_READ_PROTOCOL,
    maxMessageBytes: READ_BYTES,
    maxInboundStreams: 32,
    log,
    handler: async (req) => {
      const key = checkKey(req.k)
      if (key == null) return { x: 'bad-key' }
      const bytes = await server.readLocal(key)
      return bytes == null ? {} : { b: bytes }
    },
  })
  const stopLookup = await serveCborRpc(registrar, {
    protocol: ONE_HOP_PROTOCOL,
    maxMessageBytes: ONE_HOP_BYTES,
    maxInboundStreams: 16,
    timeoutMs: 6_000,
    log,
    handler: async (req, ctx) => {
      const key = checkKey(req.k)
      if (key == null) return { x: 'bad-key' }
      let answer: OneHopAnswer
      try {
        answer = await server.lookup(key, { early: req.e !== false, signal: ctx.signal })
      } catch (err) {
        if (err instanceof OneHopUnavailableError) return { x: 'not-ready' }
        throw err
      }
      return {
        r: answer.records.slice(0, MAX_ONE_HOP_RECORDS).map((r) => [peerBytes(r.peer), r.bytes]),
        n: answer.answered,
        f: answer.failed,
      } satisfies CborMap
    },
  })
  return async () => {
    await Promise.allSettled([stopRead(), stopLookup()])
  }
}

/** Ask `peer` (a holder) for the record it stores under `key`. */
export async function requestRecord(
  dialer: DialerSlice,
  peer: PeerId,
  key: Uint8Array,
  options: { signal: AbortSignal; timeoutMs: number },
): Promise<Uint8Array | undefined> {
  const reply = await requestCborRpc(
    dialer,
    peer,
    { k: key },
    { protocol: RECORD_READ_PROTOCOL, maxMessageBytes: READ_BYTES, ...options },
  )
  if (reply.x !== undefined) throw new OneHopUnavailableError(`holder refused: ${String(reply.x)}`)
  if (reply.b === undefined) return undefined
  if (!(reply.b instanceof Uint8Array)) throw new OneHopUnavailableError('holder sent no bytes')
  return reply.b
}

/** Ask `peer` (this node's supernode) to look `key` up in one hop. */
export async function requestOneHop(
  dialer: DialerSlice,
  peer: PeerId,
  key: Uint8Array,
  options: { early: boolean; signal: AbortSignal; timeoutMs: number },
): Promise<OneHopAnswer> {
  let reply: CborMap
  try {
    reply = await requestCborRpc(
      dialer,
      peer,
      { k: key, e: options.early },
      {
        protocol: ONE_HOP_PROTOCOL,
        maxMessageBytes: ONE_HOP_BYTES,
        signal: options.signal,
        timeoutMs: options.timeoutMs,
      },
    )
  } catch (err) {
    throw new OneHopUnavailableError(`one-hop lookup through ${peer.toString()} failed`, err)
  }
  return parseAnswer(reply)
}

/** The reply's strict reading: any deviation is a failed one-hop lookup, never a partial answer. */
export function parseAnswer(reply: CborMap): OneHopAnswer {
  const fail = (why: string): never => {
    throw new OneHopUnavailableError(`one-hop reply: ${why}`)
  }
  if (reply.x !== undefined) fail(`supernode says ${String(reply.x)}`)
  const { r, n, f } = reply
  if (!Array.isArray(r) || r.length > MAX_ONE_HOP_RECORDS) fail('bad record list')
  if (!isCount(n) || !isCount(f)) fail('bad counts')
  const records = (r as unknown[]).map((pair) => {
    if (!Array.isArray(pair) || pair.length !== 2) return fail('bad record entry')
    const [p, b] = pair as unknown[]
    if (!(p instanceof Uint8Array) || !(b instanceof Uint8Array)) return fail('bad record entry')
    if (b.byteLength > MAX_RECORD_BYTES) return fail('record too large')
    return { peer: peerString(p) ?? fail('bad holder id'), bytes: b }
  })
  return { records, answered: n as number, failed: f as number }
}

const isCount = (x: unknown): boolean => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0

function peerBytes(id: string): Uint8Array {
  return peerIdFromString(id).toMultihash().bytes
}

function peerString(bytes: Uint8Array): string | undefined {
  try {
    return peerIdFromMultihash(decodeMultihash(bytes)).toString()
  } catch {
    return undefined
  }
}
