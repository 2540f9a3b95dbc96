/**
 * A small reader for the WAV files the test phones write: RIFF/WAVE with a
 * `fmt ` chunk of PCM (format 1, or WAVE_FORMAT_EXTENSIBLE with the PCM
 * sub-format) at 16 bits per sample, any rate, any channel count (mixed down
 * to mono).
 *
 * What the phones actually write (measured): baresip 1.0's `sndfile` module,
 * 8 kHz mono PCM16 with a correct header (a stream that never decoded a frame
 * leaves a 44-byte file with an empty data chunk); linphonec 5.1's file-mode
 * recorder, 8 kHz mono PCM16 whose data chunk claims 44 bytes more than the
 * file holds. So a data size of 0, 0xFFFFFFFF (a header never finalized) or
 * past the end of the file is read as "up to the end of the file".
 */
import { readFile } from 'node:fs/promises'

/** The file is not a WAV this reader understands; the message says why. */
export class WavFormatError extends Error {
  static override readonly name = 'WavFormatError'
  constructor(path: string, why: string) {
    super(`${path}: ${why}`)
    this.name = WavFormatError.name
  }
}

export interface WavAudio {
  sampleRate: number
  /** Channels in the file (the samples below are their average). */
  channels: number
  /** Mono samples scaled to [-1, 1). */
  samples: Float64Array
}

const PCM = 1
const EXTENSIBLE = 0xfffe

export async function readWav(path: string): Promise<WavAudio> {
  return parseWav(await readFile(path), path)
}

export function parseWav(buf: Buffer, path = 'WAV'): WavAudio {
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF')
    throw new WavFormatError(path, 'no RIFF header')
  if (buf.toString('latin1', 8, 12) !== 'WAVE') throw new WavFormatError(path, 'not RIFF/WAVE')
  let fmt: { channels: number; sampleRate: number } | undefined
  let at = 12
  while (at + 8 <= buf.length) {
    const id = buf.toString('latin1', at, at + 4)
    const size = buf.readUInt32LE(at + 4)
    const body = at + 8
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.length) throw new WavFormatError(path, 'short fmt chunk')
      const format = buf.readUInt16LE(body)
      const sub = format === EXTENSIBLE && size >= 26 ? buf.readUInt16LE(body + 24) : format
      if (sub !== PCM) throw new WavFormatError(path, `not PCM (format ${format})`)
      const channels = buf.readUInt16LE(body + 2)
      const sampleRate = buf.readUInt32LE(body + 4)
      const bits = buf.readUInt16LE(body + 14)
      if (bits !== 16) throw new WavFormatError(path, `${bits}-bit samples (PCM16 only)`)
      if (channels < 1 || sampleRate < 1)
        throw new WavFormatError(path, `bad fmt (${channels} channels, ${sampleRate} Hz)`)
      fmt = { channels, sampleRate }
    } else if (id === 'data') {
      if (fmt == null) throw new WavFormatError(path, 'data chunk before fmt chunk')
      const left = buf.length - body
      const bytes = size === 0 || size === 0xffffffff || size > left ? left : size
      return { ...fmt, samples: mixDown(buf, body, bytes, fmt.channels) }
    }
    // RIFF chunks are padded to an even size.
    at = body + size + (size & 1)
  }
  throw new WavFormatError(path, fmt == null ? 'no fmt chunk' : 'no data chunk')
}

function mixDown(buf: Buffer, from: number, bytes: number, channels: number): Float64Array {
  const frames = Math.floor(bytes / (2 * channels))
  const out = new Float64Array(frames)
  for (let i = 0; i < frames; i++) {
    let sum = 0
    for (let c = 0; c < channels; c++) sum += buf.readInt16LE(from + 2 * (i * channels + c))
    out[i] = sum / channels / 32768
  }
  return out
}
