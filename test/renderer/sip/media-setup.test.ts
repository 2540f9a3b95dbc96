/** Call setup speed and codec choice: when ICE gathering may stop, and Opus first in the SDP. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  EarlyGathering,
  candidateType,
  gatheringVerdict,
  hasTurnServer,
} from '../../../src/renderer/sip/ice-gathering.js'
import { audioConstraints } from '../../../src/renderer/sip/media-handler.js'
import { preferAudioCodec, preferOpus } from '../../../src/renderer/sip/sdp-codecs.js'

const cand = (typ: string) => ({
  candidate: `candidate:1 1 udp 2122260223 192.0.2.1 54321 typ ${typ} generation 0`,
})

describe('ICE gathering', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('reads the candidate type from the object or the SDP line', () => {
    expect(candidateType({ type: 'relay', candidate: '' })).toBe('relay')
    expect(candidateType(cand('srflx'))).toBe('srflx')
    expect(candidateType({ candidate: 'garbage' })).toBeUndefined()
  })

  it('knows whether any server is TURN', () => {
    expect(hasTurnServer([{ urls: ['stun:192.0.2.1:3478'] }])).toBe(false)
    expect(hasTurnServer([{ urls: 'turn:192.0.2.1:3478?transport=udp' }])).toBe(true)
    expect(hasTurnServer([{ urls: ['stun:a', 'turns:b:5349'] }])).toBe(true)
  })

  it.each([
    ['host', false, 'wait'],
    ['host', true, 'wait'],
    ['srflx', false, 'finish'],
    ['srflx', true, 'grace'],
    ['relay', true, 'finish'],
  ] as const)('%s candidate, TURN %s: %s', (type, turn, verdict) => {
    expect(gatheringVerdict(type, turn)).toBe(verdict)
  })

  it('finishes at once on relay, after a grace on srflx with TURN configured', () => {
    const finish = vi.fn()
    const g = new EarlyGathering(true, finish, 150)
    g.candidate(cand('host'))
    g.candidate(cand('srflx'))
    expect(finish).not.toHaveBeenCalled()
    vi.advanceTimersByTime(149)
    expect(finish).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(finish).toHaveBeenCalledTimes(1)

    const finish2 = vi.fn()
    const g2 = new EarlyGathering(true, finish2, 150)
    g2.candidate(cand('srflx'))
    g2.candidate(cand('relay'))
    expect(finish2).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(1000) // the grace timer was cancelled
    expect(finish2).toHaveBeenCalledTimes(1)
  })

  it('asks for echo cancellation, noise suppression and gain control, on the chosen mic', () => {
    expect(audioConstraints()).toEqual({
      echoCancellation: true,
      noiseSuppression: true,
      autoGainControl: true,
    })
    expect(audioConstraints('mic-2')).toMatchObject({ deviceId: { exact: 'mic-2' } })
  })
})

const OFFER = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 0 8 111 126',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:126 telephone-event/8000',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'a=rtpmap:96 VP8/90000',
  '',
].join('\r\n')

describe('Opus first', () => {
  it('moves Opus to the front of the audio line and keeps the rest in order', () => {
    const out = preferAudioCodec(OFFER)
    expect(out).toContain('m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 126\r\n')
    expect(out).toContain('m=video 9 UDP/TLS/RTP/SAVPF 96\r\n')
    expect(out.split('\r\n').length).toBe(OFFER.split('\r\n').length)
  })

  it('leaves an SDP without Opus alone', () => {
    const noOpus = OFFER.replace('a=rtpmap:111 opus/48000/2\r\n', '')
    expect(preferAudioCodec(noOpus)).toBe(noOpus)
  })

  it('works as a sip.js modifier', async () => {
    const out = await preferOpus({ type: 'offer', sdp: OFFER })
    expect(out.type).toBe('offer')
    expect(out.sdp).toContain('SAVPF 111 0 8 126')
  })
})
