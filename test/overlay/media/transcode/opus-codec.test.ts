import { afterEach, describe, expect, it } from 'vitest'
import {
  OPUS_FRAME_SAMPLES,
  OpusCodec,
  OpusCodecError,
  OpusDecodeError,
} from '../../../../src/overlay/media/transcode/opus-codec.js'
import { rms, tone, toneSnrDb, zeroCrossingHz } from './signal.js'

const codecs: OpusCodec[] = []
const make = (...args: ConstructorParameters<typeof OpusCodec>): OpusCodec => {
  const c = new OpusCodec(...args)
  codecs.push(c)
  return c
}
afterEach(() => {
  for (const c of codecs.splice(0)) c.destroy()
})

/** `frames` 20 ms frames of a 440 Hz tone at 48 kHz, continuing in phase. */
const frames = (n: number, hz = 440): Int16Array[] =>
  Array.from({ length: n }, (_, f) =>
    tone(hz, 48_000, OPUS_FRAME_SAMPLES, 8000, f * OPUS_FRAME_SAMPLES),
  )

describe('OpusCodec', () => {
  it('encodes 20 ms frames to SILK narrowband packets of about 32 kbit/s and decodes them back', () => {
    const c = make()
    const packets = frames(50).map((f) => c.encode(f))
    // RFC 6716 §3.1: configs 0–3 are SILK-only narrowband; config 1 is 20 ms.
    expect(packets[10]![0]! >> 3).toBe(1)
    const bytes = packets.slice(5).reduce((n, p) => n + p.length, 0)
    const kbps = (bytes * 8) / (45 * 20)
    expect(kbps).toBeGreaterThan(15)
    expect(kbps).toBeLessThan(40)
    const pcm = packets.map((p) => c.decode(p))
    expect(pcm.every((x) => x.length === OPUS_FRAME_SAMPLES)).toBe(true)
    const tail = new Int16Array(30 * OPUS_FRAME_SAMPLES)
    pcm.slice(20).forEach((x, i) => tail.set(x, i * OPUS_FRAME_SAMPLES))
    expect(zeroCrossingHz(tail, 48_000)).toBeCloseTo(440, 0)
    expect(toneSnrDb(tail, 440, 48_000)).toBeGreaterThan(15)
  })

  it('spends bits on in-band FEC only when asked to', () => {
    const withFec = make({ inbandFec: true, packetLossPercent: 20 })
    const without = make({ inbandFec: false })
    const size = (c: OpusCodec) => frames(50).reduce((n, f) => n + c.encode(f).length, 0)
    const a = size(withFec)
    const b = size(without)
    // Same bitrate target: FEC takes its share from the primary coding, so the
    // packets are not larger, but not identical either.
    expect(a).not.toBe(b)
  })

  it('conceals lost audio with PLC that continues the signal', () => {
    const c = make()
    for (const f of frames(20)) c.decode(c.encode(f))
    const plc = c.conceal(OPUS_FRAME_SAMPLES)
    expect(plc.length).toBe(OPUS_FRAME_SAMPLES)
    expect(rms(plc)).toBeGreaterThan(1000) // not silence: the tone carries on
    const longer = c.conceal(OPUS_FRAME_SAMPLES * 2 + 480)
    expect(longer.length).toBe(OPUS_FRAME_SAMPLES * 2 + 480)
    expect(make().conceal(960)).toEqual(new Int16Array(960)) // nothing decoded yet: silence
  })

  it('throws the named OpusDecodeError for a packet libopus rejects, and keeps working', () => {
    const c = make()
    const good = c.encode(frames(1)[0]!)
    for (const bad of [Uint8Array.of(0xff, 0xff, 0xff), new Uint8Array(0), new Uint8Array(4000)]) {
      let err: unknown
      try {
        c.decode(bad)
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(OpusDecodeError)
      expect((err as Error).name).toBe('OpusDecodeError')
    }
    expect(c.decode(good).length).toBe(OPUS_FRAME_SAMPLES)
  })

  it('refuses frames Opus cannot code, and any use after destroy()', () => {
    const c = make()
    expect(() => c.encode(new Int16Array(1000))).toThrow(OpusCodecError)
    c.destroy()
    c.destroy() // idempotent
    expect(() => c.encode(new Int16Array(960))).toThrow(/destroyed/)
    expect(() => c.decode(Uint8Array.of(8))).toThrow(OpusCodecError)
  })

  it('stays correct with hundreds of codecs and a growing WASM heap (opusscript’s own wrapper breaks here)', () => {
    const many = Array.from({ length: 250 }, () => make())
    const input = frames(5)
    const reference = input.map((f) => many[0]!.encode(f))
    for (const c of many.slice(1)) {
      const out = input.map((f) => c.encode(f))
      expect(out).toEqual(reference)
    }
    for (const c of many.splice(0, 200)) c.destroy()
    const fresh = make()
    expect(input.map((f) => fresh.encode(f))).toEqual(reference)
  })
})
