/**
 * What the API shows of a transfer: its stored entry, with progress, rate and
 * time left worked out here (rates from the acknowledgements the sender saw,
 * or from the receiver's own successive looks at its verified chunks).
 */
import type { FileTransferJson, ReceivedFileJson } from '../../shared/api/contract.js'
import { chunkCount, chunkLength, decodeFileOffer } from '../../shared/files/file-offer.js'
import { hasBit } from '../../shared/files/file-wire.js'
import type { StoredIncomingFile, StoredOutgoingFile } from './file-store.js'
import { fromB64 } from './file-util.js'
import type { SendStats } from './outgoing-files.js'

export type TransferView = FileTransferJson
export type ReceivedFile = ReceivedFileJson

const RATE_WINDOW_MS = 5_000
/** The receiver's looks at its progress, per transfer (for a rate between looks). */
const looks = new Map<string, Array<[number, number]>>()

function rateOf(samples: Array<[number, number]>, now: number): number {
  const recent = samples.filter(([t]) => now - t <= RATE_WINDOW_MS)
  if (recent.length < 2) return 0
  const [t0, b0] = recent[0]!
  const [t1, b1] = recent.at(-1)!
  return t1 > t0 ? Math.round(((b1 - b0) * 1000) / (t1 - t0)) : 0
}

export function transferView(
  entry: { out: StoredOutgoingFile } | { in: StoredIncomingFile },
  stats?: SendStats,
): TransferView {
  const now = Date.now()
  const e = 'out' in entry ? entry.out : entry.in
  const offer = decodeFileOffer(fromB64(e.offer))
  let bytesDone: number
  let rate: number
  if ('out' in entry) {
    const acked = Math.min(offer.size, entry.out.ackedChunks * offer.chunkSize)
    bytesDone =
      entry.out.status === 'complete' || entry.out.status === 'mailed'
        ? offer.size
        : Math.max(acked, stats?.ackedBytes ?? 0)
    rate = entry.out.status === 'sending' ? rateOf(stats?.samples ?? [], now) : 0
  } else {
    const have = fromB64(entry.in.have)
    bytesDone = 0
    for (let i = 0; i < chunkCount(offer.size, offer.chunkSize); i++)
      if (hasBit(have, i)) bytesDone += chunkLength(offer, i)
    if (entry.in.status === 'complete') bytesDone = offer.size
    const mine = looks.get(e.id) ?? []
    mine.push([now, bytesDone])
    if (mine.length > 32) mine.shift()
    looks.set(e.id, mine)
    rate = entry.in.status === 'receiving' ? rateOf(mine, now) : 0
  }
  const left = offer.size - bytesDone
  return {
    id: e.id,
    direction: 'out' in entry ? 'out' : 'in',
    peer: 'out' in entry ? entry.out.to : entry.in.from,
    name: offer.name,
    mime: offer.mime,
    size: offer.size,
    sha256: Buffer.from(offer.sha256).toString('hex'),
    status: e.status,
    note: e.note,
    bytesDone,
    rate,
    secondsLeft: rate > 0 ? Math.ceil(left / rate) : null,
    path: 'out' in entry ? entry.out.path : entry.in.path,
    createdAt: new Date(e.createdAt).toISOString(),
    ...('in' in entry ? { verification: entry.in.verification, via: entry.in.via } : {}),
    ...(stats != null ? { resumedFrom: stats.resumedFrom, sessionBytes: stats.sessionBytes } : {}),
  }
}
