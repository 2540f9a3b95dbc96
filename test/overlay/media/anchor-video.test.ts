/**
 * The media anchor relays audio only: an app that offers video to a SIP
 * phone behind it gets an audio call and reads "no video" in the answer
 * (m=video with port 0, RFC 3264 §6; out of the BUNDLE group, RFC 8843
 * §7.3.3), both on the first INVITE (libdatachannel itself answers m=video
 * sendrecv, as this test shows with a real node-datachannel peer) and on a
 * re-INVITE that adds video mid-call.
 */
import ndc from 'node-datachannel'
import { afterAll, describe, expect, it } from 'vitest'
import { parseSdp, serializeSdp } from '../../../src/overlay/media/sdp.js'
import { overlaySdp } from '../../../src/overlay/media/sdp-translate.js'

afterAll(() => ndc.cleanup())

/** A Chromium-like offer: audio and video, bundled. */
const APP_OFFER = [
  'v=0',
  'o=- 4611 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'c=IN IP4 0.0.0.0',
  'a=mid:0',
  'a=sendrecv',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  'a=fingerprint:sha-256 ' + Array.from({ length: 32 }, () => 'AB').join(':'),
  'a=setup:actpass',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'c=IN IP4 0.0.0.0',
  'a=mid:1',
  'a=sendrecv',
  'a=rtcp-mux',
  'a=rtpmap:96 VP8/90000',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  'a=fingerprint:sha-256 ' + Array.from({ length: 32 }, () => 'AB').join(':'),
  'a=setup:actpass',
  '',
].join('\r\n')

/** libdatachannel's own answer with the anchor's single audio track (as webrtc-leg.ts adds it). */
async function libdatachannelAnswer(offer: string): Promise<string> {
  const pc = new ndc.PeerConnection('anchor-video-test', {
    iceServers: [],
    bindAddress: '127.0.0.1',
  })
  try {
    const audio = new ndc.Audio('0', 'SendRecv')
    audio.addAudioCodec(111, 'opus/48000/2')
    pc.addTrack(audio)
    const answer = new Promise<string>((resolve) => pc.onLocalDescription((sdp) => resolve(sdp)))
    pc.setRemoteDescription(offer, 'offer')
    return await answer
  } finally {
    pc.close()
  }
}

const mLines = (sdp: string) => sdp.split('\r\n').filter((l) => l.startsWith('m='))

describe('the media anchor and video', () => {
  it('libdatachannel alone would take the video; the anchor rejects it with port 0', async () => {
    const raw = await libdatachannelAnswer(APP_OFFER)
    expect(raw).toMatch(/^m=video 9 /m) // why the anchor must step in
    const out = serializeSdp(overlaySdp(parseSdp(raw), { direction: 'sendrecv' }))
    expect(mLines(out)).toEqual([
      expect.stringMatching(/^m=audio 9 UDP\/TLS\/RTP\/SAVPF 111/),
      'm=video 0 UDP/TLS/RTP/SAVPF 96',
    ])
    const video = out.slice(out.indexOf('m=video'))
    expect(video.trim().split('\r\n')).toEqual(['m=video 0 UDP/TLS/RTP/SAVPF 96', 'a=mid:1'])
    expect(out).toMatch(/^a=group:BUNDLE 0\r$/m)
    expect(out).toMatch(/^a=sendrecv\r$/m) // the audio keeps its direction
  })

  it('answers a re-offer that adds video one m= line for one, the new one rejected', () => {
    const first = overlaySdp(parseSdp(APP_OFFER.replace(/m=video[\s\S]*$/, '')), {
      direction: 'sendrecv',
    })
    expect(first.media).toHaveLength(1)
    const reOffer = parseSdp(APP_OFFER.replace('a=mid:1', 'a=mid:2'))
    const out = serializeSdp(
      overlaySdp(first, { direction: 'sendrecv', version: 2, answering: reOffer }),
    )
    expect(mLines(out)).toEqual([
      expect.stringMatching(/^m=audio 9 /),
      'm=video 0 UDP/TLS/RTP/SAVPF 96',
    ])
    expect(out).toMatch(/^a=mid:2\r$/m)
    expect(out).not.toMatch(/^a=group:BUNDLE .*2/m)
  })
})
