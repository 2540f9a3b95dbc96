/**
 * The media anchor against real WebRTC: Debian's Chromium (driven by
 * playwright-core) plays the Kaiwa app, with an RTCPeerConnection sending an
 * oscillator tone, and a UDP socket plays the stock SIP phone. SDP goes
 * between the page and the anchor whole (no trickle), as it does over SIP.
 * Both directions of call setup are covered; each test checks with getStats
 * that audio arrives at the page and that RTP arrives at the phone socket.
 */
import { existsSync } from 'node:fs'
import type { Browser, Page } from 'playwright-core'
import { CHROMIUM, openChromiumPage } from '../../helpers/chromium-page.js'
import type { ChromiumPage } from '../../helpers/chromium-page.js'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { MediaAnchor } from '../../../src/overlay/media/media-anchor.js'
import { required } from '../../helpers/requirements.js'
import { RtpPhone, audioOf, rtp, waitFor } from './rtp-phone.js'

const haveChromium = required(existsSync(CHROMIUM), `Chromium at ${CHROMIUM}`)

type PageGlobals = { pc: RTCPeerConnection; dtmf?: RTCDTMFSender; gathered: () => Promise<string> }

/** In the page: a peer connection whose only track is a 440 Hz oscillator. */
function makePeer(): void {
  const ctx = new AudioContext()
  const osc = ctx.createOscillator()
  const dest = ctx.createMediaStreamDestination()
  osc.connect(dest)
  osc.start()
  const pc = new RTCPeerConnection({ iceServers: [] })
  const [track] = dest.stream.getAudioTracks()
  const sender = pc.addTrack(track!, dest.stream)
  // Resolves once ICE gathering is complete: the SDP then carries every candidate.
  const gathered = async (): Promise<string> => {
    if (pc.iceGatheringState !== 'complete') {
      await new Promise<void>((resolve) => {
        pc.addEventListener('icegatheringstatechange', () => {
          if (pc.iceGatheringState === 'complete') resolve()
        })
      })
    }
    return pc.localDescription!.sdp
  }
  Object.assign(globalThis, { pc, dtmf: sender.dtmf ?? undefined, gathered } satisfies PageGlobals)
}

async function answerOffer(offer: string): Promise<string> {
  const { pc, gathered } = globalThis as unknown as PageGlobals
  await pc.setRemoteDescription({ type: 'offer', sdp: offer })
  await pc.setLocalDescription(await pc.createAnswer())
  return gathered()
}

async function createOffer(): Promise<string> {
  const { pc, gathered } = globalThis as unknown as PageGlobals
  await pc.setLocalDescription(await pc.createOffer())
  return gathered()
}

async function acceptAnswer(answer: string): Promise<void> {
  const { pc } = globalThis as unknown as PageGlobals
  await pc.setRemoteDescription({ type: 'answer', sdp: answer })
}

/** In the page: audio packets received, and the codec they used. */
async function inbound(): Promise<{ packets: number; codec?: string }> {
  const { pc } = globalThis as unknown as PageGlobals
  const all = new Map<string, Record<string, unknown>>()
  ;(await pc.getStats()).forEach((s: Record<string, unknown>) => all.set(s.id as string, s))
  for (const s of all.values()) {
    if (s.type === 'inbound-rtp' && s.kind === 'audio') {
      const codec = all.get(s.codecId as string)?.mimeType as string | undefined
      return {
        packets: (s.packetsReceived as number | undefined) ?? 0,
        ...(codec != null ? { codec } : {}),
      }
    }
  }
  return { packets: 0 }
}

/** An Opus packet of silence (RFC 6716 §3.1: TOC 0xf8, CELT FB 20 ms). */
const OPUS_SILENCE = Buffer.from([0xf8, 0xff, 0xfe])

// retry: Chromium and the anchor share one host (webrtc-leg.ts, "Known limit").
describe.skipIf(!haveChromium)('media anchor ↔ Chromium', { retry: 1 }, () => {
  let browser: Browser | undefined
  let chrome: ChromiumPage | undefined
  let pageUrl = ''
  let page: Page
  let anchor: MediaAnchor
  let phone: RtpPhone

  beforeAll(async () => {
    chrome = await openChromiumPage('kaiwa anchor test', [
      '--allow-loopback-in-peer-connection',
      // Real host addresses in candidates (no mDNS names libdatachannel cannot resolve).
      '--disable-features=WebRtcHideLocalIpsWithMdns',
      '--autoplay-policy=no-user-gesture-required',
    ])
    browser = chrome.browser
    pageUrl = chrome.pageUrl
  })

  afterAll(async () => {
    await chrome?.close()
  })

  beforeEach(async () => {
    anchor = new MediaAnchor({
      bindAddress: '127.0.0.1',
      icePortRange: [39800, 39899],
      rtpPortRange: [39900, 39999],
    })
    phone = await RtpPhone.open(0x5150)
    page = await browser!.newPage()
    page.setDefaultTimeout(30_000)
    await page.goto(pageUrl)
    await page.evaluate(makePeer)
  })

  afterEach(async () => {
    await page.close().catch(() => {})
    await anchor.close()
    phone.close()
  })

  it('a phone calls the app: G.711 both ways', { timeout: 60_000 }, async () => {
    const offer = phone.sdp({
      formats: '0 8 101',
      rtpmaps: ['rtpmap:101 telephone-event/8000', 'fmtp:101 0-16'],
    })
    const webrtcOffer = await anchor.cross({
      callId: 'p2a',
      kind: 'offer',
      direction: 'phone-to-overlay',
      sdp: offer,
    })
    const webrtcAnswer = await page.evaluate(answerOffer, webrtcOffer)
    const phoneAnswer = await anchor.cross({
      callId: 'p2a',
      kind: 'answer',
      direction: 'overlay-to-phone',
      sdp: webrtcAnswer,
    })
    const { port, formats } = audioOf(phoneAnswer)
    expect(formats[0]).toBe(0)
    expect(formats).toContain(101)

    await waitFor(
      () => phone.received.some((p) => p.pt === 0),
      20_000,
      'PCMU from Chromium at the phone',
      () => phone.sendAudio(port, 0),
    )
    for (let i = 0; i < 25; i++) {
      phone.sendAudio(port, 0)
      await new Promise((r) => setTimeout(r, 20))
    }
    const stats = await page.evaluate(inbound)
    expect(stats.packets).toBeGreaterThan(10)
    expect(stats.codec).toBe('audio/PCMU')
    expect(phone.received.every((p) => p.pt === 0 || p.pt === 101)).toBe(true)
    // Chromium answers every G.711 variant offered; the first is what it sends.
    expect(anchor.stats('p2a')).toMatchObject({
      codecs: 'PCMU/8000, PCMA/8000',
      connection: 'connected',
    })
  })

  it(
    'the app calls a phone: Opus passes through, DTMF reaches the phone',
    { timeout: 60_000 },
    async () => {
      const webrtcOffer = await page.evaluate(createOffer)
      const phoneOffer = await anchor.cross({
        callId: 'a2p',
        kind: 'offer',
        direction: 'overlay-to-phone',
        sdp: webrtcOffer,
      })
      expect(phoneOffer).toMatch(/^a=rtpmap:(\d+) opus\/48000\/2\r$/m)
      expect(phoneOffer).not.toMatch(/ice-ufrag|fingerprint|candidate/)
      const opusPt = Number(/^a=rtpmap:(\d+) opus\/48000\/2/m.exec(phoneOffer)![1])
      const tePt = Number(/^a=rtpmap:(\d+) telephone-event\/48000/m.exec(phoneOffer)![1])
      // The phone answers Opus and 48 kHz events, with the offer's numbers.
      const answer = phone.sdp({
        formats: `${opusPt} ${tePt}`,
        rtpmaps: [
          `rtpmap:${opusPt} opus/48000/2`,
          `rtpmap:${tePt} telephone-event/48000`,
          `fmtp:${tePt} 0-16`,
        ],
      })
      const webrtcAnswer = await anchor.cross({
        callId: 'a2p',
        kind: 'answer',
        direction: 'phone-to-overlay',
        sdp: answer,
      })
      expect(webrtcAnswer).toMatch(/^a=x-kaiwa-anchor:phone\r$/m)
      await page.evaluate(acceptAnswer, webrtcAnswer)
      const port = audioOf(phoneOffer).port

      let seq = 1
      const sendOpus = (): void => {
        const packet = rtp({
          pt: opusPt,
          seq: seq++,
          ts: seq * 960,
          ssrc: 0x7777,
          payload: OPUS_SILENCE,
        })
        phone.socketSend(packet, port)
      }
      await waitFor(
        () => phone.received.some((p) => p.pt === opusPt),
        20_000,
        'Opus from Chromium',
        sendOpus,
      )
      for (let i = 0; i < 25; i++) {
        sendOpus()
        await new Promise((r) => setTimeout(r, 20))
      }
      const stats = await page.evaluate(inbound)
      expect(stats.packets).toBeGreaterThan(10)
      expect(stats.codec).toBe('audio/opus')

      await page.evaluate(() => (globalThis as unknown as PageGlobals).dtmf!.insertDTMF('5', 100))
      await waitFor(
        () => phone.received.some((p) => p.pt === tePt),
        5000,
        'telephone-event at the phone',
      )
      expect(phone.received.find((p) => p.pt === tePt)!.payload[0]).toBe(5)
    },
  )

  it(
    'the app with only Opus calls a G.711 phone: the anchor transcodes',
    { timeout: 60_000 },
    async () => {
      await page.evaluate(() => {
        const { pc } = globalThis as unknown as PageGlobals
        const codecs = RTCRtpReceiver.getCapabilities('audio')!.codecs.filter((c) =>
          /^audio\/(opus|telephone-event)$/i.test(c.mimeType),
        )
        pc.getTransceivers()[0]!.setCodecPreferences(codecs)
      })
      const webrtcOffer = await page.evaluate(createOffer)
      expect(webrtcOffer).not.toMatch(/PCMU|PCMA/)
      const phoneOffer = await anchor.cross({
        callId: 'tx',
        kind: 'offer',
        direction: 'overlay-to-phone',
        sdp: webrtcOffer,
      })
      expect(phoneOffer).toMatch(/^a=rtpmap:0 PCMU\/8000\r$/m)
      const tePt = Number(/^a=rtpmap:(\d+) telephone-event\/8000/m.exec(phoneOffer)![1])
      const answer = phone.sdp({
        formats: `0 ${tePt}`,
        rtpmaps: [`rtpmap:${tePt} telephone-event/8000`],
      })
      const webrtcAnswer = await anchor.cross({
        callId: 'tx',
        kind: 'answer',
        direction: 'phone-to-overlay',
        sdp: answer,
      })
      expect(webrtcAnswer).toMatch(/^a=rtpmap:\d+ opus\/48000\/2\r$/m)
      await page.evaluate(acceptAnswer, webrtcAnswer)
      const port = audioOf(phoneOffer).port

      // Chromium's Opus reaches the phone as 20 ms PCMU packets ...
      await waitFor(
        () => phone.received.some((p) => p.pt === 0),
        20_000,
        'PCMU at the phone',
        () => phone.sendAudio(port, 0),
      )
      expect(phone.received.find((p) => p.pt === 0)!.payload).toHaveLength(160)
      // ... and the phone's PCMU reaches Chromium as Opus.
      for (let i = 0; i < 25; i++) {
        phone.sendAudio(port, 0)
        await new Promise((r) => setTimeout(r, 20))
      }
      const stats = await page.evaluate(inbound)
      expect(stats.packets).toBeGreaterThan(10)
      expect(stats.codec).toBe('audio/opus')
      expect(anchor.stats('tx')).toMatchObject({
        codecs: 'PCMU/8000',
        transcodedTo: 'opus/48000/2',
      })

      await page.evaluate(() => (globalThis as unknown as PageGlobals).dtmf!.insertDTMF('3', 100))
      await waitFor(
        () => phone.received.some((p) => p.pt === tePt),
        5000,
        'telephone-event at the phone',
      )
      expect(phone.received.find((p) => p.pt === tePt)!.payload[0]).toBe(3)
    },
  )
})
