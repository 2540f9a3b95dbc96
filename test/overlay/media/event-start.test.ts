import { describe, expect, it } from 'vitest'
import { EventStartRepair } from '../../../src/overlay/media/event-start.js'
import { MediaRelay } from '../../../src/overlay/media/media-relay.js'
import type { Codec } from '../../../src/overlay/media/codecs.js'
import { dtmfPayload, parseRtp, rtp } from './rtp-phone.js'

const OPUS: Codec = { pt: 111, name: 'opus', clock: 48000, channels: 2 }
const EVENT_48K: Codec = { pt: 110, name: 'telephone-event', clock: 48000, channels: 1 }
const PHONE_OPUS: Codec = { pt: 96, name: 'opus', clock: 48000, channels: 2 }
const PHONE_EVENT: Codec = { pt: 101, name: 'telephone-event', clock: 48000, channels: 1 }

/** Chromium's Opus-call digit: three end packets, one event timestamp (RFC 4733 §2.5.1.4). */
const endsOnly = (digit: number, seq: number, ts: number) =>
  [0, 1, 2].map((i) =>
    rtp({ pt: 110, seq: seq + i, ts, ssrc: 7, payload: dtmfPayload(digit, true, 4800) }),
  )

const isEnd = (p: Buffer) => (p[13]! & 0x80) !== 0

describe('RFC 4733 event starts toward the phone', () => {
  it('an event that arrives as ends only gets a start first (E clear, marker set), once', () => {
    const repair = new EventStartRepair(new Set([110]))
    const out = endsOnly(5, 10, 96000).flatMap((p) => repair.repair(p))
    expect(out).toHaveLength(4)
    const [start, ...ends] = out.map((p) => parseRtp(p))
    expect(start).toMatchObject({ marker: true, ts: 96000, seq: 10 })
    expect(start!.payload[0]).toBe(5)
    expect(isEnd(out[0]!)).toBe(false)
    expect(out.slice(1).every(isEnd)).toBe(true)
    expect(ends.every((p) => !p.marker)).toBe(true)
  })

  it('an event sent with its start, and audio, pass untouched', () => {
    const repair = new EventStartRepair(new Set([110]))
    const start = rtp({
      pt: 110,
      seq: 1,
      ts: 500,
      ssrc: 7,
      marker: true,
      payload: dtmfPayload(1, false, 960),
    })
    const end = rtp({ pt: 110, seq: 2, ts: 500, ssrc: 7, payload: dtmfPayload(1, true, 1920) })
    const audio = rtp({ pt: 111, seq: 3, ts: 2000, ssrc: 7, payload: Buffer.alloc(20) })
    expect(repair.repair(start)).toEqual([start])
    expect(repair.repair(end)).toEqual([end])
    expect(repair.repair(audio)).toEqual([audio])
    expect(repair.repair(Buffer.from([0x80, 110]))).toHaveLength(1)
  })

  it('through the relay, the phone gets start then ends, numbered without a gap or a repeat', () => {
    const relay = new MediaRelay()
    const sent: Buffer[] = []
    relay.attach({ sendToPhone: (p) => (sent.push(p), true), sendToOverlay: () => true })
    relay.setRoute({
      phoneCodecs: [PHONE_OPUS, PHONE_EVENT],
      overlayCodecs: [OPUS, EVENT_48K],
      toOverlay: true,
      toPhone: true,
    })
    relay.fromOverlay(rtp({ pt: 111, seq: 9, ts: 95040, ssrc: 7, payload: Buffer.alloc(20) }))
    for (const p of endsOnly(5, 10, 96000)) relay.fromOverlay(p)
    relay.fromOverlay(rtp({ pt: 111, seq: 13, ts: 100800, ssrc: 7, payload: Buffer.alloc(20) }))
    const got = sent.map((p) => parseRtp(p))
    expect(got.map((p) => p.pt)).toEqual([96, 101, 101, 101, 101, 96])
    expect(got.map((p) => p.seq - got[0]!.seq)).toEqual([0, 1, 2, 3, 4, 5])
    expect(isEnd(sent[1]!)).toBe(false)
    expect(got[1]!.marker).toBe(true)
  })
})
