/**
 * Real WebRTC through our TURN server, relay only: Debian's Chromium (driven by playwright-core)
 * opens two RTCPeerConnections with iceTransportPolicy 'relay' and our server as the only ICE
 * server (UDP, then TCP from Chromium to the server; RFC 8656 §3.1), with credentials from our
 * REST-style credential function. Each side sends its fake microphone to the other. The test
 * checks with getStats that audio keeps arriving on both sides for more than 2 s, that the
 * selected candidate pair is relay ↔ relay, and that our server counted the relayed bytes.
 * Skipped only when /usr/bin/chromium is missing (CI installs it).
 */
import { existsSync } from 'node:fs'
import type { Browser, Page } from 'playwright-core'
import { CHROMIUM, openChromiumPage } from '../../helpers/chromium-page.js'
import type { ChromiumPage } from '../../helpers/chromium-page.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { issueTurnCredentials } from '../../../src/overlay/turn/turn-credentials.js'
import { TurnServer } from '../../../src/overlay/turn/turn-server.js'
import { required } from '../../helpers/requirements.js'

const SECRET = 'chromium-relay-secret'
const haveChromium = required(existsSync(CHROMIUM), `Chromium at ${CHROMIUM}`)
if (!haveChromium) console.warn(`chromium-relay.test.ts skipped: ${CHROMIUM} is missing`)

interface SideStats {
  packetsReceived: number
  localType?: string
  remoteType?: string
  relayProtocol?: string
}

/** Run in the page: two relay-only peer connections sending fake microphones both ways. */
async function startCall(args: { iceServers: RTCIceServer[] }): Promise<void> {
  const cfg: RTCConfiguration = { iceServers: args.iceServers, iceTransportPolicy: 'relay' }
  const a = new RTCPeerConnection(cfg)
  const b = new RTCPeerConnection(cfg)
  a.onicecandidate = (e) => void (e.candidate && b.addIceCandidate(e.candidate))
  b.onicecandidate = (e) => void (e.candidate && a.addIceCandidate(e.candidate))
  for (const pc of [a, b]) {
    const mic = await navigator.mediaDevices.getUserMedia({ audio: true })
    for (const t of mic.getTracks()) pc.addTrack(t, mic)
  }
  await a.setLocalDescription(await a.createOffer())
  await b.setRemoteDescription(a.localDescription!)
  await b.setLocalDescription(await b.createAnswer())
  await a.setRemoteDescription(b.localDescription!)
  ;(globalThis as unknown as { pcs: RTCPeerConnection[] }).pcs = [a, b]
}

/** Run in the page: per side, audio packets received and the selected pair's candidate types. */
async function readStats(): Promise<SideStats[]> {
  const pcs = (globalThis as unknown as { pcs: RTCPeerConnection[] }).pcs
  return Promise.all(
    pcs.map(async (pc) => {
      const all = new Map<string, Record<string, unknown>>()
      ;(await pc.getStats()).forEach((s: Record<string, unknown>) => all.set(s.id as string, s))
      const out: SideStats = { packetsReceived: 0 }
      for (const s of all.values()) {
        if (s.type === 'inbound-rtp' && s.kind === 'audio') {
          out.packetsReceived += (s.packetsReceived as number | undefined) ?? 0
        }
        if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') {
          const pair = all.get(s.selectedCandidatePairId)
          const local = all.get(pair?.localCandidateId as string)
          const remote = all.get(pair?.remoteCandidateId as string)
          out.localType = local?.candidateType as string | undefined
          out.remoteType = remote?.candidateType as string | undefined
          out.relayProtocol = local?.relayProtocol as string | undefined
        }
      }
      return out
    }),
  )
}

describe.skipIf(!haveChromium)('Chromium through our TURN server, relay only', () => {
  let browser: Browser | undefined
  let chrome: ChromiumPage | undefined
  let pageUrl = ''

  beforeAll(async () => {
    chrome = await openChromiumPage('kaiwa relay test', [
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--allow-loopback-in-peer-connection',
    ])
    browser = chrome.browser
    pageUrl = chrome.pageUrl
  })

  afterAll(async () => {
    await chrome?.close()
  })

  for (const transport of ['udp', 'tcp'] as const) {
    it(`relays audio both ways with TURN over ${transport}`, { timeout: 90_000 }, async () => {
      // allowLoopback: Chromium, the server and both relay addresses are on 127.0.0.1.
      const server = new TurnServer({ secret: SECRET, host: '127.0.0.1', allowLoopback: true })
      const { port } = await server.listen()
      let page: Page | undefined
      try {
        const creds = issueTurnCredentials(SECRET, `chromium-${transport}`, 600)
        const iceServers = [
          {
            urls: `turn:127.0.0.1:${port}?transport=${transport}`,
            username: creds.username,
            credential: creds.password,
          },
        ]
        page = await browser!.newPage()
        page.setDefaultTimeout(30_000)
        await page.goto(pageUrl)
        await page.evaluate(startCall, { iceServers })
        await page.waitForFunction(
          () =>
            (globalThis as unknown as { pcs: RTCPeerConnection[] }).pcs.every(
              (pc) =>
                pc.iceConnectionState === 'connected' || pc.iceConnectionState === 'completed',
            ),
          undefined,
          { timeout: 30_000, polling: 100 },
        )
        // Audio must keep flowing both ways: five samples over 2.4 s, each one higher.
        let prev = await page.evaluate(readStats)
        for (let i = 0; i < 4; i++) {
          await new Promise((r) => setTimeout(r, 600))
          const cur = await page.evaluate(readStats)
          for (const side of [0, 1]) {
            expect(cur[side]!.packetsReceived).toBeGreaterThan(prev[side]!.packetsReceived)
          }
          prev = cur
        }
        for (const side of prev) {
          expect(side).toMatchObject({
            localType: 'relay',
            remoteType: 'relay',
            relayProtocol: transport,
          })
          // 2.4 s of 20 ms Opus frames, minus the time to connect.
          expect(side.packetsReceived).toBeGreaterThan(100)
        }
        const stats = server.stats()
        expect(stats.allocations).toBeGreaterThanOrEqual(2)
        expect(stats.peersServed).toBe(1)
        expect(stats.bytesToPeers).toBeGreaterThan(10_000)
        expect(stats.bytesToClients).toBeGreaterThan(10_000)
        expect(stats.bytesRelayed).toBe(stats.bytesToPeers + stats.bytesToClients)
        expect(stats.packetsDropped - stats.droppedNoPermission).toBe(0)
      } finally {
        await page?.close().catch(() => {})
        await server.close()
      }
    })
  }
})
