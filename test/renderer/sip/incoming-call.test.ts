/**
 * Incoming calls through the real UA (sip.js over a channel the test plays
 * the node on): 180 Ringing is sent once, an offer a browser cannot use is
 * refused 488 with a Reason (RFC 3326) before it rings, and a call the user
 * answered that could not be set up ends as failed, never as "missed".
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { SipBridgeChannel } from '../../../src/renderer/sip/bridge-channel.js'
import type { KaiwaCall } from '../../../src/renderer/sip/call-session.js'
import { createKaiwaUserAgent } from '../../../src/renderer/sip/kaiwa-ua.js'
import type { KaiwaUserAgent } from '../../../src/renderer/sip/kaiwa-ua.js'
import { describeCallEnd } from '../../../src/renderer/call/call-messages.js'

class NodeSide implements SipBridgeChannel {
  sent: string[] = []
  open = false
  private cbs = new Set<(raw: string) => void>()
  send(raw: string): void {
    this.sent.push(raw)
  }
  onMessage(cb: (raw: string) => void): () => void {
    this.cbs.add(cb)
    return () => this.cbs.delete(cb)
  }
  onClose(): () => void {
    return () => {}
  }
  connect(): Promise<void> {
    this.open = true
    return Promise.resolve()
  }
  close(): void {
    this.open = false
  }
  deliver(raw: string): void {
    for (const cb of this.cbs) cb(raw)
  }
  /** Status lines of the responses the UA sent. */
  statuses(): string[] {
    return this.sent.filter((m) => m.startsWith('SIP/2.0 ')).map((m) => m.split('\r\n')[0]!)
  }
  response(status: number): string | undefined {
    return this.sent.find((m) => m.startsWith(`SIP/2.0 ${status} `))
  }
}

const sdpOf = (...lines: string[]): string =>
  ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', ...lines, ''].join('\r\n')

const WEBRTC = sdpOf(
  'a=x-kaiwa-anchor:phone',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  'a=fingerprint:sha-256 AB:CD',
  'a=setup:actpass',
  'a=rtpmap:111 opus/48000/2',
)
const PHONE = sdpOf('c=IN IP4 127.0.0.1', 'm=audio 4000 RTP/AVP 0 8', 'a=sendrecv')

let n = 0
function invite(body: string): string {
  n++
  return [
    'INVITE sip:bob@kaiwa SIP/2.0',
    `Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK-test-${n}`,
    'Max-Forwards: 70',
    `From: "Alice" <sip:alice@kaiwa>;tag=from${n}`,
    'To: <sip:bob@kaiwa>',
    `Call-ID: call-${n}@test`,
    'CSeq: 1 INVITE',
    'Contact: <sip:alice@127.0.0.1:5060;transport=tcp>',
    'Content-Type: application/sdp',
    `Content-Length: ${new TextEncoder().encode(body).length}`,
    '',
    body,
  ].join('\r\n')
}

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms))

/**
 * Just enough of the browser for sip.js's Web handler to reach
 * setRemoteDescription, which refuses the offer the way Chromium refused
 * real phones' offers (issue 12 §4).
 */
function browserRefusingOffers(micDenied = false): void {
  class FakeStream extends EventTarget {
    private tracks: MediaStreamTrack[]
    constructor(tracks: MediaStreamTrack[] = []) {
      super()
      this.tracks = [...tracks]
    }
    getTracks = () => this.tracks
    getAudioTracks = () => this.tracks.filter((t) => t.kind === 'audio')
    getVideoTracks = () => []
    addTrack = (t: MediaStreamTrack) => void this.tracks.push(t)
    removeTrack = (t: MediaStreamTrack) => void (this.tracks = this.tracks.filter((x) => x !== t))
  }
  class FakeTrackEvent extends Event {
    readonly track: unknown
    constructor(type: string, init: { track: unknown }) {
      super(type)
      this.track = init.track
    }
  }
  class RefusingPeerConnection {
    signalingState = 'stable'
    getSenders = () => []
    getReceivers = () => []
    getTransceivers = () => []
    addTrack = () => ({})
    close = () => {}
    setRemoteDescription = () =>
      Promise.reject(
        Object.assign(new Error('Failed to set remote offer sdp: SDP without DTLS fingerprint'), {
          name: 'InvalidAccessError',
        }),
      )
  }
  const track = { kind: 'audio', enabled: true, stop: () => {} }
  vi.stubGlobal('MediaStream', FakeStream)
  vi.stubGlobal('MediaStreamTrackEvent', FakeTrackEvent)
  vi.stubGlobal('RTCPeerConnection', RefusingPeerConnection)
  vi.stubGlobal('navigator', {
    mediaDevices: {
      getUserMedia: () =>
        micDenied
          ? Promise.reject(
              Object.assign(new Error('Permission denied'), { name: 'NotAllowedError' }),
            )
          : Promise.resolve(new FakeStream([track as never])),
    },
  })
}

let ua: KaiwaUserAgent | undefined
afterEach(async () => {
  vi.unstubAllGlobals()
  await ua?.stop().catch(() => {})
  ua = undefined
})

async function start(): Promise<{ node: NodeSide; calls: KaiwaCall[] }> {
  const node = new NodeSide()
  ua = await createKaiwaUserAgent({ channel: node, user: 'bob' })
  const calls: KaiwaCall[] = []
  ua.onIncomingCall((c) => calls.push(c))
  return { node, calls }
}

describe('incoming calls', () => {
  it('sends 180 Ringing once, and reads the media anchor from the offer', async () => {
    const { node, calls } = await start()
    node.deliver(invite(WEBRTC))
    await tick()
    expect(node.statuses().filter((s) => s.startsWith('SIP/2.0 180'))).toHaveLength(1)
    expect(calls).toHaveLength(1)
    expect(calls[0]!.phase).toBe('incoming')
    expect(calls[0]!.anchor).toBe('phone')
  })

  it('refuses a plain RTP/AVP offer with 488 and a Reason, without ringing', async () => {
    const { node, calls } = await start()
    node.deliver(invite(PHONE))
    await tick()
    expect(node.statuses()).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 488 Not Acceptable Here'])
    expect(node.response(488)).toMatch(
      /\r\nReason: SIP ;cause=488 ;text="not a WebRTC offer: no DTLS-SRTP fingerprint \(plain RTP\/AVP\)[^"]*"\r\n/,
    )
    expect(calls).toHaveLength(1)
    const c = calls[0]!
    expect(c.phase).toBe('ended')
    expect(c.end).toMatchObject({ outcome: 'failed', by: 'local', status: 488 })
    expect(describeCallEnd(c.end!, c.peer, c.direction)).toMatch(
      /^alice called from a SIP phone whose audio this app cannot receive/,
    )
  })

  it('refuses with 480 and no 180 when nothing listens', async () => {
    const node = new NodeSide()
    ua = await createKaiwaUserAgent({ channel: node, user: 'bob' })
    node.deliver(invite(WEBRTC))
    await tick()
    expect(node.statuses()).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 480 Temporarily Unavailable'])
  })

  it('ends an answered call whose offer the browser refused as failed (488), not missed', async () => {
    browserRefusingOffers()
    const { node, calls } = await start()
    node.deliver(invite(WEBRTC))
    await tick()
    const c = calls[0]!
    await expect(c.answer({ iceServers: [], audio: {} })).rejects.toThrow(/SDP without DTLS/)
    await tick()
    expect(c.phase).toBe('ended')
    expect(c.end?.outcome).toBe('failed')
    const text = describeCallEnd(c.end!, c.peer, c.direction)
    expect(text).toBe(
      'The call from alice could not be connected (Failed to set remote offer sdp: SDP without DTLS fingerprint). Ask alice to call again; if it keeps failing, export the logs (Settings → About) and report it.',
    )
    // One final response: 488 with the browser's words, not sip.js's 480.
    const finals = node.statuses().filter((l) => /^SIP\/2\.0 [2-6]\d\d/.test(l))
    expect(finals).toEqual(['SIP/2.0 488 Not Acceptable Here'])
    expect(node.response(488)).toMatch(
      /\r\nReason: SIP ;cause=488 ;text="the browser refused the offer: Failed to set remote offer sdp: SDP without DTLS fingerprint"\r\n/,
    )
  })

  it('does not blame the offer when the microphone is refused: no 488, and says what to allow', async () => {
    browserRefusingOffers(true)
    const { node, calls } = await start()
    node.deliver(invite(WEBRTC))
    await tick()
    const c = calls[0]!
    await expect(c.answer({ iceServers: [], audio: {} })).rejects.toThrow(/Permission denied/)
    await tick()
    expect(c.end?.outcome).toBe('failed')
    expect(describeCallEnd(c.end!, c.peer, c.direction)).toMatch(
      /^Kaiwa may not use your microphone/,
    )
    const finals = node.statuses().filter((l) => /^SIP\/2\.0 [2-6]\d\d/.test(l))
    expect(finals).toEqual(['SIP/2.0 480 Temporarily Unavailable'])
  })

  it('ends a call whose answer failed before any SDP as failed too', async () => {
    const { node, calls } = await start()
    node.deliver(invite(WEBRTC))
    await tick()
    const c = calls[0]!
    // No WebRTC at all in Node: the answer fails early, a different path through sip.js.
    await expect(c.answer({ iceServers: [], audio: {} })).rejects.toThrow()
    await tick()
    expect(c.end?.outcome).toBe('failed')
    expect(describeCallEnd(c.end!, c.peer, c.direction)).toMatch(
      /^The call from alice could not be connected/,
    )
    expect(node.statuses().filter((l) => /^SIP\/2\.0 [2-6]\d\d/.test(l))).toHaveLength(1)
  })
})
