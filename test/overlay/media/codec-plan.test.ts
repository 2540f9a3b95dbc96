import { describe, expect, it } from 'vitest'
import {
  overlayOfferCodecs,
  phoneOfferCodecs,
  planFromOverlayAnswer,
  planFromPhoneAnswer,
} from '../../../src/overlay/media/codec-plan.js'
import type { Codec } from '../../../src/overlay/media/codecs.js'
import { describeCodecs } from '../../../src/overlay/media/codecs.js'

const c = (pt: number, name: string, clock = 8000, channels = 1): Codec => ({
  pt,
  name,
  clock,
  channels,
})
const PCMU = c(0, 'PCMU')
const PCMA = c(8, 'PCMA')
const G729 = c(18, 'G729')
const opus = (pt: number) => c(pt, 'opus', 48000, 2)
const te8 = (pt: number) => c(pt, 'telephone-event')
const te48 = (pt: number) => c(pt, 'telephone-event', 48000)
const list = (codecs: readonly Codec[]) => codecs.map((x) => `${x.pt} ${describeCodecs([x])}`)

describe('codec plan: the phone calls', () => {
  it('offers the phone’s relayable codecs, then Opus to transcode to', () => {
    expect(list(overlayOfferCodecs([PCMU, G729, te8(101)], true))).toEqual([
      '0 PCMU/8000',
      '111 opus/48000/2',
      '101 telephone-event/8000',
      '110 telephone-event/48000',
    ])
    expect(list(overlayOfferCodecs([PCMU, G729, te8(101)], false))).toEqual([
      '0 PCMU/8000',
      '101 telephone-event/8000',
    ])
    // A phone with Opus needs no transcoding; a taken 111 moves Opus elsewhere.
    expect(list(overlayOfferCodecs([opus(96), PCMU], true))).toEqual([
      '96 opus/48000/2',
      '0 PCMU/8000',
    ])
    expect(overlayOfferCodecs([PCMU, te8(111)], true).find((x) => x.name === 'opus')!.pt).toBe(96)
  })

  it('relays what the far end answers first when the phone has it', () => {
    const phone = [PCMU, PCMA, te8(101)]
    const ours = overlayOfferCodecs(phone, true)
    const plan = planFromOverlayAnswer(phone, ours, [PCMA, PCMU, opus(111), te8(101)])
    expect(plan.transcode).toBeUndefined()
    expect(list(plan.overlay)).toEqual(['8 PCMA/8000', '0 PCMU/8000', '101 telephone-event/8000'])
    expect(list(plan.phone)).toEqual(['0 PCMU/8000', '8 PCMA/8000', '101 telephone-event/8000'])
  })

  it('transcodes when the far end answers Opus first', () => {
    const phone = [PCMA, te8(101)]
    const ours = overlayOfferCodecs(phone, true)
    const plan = planFromOverlayAnswer(phone, ours, [opus(111), te48(110)])
    expect(plan.transcode).toEqual({
      phone: PCMA,
      phoneEvent: te8(101),
      overlay: opus(111),
      overlayEvent: te48(110),
    })
    expect(list(plan.phone)).toEqual(['8 PCMA/8000', '101 telephone-event/8000'])
  })

  it('names both sides when nothing fits', () => {
    expect(() => planFromOverlayAnswer([PCMU], [PCMU], [c(9, 'G722')])).toThrow(
      'no common codec: phone offers PCMU/8000, far end offers G722/8000',
    )
  })
})

describe('codec plan: the far end calls', () => {
  const chromium = [
    opus(111),
    c(63, 'red', 48000, 2),
    c(9, 'G722'),
    PCMU,
    PCMA,
    te48(110),
    te8(126),
  ]

  it('offers the phone what it can use, numbered as the far end numbers it', () => {
    expect(list(phoneOfferCodecs(chromium, true))).toEqual([
      '111 opus/48000/2',
      '0 PCMU/8000',
      '8 PCMA/8000',
      '110 telephone-event/48000',
      '126 telephone-event/8000',
    ])
  })

  it('adds G.711 for an Opus-only far end, and transcodes if the phone picks it', () => {
    const far = [opus(111), te48(110)]
    const ours = phoneOfferCodecs(far, true)
    expect(list(ours)).toEqual([
      '111 opus/48000/2',
      '0 PCMU/8000',
      '8 PCMA/8000',
      '110 telephone-event/48000',
      '101 telephone-event/8000',
    ])
    const plan = planFromPhoneAnswer(far, ours, [PCMU, te8(101)])
    expect(plan.transcode).toEqual({
      phone: PCMU,
      phoneEvent: te8(101),
      overlay: opus(111),
      overlayEvent: te48(110),
    })
    expect(list(plan.overlay)).toEqual(['111 opus/48000/2', '110 telephone-event/48000'])
    expect(phoneOfferCodecs(far, false).map((x) => x.pt)).toEqual([111, 110])
  })

  it('relays the phone’s first choice in the far end’s numbering', () => {
    const ours = phoneOfferCodecs(chromium, true)
    const plan = planFromPhoneAnswer(chromium, ours, [PCMA, te8(97)])
    expect(plan.transcode).toBeUndefined()
    expect(list(plan.phone)).toEqual(['8 PCMA/8000', '97 telephone-event/8000'])
    expect(list(plan.overlay)).toEqual(['8 PCMA/8000', '126 telephone-event/8000'])
    expect(() => planFromPhoneAnswer(chromium, ours, [G729])).toThrow(
      /no common codec: phone offers G729\/8000/,
    )
  })
})
