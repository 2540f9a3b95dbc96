/** Renegotiation decisions for video: replaceTrack or re-INVITE, directions, and answers. */
import { describe, expect, it } from 'vitest'
import {
  answerTakesVideo,
  hasVideo,
  mediaSections,
  planVideo,
  remoteSendsVideo,
  videoDirection,
} from '../../../src/renderer/sip/video-plan.js'

const sdp = (...media: string[]): string =>
  ['v=0', 'o=- 1 1 IN IP4 0.0.0.0', 's=-', 't=0 0', ...media].join('\r\n') + '\r\n'
const AUDIO = 'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=sendrecv'
const video = (port: number, dir?: string): string =>
  `m=video ${port} UDP/TLS/RTP/SAVPF 96\r\na=mid:1${dir != null ? `\r\na=${dir}` : ''}`

describe('planVideo', () => {
  it('adds a transceiver and re-INVITEs to start video in an audio call', () => {
    expect(planVideo({ source: 'none', transceiver: false }, 'camera')).toEqual({
      track: 'camera',
      addTransceiver: true,
      renegotiate: true,
    })
  })
  it('reuses a receiving transceiver (the far end sends video) but still re-INVITEs', () => {
    expect(planVideo({ source: 'none', transceiver: true }, 'screen')).toEqual({
      track: 'screen',
      addTransceiver: false,
      renegotiate: true,
    })
  })
  it('swaps camera and screen with replaceTrack alone', () => {
    expect(planVideo({ source: 'camera', transceiver: true }, 'screen')).toEqual({
      track: 'screen',
      addTransceiver: false,
      renegotiate: false,
    })
    expect(planVideo({ source: 'screen', transceiver: true }, 'camera')?.renegotiate).toBe(false)
  })
  it('stops sending with a re-INVITE, and does nothing when nothing changes', () => {
    expect(planVideo({ source: 'camera', transceiver: true }, 'none')).toEqual({
      track: 'none',
      addTransceiver: false,
      renegotiate: true,
    })
    expect(planVideo({ source: 'camera', transceiver: true }, 'camera')).toBeUndefined()
    expect(planVideo({ source: 'none', transceiver: false }, 'none')).toBeUndefined()
  })
})

describe('videoDirection', () => {
  it.each([
    [true, false, 'sendrecv'],
    [true, true, 'sendonly'],
    [false, false, 'recvonly'],
    [false, true, 'inactive'],
  ] as const)('sending %s, hold %s: %s', (sending, hold, dir) => {
    expect(videoDirection(sending, hold)).toBe(dir)
  })
})

describe('SDP video', () => {
  it('reads m= sections with their own or the session direction', () => {
    const body = sdp('a=sendonly', AUDIO, video(9))
    expect(mediaSections(body)).toEqual([
      { media: 'audio', port: 9, direction: 'sendrecv' },
      { media: 'video', port: 9, direction: 'sendonly' },
    ])
  })
  it('an audio-only answer or a rejected m=video (port 0) does not take video', () => {
    expect(answerTakesVideo(sdp(AUDIO))).toBe(false)
    expect(answerTakesVideo(sdp(AUDIO, video(0)))).toBe(false)
    expect(answerTakesVideo(sdp(AUDIO, video(9, 'inactive')))).toBe(false)
    expect(answerTakesVideo(sdp(AUDIO, video(9, 'sendonly')))).toBe(false)
    expect(answerTakesVideo(sdp(AUDIO, video(9, 'recvonly')))).toBe(true)
    expect(answerTakesVideo(sdp(AUDIO, video(9)))).toBe(true)
  })
  it('tells an offer that sends video from one that only receives it', () => {
    expect(remoteSendsVideo(sdp(AUDIO, video(9)))).toBe(true)
    expect(remoteSendsVideo(sdp(AUDIO, video(9, 'recvonly')))).toBe(false)
    expect(remoteSendsVideo(sdp(AUDIO, video(0)))).toBe(false)
    expect(hasVideo(sdp(AUDIO, video(9, 'recvonly')))).toBe(true)
    expect(hasVideo(sdp(AUDIO))).toBe(false)
  })
})
