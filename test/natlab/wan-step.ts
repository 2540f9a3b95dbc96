/**
 * Calls and chat over an emulated WAN (link-emulator.ts): one site of a
 * pairing gets a line with the given round trip, jitter and loss, the other
 * stays ideal, so the far client sees that RTT both to its peer and to the
 * supernode's TURN server (the worst case for ICE gathering: a TURN Allocate
 * costs two round trips, RFC 8656 §6.2). The step chats both ways and places
 * one call from the far client (call-step.ts), and reads what a user feels:
 *
 * - dial → remote ringing, answer → audio both ways (call-step's timings);
 * - ICE gathering per side: peer connection made → the SDP read for sending
 *   (sip.js reads the local description once gathering ends), and when the
 *   first srflx and relay candidates came;
 * - audio quality from getStats over the call: jitter, packets lost,
 *   concealed samples (the receiver's loss concealment);
 * - message delivery time (the `message` API call until the 200 OK).
 *
 * The page instrumentation wraps RTCPeerConnection once more at run time (the
 * lab's own wrapper, phone.ts, stays underneath and keeps counting).
 */
import type { Page } from 'playwright-core'
import { callOnce, phonesFor } from './call-step.js'
import type { CallResult } from './call-step.js'
import { emulateSiteLink, symmetricLink } from './link-emulator.js'
import type { EmulatedLink, LinkStats } from './link-emulator.js'
import { chat } from './pairings.js'
import type { ChatResult, PairingContext } from './pairings.js'

export interface WanPoint {
  /** Round trip the line adds, ms (half each way). */
  rttMs: number
  /** Random loss each way, percent. */
  lossPct: number
}

/** The bench's grid: 50, 150 and 300 ms RTT, each with 1 % and 5 % loss. */
export const WAN_GRID: WanPoint[] = [50, 150, 300].flatMap((rttMs) =>
  [1, 5].map((lossPct) => ({ rttMs, lossPct })),
)

/** Jitter with the distance: ±5 % of the one-way delay, at least 1 ms. */
export const jitterFor = (p: WanPoint): number => Math.max(1, Math.round(p.rttMs / 40))

/** Put the line in front of site `siteIndex` of the pairing's lab. */
export function installWan(
  ctx: PairingContext,
  siteIndex: number,
  p: WanPoint,
  seed = 1,
): Promise<EmulatedLink> {
  return emulateSiteLink(ctx.lab, siteIndex, symmetricLink(p.rttMs, p.lossPct, jitterFor(p), seed))
}

export interface Gathering {
  /** Peer connection made → the SDP read for sending (gathering over), ms. */
  sdpMs: number | null
  srflxMs: number | null
  relayMs: number | null
}

export interface AudioQuality {
  /** Receiver jitter, ms (inbound-rtp). */
  jitterMs: number
  packetsLost: number
  packetsReceived: number
  /** Concealed samples / samples received, percent. */
  concealedPct: number
}

export interface WanSide {
  gathering: Gathering | null
  audio: AudioQuality | null
}

export interface WanResult {
  point: WanPoint
  chatAb: ChatResult
  chatBa: ChatResult
  call: CallResult
  caller: WanSide
  callee: WanSide
  line: LinkStats | null
}

/** Instrument the page's future peer connections (idempotent). */
export async function watchPeerConnections(page: Page): Promise<void> {
  await page.evaluate(() => {
    type Wan = {
      t0: number
      sld: boolean
      sdpAt: number | null
      first: Record<string, number>
      audio: Record<string, number> | null
    }
    const w = window as unknown as {
      RTCPeerConnection: typeof RTCPeerConnection
      __wanWatched?: boolean
    }
    if (w.__wanWatched) return
    w.__wanWatched = true
    const Base = w.RTCPeerConnection
    w.RTCPeerConnection = class extends Base {
      __wan: Wan
      constructor(config?: RTCConfiguration) {
        super(config)
        const wan: Wan = { t0: performance.now(), sld: false, sdpAt: null, first: {}, audio: null }
        this.__wan = wan
        this.addEventListener('icecandidate', (ev) => {
          const typ = ev.candidate?.type ?? /\styp\s+(\S+)/.exec(ev.candidate?.candidate ?? '')?.[1]
          if (typ != null && wan.first[typ] == null) wan.first[typ] = performance.now() - wan.t0
        })
        // The last audio stats before the call ends (getStats fails once closed).
        const timer = setInterval(() => {
          if (this.connectionState === 'closed') return clearInterval(timer)
          void this.getStats().then((r) => {
            const a = { jitter: 0, packetsLost: 0, packetsReceived: 0, concealed: 0, samples: 0 }
            r.forEach((s: Record<string, unknown>) => {
              if (s.type !== 'inbound-rtp' || s.kind !== 'audio') return
              a.jitter = Math.max(a.jitter, Number(s.jitter) || 0)
              a.packetsLost += Number(s.packetsLost) || 0
              a.packetsReceived += Number(s.packetsReceived) || 0
              a.concealed += Number(s.concealedSamples) || 0
              a.samples += Number(s.totalSamplesReceived) || 0
            })
            if (a.packetsReceived > 0) wan.audio = a
          })
        }, 250)
      }
      override async setLocalDescription(d?: RTCLocalSessionDescriptionInit): Promise<void> {
        await super.setLocalDescription(d)
        this.__wan.sld = true
      }
      override get localDescription(): RTCSessionDescription | null {
        const d = super.localDescription
        // sip.js reads it right after gathering ends, to send it.
        if (this.__wan?.sld && this.__wan.sdpAt == null) {
          this.__wan.sdpAt = performance.now() - this.__wan.t0
        }
        return d
      }
    }
  })
}

/** Gathering and audio of the page's newest peer connection, if it made more than `after`. */
export async function wanSide(page: Page, after: number): Promise<WanSide> {
  const raw = await page.evaluate((after: number) => {
    const pcs =
      (window as unknown as { __natlabPcs?: Array<{ __wan?: { sld: boolean } }> }).__natlabPcs ?? []
    // The call's connection: the newest that set a description (a warm connection made before
    // the call is adopted, and sip.js's own then closed unused: warm-connection.ts).
    const made = pcs.slice(after)
    return (made.filter((p) => p.__wan?.sld === true).at(-1) ?? made.at(-1))?.__wan ?? null
  }, after)
  const wan = raw as {
    sdpAt: number | null
    first: Record<string, number>
    audio: Record<string, number> | null
  } | null
  if (wan == null) return { gathering: null, audio: null }
  const round = (x: number | null | undefined) => (x == null ? null : Math.round(x))
  const a = wan.audio
  return {
    gathering: {
      sdpMs: round(wan.sdpAt),
      srflxMs: round(wan.first.srflx),
      relayMs: round(wan.first.relay),
    },
    audio:
      a == null
        ? null
        : {
            jitterMs: Math.round((a.jitter ?? 0) * 1000),
            packetsLost: a.packetsLost ?? 0,
            packetsReceived: a.packetsReceived ?? 0,
            concealedPct: a.samples ? (100 * (a.concealed ?? 0)) / a.samples : 0,
          },
  }
}

const pcCount = (page: Page) =>
  page.evaluate(() => ((window as unknown as { __natlabPcs?: unknown[] }).__natlabPcs ?? []).length)

/**
 * At one WAN point: line on the caller's site, chat both ways, a calls b.
 * The line is removed afterwards, whatever happened. Never throws for a
 * failed chat or call: those come back in the result.
 */
export async function wanStep(
  ctx: PairingContext,
  siteIndex: number,
  p: WanPoint,
  seed = 1,
): Promise<WanResult> {
  const { a, b } = await phonesFor(ctx)
  await Promise.all([watchPeerConnections(a.page), watchPeerConnections(b.page)])
  const [na, nb] = await Promise.all([pcCount(a.page), pcCount(b.page)])
  const link = await installWan(ctx, siteIndex, p, seed)
  try {
    const tag = `wan ${p.rttMs}/${p.lossPct}`
    const chatAb = await chat(ctx.a, ctx.b, ctx.names.b, `${tag} from ${ctx.names.a}`)
    const chatBa = await chat(ctx.b, ctx.a, ctx.names.a, `${tag} from ${ctx.names.b}`)
    const call = await callOnce(ctx, 'a')
    const [caller, callee] = await Promise.all([wanSide(a.page, na), wanSide(b.page, nb)])
    const line = await link.stats().catch(() => null)
    return { point: p, chatAb, chatBa, call, caller, callee, line }
  } finally {
    await link.stop()
  }
}

/** The bench's row for one point. */
export function wanColumns(r: WanResult): Record<string, string> {
  const ms = (x: number | null | undefined) => (x == null ? '–' : String(Math.round(x)))
  const g = (s: WanSide) =>
    s.gathering == null
      ? '–'
      : `${ms(s.gathering.sdpMs)} (srflx ${ms(s.gathering.srflxMs)}, relay ${ms(s.gathering.relayMs)})`
  const q = (s: WanSide) =>
    s.audio == null
      ? '–'
      : `${s.audio.jitterMs} ms, ${s.audio.packetsLost} lost, ${s.audio.concealedPct.toFixed(1)} % concealed`
  return {
    rtt: `${r.point.rttMs}`,
    loss: `${r.point.lossPct}`,
    chat: [r.chatAb, r.chatBa]
      .map((c) => (c.ok ? ms(c.ms) : `FAIL after ${ms(c.ms)} (${c.error ?? '?'})`))
      .join(' / '),
    call: r.call.ok ? 'ok' : `FAIL${r.call.error ? ` (${r.call.error})` : ''}`,
    media: r.call.media,
    ring: r.call.ringMs > 0 ? ms(r.call.ringMs) : '–',
    answer: r.call.answerMs > 0 ? ms(r.call.answerMs) : '–',
    gatherCaller: g(r.caller),
    gatherCallee: g(r.callee),
    offered: (r.call.caller?.offeredLocal ?? []).join(' ') || '–',
    audioCaller: q(r.caller),
    audioCallee: q(r.callee),
  }
}
