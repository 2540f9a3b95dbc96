/**
 * What tone a stock phone heard during one call. Before the call, mark how
 * much each of its recordings holds; after it, take the recording written
 * since (baresip writes one `dump-<second>-dec.wav` per call; linphonec
 * appends every call to its one `heard.wav`), once the phone has finished
 * writing it (its size holds still between two looks), and analyse only the
 * samples added since the mark for the far phone's tone.
 */
import { stat } from 'node:fs/promises'
import type { StockPhone } from './stock-phone.js'
import { analyseTone } from './tone-analysis.js'
import type { ToneReport } from './tone-analysis.js'
import { readWav } from './wav-file.js'

/** The phone wrote no recording during the call. */
export class NoRecordingError extends Error {
  static override readonly name = 'NoRecordingError'
  constructor(phone: StockPhone, since: number) {
    super(`${phone.kind} (${phone.aor}) wrote no recording since ${new Date(since).toISOString()}`)
    this.name = NoRecordingError.name
  }
}

/** Each recording's length (samples) and size (bytes) before a call. */
export interface RecordingMark {
  at: number
  files: Map<string, { samples: number; size: number }>
}

export interface HeardTone extends ToneReport {
  file: string
  sampleRate: number
}

const SETTLE_POLL_MS = 200

/** Take before dialling: what `phone` has recorded so far. */
export async function markRecordings(phone: StockPhone): Promise<RecordingMark> {
  const at = Date.now()
  const files = new Map<string, { samples: number; size: number }>()
  for (const file of await phone.recordings()) {
    const s = await stat(file).catch(() => undefined)
    const wav = await readWav(file).catch(() => undefined)
    if (s != null && wav != null) files.set(file, { samples: wav.samples.length, size: s.size })
  }
  return { at, files }
}

/**
 * Analyse for `hz` what `phone` recorded since `mark`, waiting up to
 * `timeoutMs` for the recording to appear and settle.
 */
export async function heardTone(
  phone: StockPhone,
  mark: RecordingMark,
  hz: number,
  timeoutMs = 3000,
): Promise<HeardTone> {
  const deadline = Date.now() + timeoutMs
  let last: { file: string; size: number } | undefined
  for (;;) {
    const newest = await newestSince(phone, mark)
    const settled = newest != null && last?.file === newest.file && last.size === newest.size
    // Still growing at the deadline: analyse what is there.
    if (settled || (newest != null && Date.now() > deadline)) return analyse(newest.file, mark, hz)
    if (Date.now() > deadline) throw new NoRecordingError(phone, mark.at)
    last = newest
    await new Promise((r) => setTimeout(r, SETTLE_POLL_MS))
  }
}

async function analyse(file: string, mark: RecordingMark, hz: number): Promise<HeardTone> {
  const wav = await readWav(file)
  // A file shorter than at the mark was rewritten: all of it is new.
  const before = mark.files.get(file)?.samples ?? 0
  const from = before <= wav.samples.length ? before : 0
  return {
    file,
    sampleRate: wav.sampleRate,
    ...analyseTone(wav.samples.subarray(from), wav.sampleRate, hz),
  }
}

/** The most recently written recording that is new or changed since the mark. */
async function newestSince(
  phone: StockPhone,
  mark: RecordingMark,
): Promise<{ file: string; size: number } | undefined> {
  let best: { file: string; size: number; mtime: number } | undefined
  for (const file of await phone.recordings()) {
    const s = await stat(file).catch(() => undefined)
    if (s == null || s.mtimeMs < mark.at || mark.files.get(file)?.size === s.size) continue
    if (best == null || s.mtimeMs > best.mtime) best = { file, size: s.size, mtime: s.mtimeMs }
  }
  return best
}
