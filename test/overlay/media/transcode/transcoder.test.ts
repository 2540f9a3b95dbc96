import { afterEach, describe, expect, it } from 'vitest'
import { g711Decode, g711Encode } from '../../../../src/overlay/media/transcode/g711.js'
import type { G711Law } from '../../../../src/overlay/media/transcode/g711.js'
import { OpusCodecError } from '../../../../src/overlay/media/transcode/opus-codec.js'
import { parseRtp, serializeRtp } from '../../../../src/overlay/media/transcode/rtp.js'
import type { RtpPacket } from '../../../../src/overlay/media/transcode/rtp.js'
import { G711OpusTranscoder } from '../../../../src/overlay/media/transcode/transcoder.js'
import type { G711OpusTranscoderInit } from '../../../../src/overlay/media/transcode/transcoder.js'
import { rms, tone, toneSnrDb, zeroCrossingHz } from './signal.js'

const OPUS_PT = 111
const PHONE_EVENT_PT = 101
const OVERLAY_EVENT_PT = 126
const PHONE_SSRC = 0x0bad_cafe
const OVERLAY_SSRC = 0x0123_4567
/**
 * Round-trip SNR floor for a 440 Hz tone through µ-law → Opus (32 kbit/s,
 * SILK narrowband) → µ-law. Measured: 27.8 dB (libopus is deterministic);
 * µ-law alone allows about 38 dB.
 */
const ROUND_TRIP_SNR_DB = 24

const live: G711OpusTranscoder[] = []
afterEach(() => {
  for (const t of live.splice(0)) t.destroy()
})

function transcoder(
  opts: Partial<G711OpusTranscoderInit['phone']> = {},
  init: Partial<G711OpusTranscoderInit> = {},
) {
  const t = new G711OpusTranscoder({
    phone: { codec: 'PCMU', telephoneEventPayloadType: PHONE_EVENT_PT, ssrc: PHONE_SSRC, ...opts },
    overlay: {
      payloadType: OPUS_PT,
      telephoneEventPayloadType: OVERLAY_EVENT_PT,
      ssrc: OVERLAY_SSRC,
    },
    ...init,
  })
  live.push(t)
  return t
}

/** The phone's RTP stream for `pcm`: `ptimeMs` packets from seq 40000 and timestamp 0xFFFFF000 (both wrap). */
function phoneStream(
  pcm: Int16Array,
  ptimeMs = 20,
  law: G711Law = 'PCMU',
  ssrc = 0x5151,
): Uint8Array[] {
  const n = ptimeMs * 8
  const out: Uint8Array[] = []
  for (let i = 0; i * n < pcm.length; i++)
    out.push(
      serializeRtp({
        marker: i === 0,
        payloadType: law === 'PCMU' ? 0 : 8,
        sequenceNumber: (65530 + i) & 0xffff,
        timestamp: (0xfffff000 + i * n) >>> 0,
        ssrc,
        payload: g711Encode(law, pcm.subarray(i * n, (i + 1) * n)),
      }),
    )
  return out
}

const all = (
  t: G711OpusTranscoder,
  dir: 'phoneToOverlay' | 'overlayToPhone',
  packets: Uint8Array[],
) => packets.flatMap((p) => t[dir](p)).map(parseRtp)

/** Wire timestamps relative to the first, unwrapped. */
const relTs = (ps: RtpPacket[]) => ps.map((p) => (p.timestamp - ps[0]!.timestamp) >>> 0)
const seqSteps = (ps: RtpPacket[]) =>
  ps.slice(1).map((p, i) => (p.sequenceNumber - ps[i]!.sequenceNumber) & 0xffff)

function phonePcm(ps: RtpPacket[], law: G711Law = 'PCMU'): Int16Array {
  const total = ps.reduce((n, p) => n + p.payload.length, 0)
  const out = new Int16Array(total)
  let o = 0
  for (const p of ps) {
    out.set(g711Decode(law, p.payload), o)
    o += p.payload.length
  }
  return out
}

function event(
  seq: number,
  ts: number,
  duration: number,
  end: boolean,
  marker: boolean,
  pt = PHONE_EVENT_PT,
  ssrc = 0x5151,
) {
  const payload = Uint8Array.of(5, (end ? 0x80 : 0) | 10, duration >> 8, duration & 0xff)
  return serializeRtp({
    marker,
    payloadType: pt,
    sequenceNumber: seq,
    timestamp: ts,
    ssrc,
    payload,
  })
}

describe('G711OpusTranscoder: audio', () => {
  it('carries a 440 Hz tone phone → Opus → phone with its frequency and an SNR above 24 dB', () => {
    const t = transcoder()
    const opus = all(t, 'phoneToOverlay', phoneStream(tone(440, 8000, 16_000)))
    expect(opus.length).toBe(100)
    expect(opus.every((p) => p.payloadType === OPUS_PT && p.ssrc === OVERLAY_SSRC)).toBe(true)
    expect(relTs(opus)).toEqual(opus.map((_, i) => i * 960)) // 48 kHz clock, across the 2^32 wrap
    expect(seqSteps(opus).every((d) => d === 1)).toBe(true)
    expect(opus.map((p) => p.marker)).toEqual(opus.map((_, i) => i === 0))

    const back = all(
      t,
      'overlayToPhone',
      opus.map((p) => serializeRtp(p)),
    )
    expect(back.length).toBe(100)
    expect(
      back.every((p) => p.payloadType === 0 && p.ssrc === PHONE_SSRC && p.payload.length === 160),
    ).toBe(true)
    expect(relTs(back)).toEqual(back.map((_, i) => i * 160))
    expect(seqSteps(back).every((d) => d === 1)).toBe(true)
    const pcm = phonePcm(back).subarray(1600) // past the codec's start-up
    expect(zeroCrossingHz(pcm, 8000)).toBeCloseTo(440, 0)
    expect(toneSnrDb(pcm, 440, 8000)).toBeGreaterThan(ROUND_TRIP_SNR_DB)
    expect(t.stats.phoneToOverlay).toMatchObject({
      packetsIn: 100,
      packetsOut: 100,
      lost: 0,
      failures: 0,
    })
    expect(t.stats.overlayToPhone).toMatchObject({
      packetsIn: 100,
      packetsOut: 100,
      decodeErrors: 0,
    })
  })

  it('reframes a 30 ms PCMA phone to 20 ms Opus frames, and 20 ms Opus to 10 ms for the phone', () => {
    const up = transcoder({ codec: 'PCMA', ptimeMs: 30 })
    const opus = all(up, 'phoneToOverlay', phoneStream(tone(1000, 8000, 2400), 30, 'PCMA'))
    expect(opus.length).toBe(15) // 10 × 30 ms = 15 × 20 ms
    expect(relTs(opus)).toEqual(opus.map((_, i) => i * 960))
    const down = transcoder({ codec: 'PCMA', ptimeMs: 10 })
    const phone = all(
      down,
      'overlayToPhone',
      opus.map((p) => serializeRtp(p)),
    )
    expect(phone.length).toBe(30)
    expect(phone.every((p) => p.payloadType === 8 && p.payload.length === 80)).toBe(true)
    expect(relTs(phone)).toEqual(phone.map((_, i) => i * 80))
    expect(zeroCrossingHz(phonePcm(phone, 'PCMA').subarray(800), 8000)).toBeCloseTo(1000, -1)
  })

  it('keeps one outgoing stream when the phone restarts with a new SSRC', () => {
    const t = transcoder()
    const first = phoneStream(tone(440, 8000, 1600), 20, 'PCMU', 1)
    const second = phoneStream(tone(440, 8000, 1600), 20, 'PCMU', 2) // same seq/ts numbers, new source
    const opus = all(t, 'phoneToOverlay', [...first, ...second])
    expect(opus.length).toBe(20)
    expect(relTs(opus)).toEqual(opus.map((_, i) => i * 960))
    expect(seqSteps(opus).every((d) => d === 1)).toBe(true)
    expect(opus[10]!.marker).toBe(true)
  })
})

describe('G711OpusTranscoder: RFC 4733 telephone-events', () => {
  it('passes DTMF phone → overlay with the 48 kHz clock, the overlay PT and the audio’s sequence numbers', () => {
    const t = transcoder()
    const audio = phoneStream(tone(440, 8000, 800)) // 5 packets, seq 65530…65534
    const firstTs = 0xfffff000
    const start = (firstTs + 800) >>> 0 // the event starts right after the audio
    const events = [
      event(65535, start, 160, false, true),
      event(0, start, 320, false, false),
      event(1, start, 800, true, false),
      event(2, start, 800, true, false), // RFC 4733 §2.5.1.4: the end is sent three times
      event(3, start, 800, true, false),
    ]
    const out = all(t, 'phoneToOverlay', [...audio, ...events])
    expect(out.length).toBe(10)
    const ev = out.slice(5)
    expect(ev.every((p) => p.payloadType === OVERLAY_EVENT_PT && p.ssrc === OVERLAY_SSRC)).toBe(
      true,
    )
    expect(seqSteps(out).every((d) => d === 1)).toBe(true)
    // The event starts 800 samples at 8 kHz after the first audio packet: 4800 at 48 kHz.
    expect(ev.every((p) => (p.timestamp - out[0]!.timestamp) >>> 0 === 4800)).toBe(true)
    expect(ev.map((p) => (p.payload[2]! << 8) | p.payload[3]!)).toEqual([
      960, 1920, 4800, 4800, 4800,
    ])
    expect(ev.map((p) => p.marker)).toEqual([true, false, false, false, false])
    expect(ev.map((p) => p.payload[0])).toEqual([5, 5, 5, 5, 5])
    expect(ev.map((p) => p.payload[1])).toEqual([10, 10, 0x8a, 0x8a, 0x8a])
    expect(t.stats.phoneToOverlay.events).toBe(5)
  })

  it('cuts an event too long for 16 bits at 48 kHz into segments (RFC 4733 §2.5.1.3)', () => {
    const t = transcoder()
    const [a] = all(t, 'phoneToOverlay', phoneStream(tone(440, 8000, 160)))
    const out = all(t, 'phoneToOverlay', [event(65531, 0xfffff000 + 160, 12_000, false, true)]) // 1.5 s
    const rel = (out[0]!.timestamp - a!.timestamp) >>> 0
    expect(rel).toBe(960 + 0xffff) // second segment starts 0xFFFF after the first
    expect((out[0]!.payload[2]! << 8) | out[0]!.payload[3]!).toBe(72_000 - 0xffff)
  })

  it('passes DTMF overlay → phone with the 8 kHz clock and the phone PT', () => {
    const t = transcoder()
    const opusPackets = all(transcoder(), 'phoneToOverlay', phoneStream(tone(440, 8000, 800))).map(
      (p) => ({ ...p, ssrc: 77 }),
    )
    const last = opusPackets[opusPackets.length - 1]!
    const evTs = (last.timestamp + 960) >>> 0
    const seq = (last.sequenceNumber + 1) & 0xffff
    const evs = [
      event(seq, evTs, 960, false, true, OVERLAY_EVENT_PT, 77),
      event((seq + 1) & 0xffff, evTs, 4800, true, false, OVERLAY_EVENT_PT, 77),
    ]
    const out = all(t, 'overlayToPhone', [...opusPackets.map((p) => serializeRtp(p)), ...evs])
    const ev = out.filter((p) => p.payloadType === PHONE_EVENT_PT)
    expect(ev.length).toBe(2)
    expect(ev.every((p) => p.ssrc === PHONE_SSRC)).toBe(true)
    expect(ev.map((p) => (p.payload[2]! << 8) | p.payload[3]!)).toEqual([160, 800])
    expect(ev.every((p) => (p.timestamp - out[0]!.timestamp) >>> 0 === 800)).toBe(true)
    expect(seqSteps(out).every((d) => d === 1)).toBe(true)
  })

  it('drops events the other leg did not negotiate, and malformed ones', () => {
    const t = transcoder({ telephoneEventPayloadType: undefined })
    expect(t.overlayToPhone(event(1, 0, 160, false, true, OVERLAY_EVENT_PT))).toEqual([])
    expect(t.stats.overlayToPhone.unexpected).toBe(1)
    const u = transcoder()
    const short = serializeRtp({
      marker: true,
      payloadType: PHONE_EVENT_PT,
      sequenceNumber: 1,
      timestamp: 0,
      ssrc: 9,
      payload: Uint8Array.of(5, 0),
    })
    expect(u.phoneToOverlay(short)).toEqual([])
    expect(u.stats.phoneToOverlay.malformed).toBe(1)
  })
})

describe('G711OpusTranscoder: loss and bad input', () => {
  /** 50 Opus packets of a 440 Hz tone, as the far end would send them. */
  const farEnd = () => all(transcoder(), 'phoneToOverlay', phoneStream(tone(440, 8000, 8000)))

  it('conceals a lost Opus packet with PLC: the phone sees no gap and hears the tone go on', () => {
    const opus = farEnd()
    const t = transcoder()
    const out = all(
      t,
      'overlayToPhone',
      opus.filter((_, i) => i !== 25).map((p) => serializeRtp(p)),
    )
    expect(out.length).toBe(50)
    expect(relTs(out)).toEqual(out.map((_, i) => i * 160))
    expect(seqSteps(out).every((d) => d === 1)).toBe(true)
    expect(t.stats.overlayToPhone).toMatchObject({ lost: 1, concealedMs: 20 })
    const concealed = g711Decode('PCMU', out[25]!.payload)
    expect(rms(concealed)).toBeGreaterThan(1000)
    // PLC shifts the phase a little, so the frequency over 3 s reads within 2 Hz.
    expect(Math.abs(zeroCrossingHz(phonePcm(out).subarray(1600), 8000) - 440)).toBeLessThan(2)
  })

  it('counts a corrupt Opus packet as a decode error, never throws, and conceals it', () => {
    const opus = farEnd()
    opus[20] = { ...opus[20]!, payload: Uint8Array.of(0xff, 0xff, 0xff) }
    const t = transcoder()
    const out = all(
      t,
      'overlayToPhone',
      opus.map((p) => serializeRtp(p)),
    )
    expect(out.length).toBe(50)
    expect(relTs(out)).toEqual(out.map((_, i) => i * 160))
    expect(t.stats.overlayToPhone).toMatchObject({
      decodeErrors: 1,
      lost: 1,
      concealedMs: 20,
      failures: 0,
    })
  })

  it('passes a loss longer than maxConcealMs on to the phone as loss', () => {
    const opus = farEnd()
    const t = transcoder({}, { maxConcealMs: 60 })
    const out = all(
      t,
      'overlayToPhone',
      opus.filter((_, i) => i < 20 || i >= 25).map((p) => serializeRtp(p)),
    )
    expect(out.length).toBe(45)
    expect((out[20]!.timestamp - out[19]!.timestamp) >>> 0).toBe(6 * 160)
    expect((out[20]!.sequenceNumber - out[19]!.sequenceNumber) & 0xffff).toBe(6) // 5 frames lost
    expect(t.stats.overlayToPhone).toMatchObject({ lost: 5, concealedMs: 0 })
  })

  it('passes a lost phone packet on as a lost Opus frame; a lost 10 ms packet is filled inside its frame', () => {
    const t = transcoder()
    const out = all(
      t,
      'phoneToOverlay',
      phoneStream(tone(440, 8000, 1600)).filter((_, i) => i !== 4),
    )
    expect(out.length).toBe(9)
    expect((out[4]!.sequenceNumber - out[3]!.sequenceNumber) & 0xffff).toBe(2)
    expect((out[4]!.timestamp - out[3]!.timestamp) >>> 0).toBe(1920)
    const u = transcoder({ ptimeMs: 10 })
    const out10 = all(
      u,
      'phoneToOverlay',
      phoneStream(tone(440, 8000, 1600), 10).filter((_, i) => i !== 7),
    )
    expect(out10.length).toBe(10)
    expect(seqSteps(out10).every((d) => d === 1)).toBe(true)
    expect(relTs(out10)).toEqual(out10.map((_, i) => i * 960))
  })

  it('drops garbage, unknown payload types and late or duplicate packets, counting each', () => {
    const t = transcoder()
    const stream = phoneStream(tone(440, 8000, 480))
    expect(t.phoneToOverlay(Uint8Array.of(1, 2, 3))).toEqual([])
    expect(t.phoneToOverlay(new Uint8Array(40))).toEqual([]) // version 0
    const cn = serializeRtp({
      marker: false,
      payloadType: 13,
      sequenceNumber: 1,
      timestamp: 0,
      ssrc: 0x5151,
      payload: Uint8Array.of(40),
    })
    expect(t.phoneToOverlay(cn)).toEqual([])
    expect(all(t, 'phoneToOverlay', [stream[0]!, stream[2]!, stream[1]!, stream[2]!]).length).toBe(
      2,
    )
    expect(t.stats.phoneToOverlay).toMatchObject({
      malformed: 2,
      unexpected: 1,
      late: 2,
      lost: 1,
      failures: 0,
    })
    expect(t.overlayToPhone(Uint8Array.of(0x80))).toEqual([])
    expect(t.stats.overlayToPhone.malformed).toBe(1)
  })

  it('returns nothing after destroy(), and refuses a bad configuration', () => {
    const t = transcoder()
    t.destroy()
    expect(t.phoneToOverlay(phoneStream(tone(440, 8000, 160))[0]!)).toEqual([])
    expect(() => transcoder({ ptimeMs: 5 })).toThrow(RangeError)
    expect(() => transcoder({ payloadType: 200 })).toThrow(RangeError)
    expect(() => transcoder({}, { opus: { bitrate: -5 } })).toThrow(OpusCodecError)
  })
})
