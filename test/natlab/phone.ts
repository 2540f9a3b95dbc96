/**
 * The softphone UI of a lab node, in a real Chromium that runs INSIDE the
 * node's namespace: the UI's address is 127.0.0.1 there, and WebRTC must
 * gather its candidates on the lab's interfaces, behind the lab's NATs. Only
 * the browser process itself crosses into the namespace: playwright starts a
 * wrapper (`ip netns exec NS /usr/bin/chromium "$@"`), which execs Chromium
 * with the debugging pipe it was handed, so the test drives the page as usual.
 * Chromium and every helper it forks live in the namespace; the lab kills them
 * at teardown (and the reaper if this process dies), like its own processes.
 *
 * Every page gets an init script that keeps each RTCPeerConnection the UI
 * creates, so `peerStats` can read the selected ICE candidate pair and the
 * candidates each side signalled, next to what the UI itself shows.
 */
import { chmodSync, existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import type { BrowserContext, Page } from 'playwright-core'
import { IP } from './exec.js'
import type { Lab } from './lab.js'
import type { LabNode } from './kaiwa-lab.js'

export const CHROMIUM = '/usr/bin/chromium'

export const CHROMIUM_ARGS = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--no-sandbox',
  '--autoplay-policy=no-user-gesture-required',
  // Nothing leaves the lab anyway (no route out of it), but Chromium's own DNS
  // queries (to the host's resolver, unreachable from the lab) would make the
  // lab's core answer with ICMP unreachables and use up its per-host ICMP rate
  // limit; after that, the node's TCP dials to another site's private address
  // hang until their timeout instead of failing at once (6 s first contacts).
  // The UI needs no name resolution: its address is 127.0.0.1.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
]

/** Is the switch of `arg` (`--name` of `--name=value`) among `args`? */
const overridden = (arg: string, args: readonly string[]): boolean =>
  args.some((a) => a.split('=')[0] === arg.split('=')[0])

/** Null when Chromium can run here; else why the browser tests cannot. */
export function chromiumUnavailableReason(): string | null {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (Debian package chromium)`
  return null
}

export interface LabPhone {
  node: LabNode
  context: BrowserContext
  page: Page
  close(): Promise<void>
}

/** One candidate as getStats describes it. */
export interface StatsCandidate {
  type: string
  address: string
  port: number
  protocol: string
  /** For relay candidates: how this side reaches its TURN server (udp, tcp, tls). */
  relayProtocol?: string
  /** For local server-reflexive and relay candidates: the STUN/TURN URL they came from. */
  url?: string
}

export interface PeerStats {
  iceState: string
  pair: { local: StatsCandidate; remote: StatsCandidate; rttMs: number | null } | null
  packetsReceived: number
  packetsSent: number
  /** Candidate types in the local and remote SDP (what was signalled: no trickle). */
  offeredLocal: string[]
  offeredRemote: string[]
  /** Local candidates Chromium gathered, including any after the SDP left. */
  gathered: string[]
  /**
   * Every peer connection the page made since `after`, as ICE/signalling state
   * (`*` marks the one read): a failure message then shows what else was made.
   */
  made: string[]
}

type PcWindow = {
  __natlabPcs?: RTCPeerConnection[]
  __natlabPinned?: { pc: RTCPeerConnection; after: number }
}

/**
 * Fix which peer connection `peerStats(page, after)` reads from now on: the
 * one it reads now (the call's, once the call is up). Calls that renegotiate
 * (an ICE restart) keep their connection; a later peer connection, whatever
 * made it, must not be read as the call's.
 */
export function pinCallConnection(page: Page, after: number): Promise<number> {
  return page.evaluate((after: number) => {
    const w = window as unknown as PcWindow
    const pcs = w.__natlabPcs ?? []
    const made = pcs.slice(after)
    const pc = made.filter((p) => p.localDescription != null).at(-1) ?? made.at(-1)
    if (pc == null) throw new Error('no peer connection to pin')
    w.__natlabPinned = { pc, after }
    return pcs.indexOf(pc)
  }, after)
}

/** Chromium in `node`'s namespace, on `node`'s UI, logged in with the token from the ready line. */
export async function openPhone(lab: Lab, node: LabNode): Promise<LabPhone> {
  const url = node.ready.ui
  if (url == null) throw new Error(`${node.label} runs without --ui`)
  const dir = lab.tempDir(`kaiwa-natlab-chromium-${node.label}-`)
  const wrapper = join(dir, 'chromium-in-ns.sh')
  writeFileSync(wrapper, `#!/bin/sh\nexec ${IP} netns exec ${node.host.ns} ${CHROMIUM} "$@"\n`)
  chmodSync(wrapper, 0o755)
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: wrapper,
    // A node's own flag replaces the default of the same name (e.g. --host-resolver-rules).
    args: [...CHROMIUM_ARGS.filter((a) => !overridden(a, node.chromiumArgs)), ...node.chromiumArgs],
    headless: true,
    viewport: { width: 1200, height: 760 },
  })
  await context.addInitScript(keepPeerConnections)
  const page = context.pages()[0] ?? (await context.newPage())
  page.setDefaultTimeout(30_000)
  page.on('pageerror', (err) => console.error(`${node.label}: page error: ${err.message}`))
  await page.goto(url)
  // The node claimed its name at start (--name): straight to the main screen,
  // registered with the node once "Online" shows.
  await page.locator('.self-state', { hasText: 'Online' }).waitFor({ timeout: 60_000 })
  return {
    node,
    context,
    page,
    close: async () => {
      await context.close().catch(() => {})
    },
  }
}

/** Runs in the page before its own scripts: remember every RTCPeerConnection (for peerStats). */
export function keepPeerConnections(): void {
  const w = window as unknown as {
    RTCPeerConnection: typeof RTCPeerConnection
    __natlabPcs?: RTCPeerConnection[]
  }
  const Orig = w.RTCPeerConnection
  const pcs: RTCPeerConnection[] = []
  w.__natlabPcs = pcs
  w.RTCPeerConnection = class extends Orig {
    constructor(config?: RTCConfiguration) {
      super(config)
      pcs.push(this)
    }
  }
}

/** How many peer connections the page has made so far (the next call's is newer). */
export function peerConnectionCount(page: Page): Promise<number> {
  return page.evaluate(
    () => ((window as unknown as { __natlabPcs?: RTCPeerConnection[] }).__natlabPcs ?? []).length,
  )
}

/**
 * The call's peer connection's selected pair, audio counters and candidates;
 * null while the page has made no more than `after` of them (an earlier
 * call's, closed, must not count for this one).
 */
export function peerStats(page: Page, after = 0): Promise<PeerStats | null> {
  return page.evaluate(async (after: number) => {
    const w = window as unknown as {
      __natlabPcs?: RTCPeerConnection[]
      __natlabPinned?: { pc: RTCPeerConnection; after: number }
    }
    const pcs = w.__natlabPcs ?? []
    // The call's connection: the pinned one, or else the newest one that made a description.
    // The UI may make a warm connection before the call (warm-connection.ts), and sip.js's
    // own is then closed unused.
    const made = pcs.slice(after)
    const pinned = w.__natlabPinned?.after === after ? w.__natlabPinned.pc : undefined
    const pc = pinned ?? made.filter((p) => p.localDescription != null).at(-1) ?? made.at(-1)
    if (pc == null) return null
    const report = await pc.getStats()
    const byId = new Map<string, Record<string, unknown>>()
    report.forEach((s: Record<string, unknown>) => byId.set(String(s.id), s))
    const all = [...byId.values()]
    let pairStats: Record<string, unknown> | undefined
    for (const s of all) {
      if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') {
        pairStats = byId.get(s.selectedCandidatePairId)
      }
    }
    const cand = (id: unknown) => {
      const c = byId.get(String(id))
      if (c == null) return { type: '?', address: '?', port: 0, protocol: '?' }
      return {
        type: String(c.candidateType),
        // Chromium leaves a remote peer-reflexive candidate's address out (privacy).
        address: String(c.address ?? c.ip ?? '') || 'hidden',
        port: Number(c.port),
        protocol: String(c.protocol),
        ...(c.relayProtocol != null ? { relayProtocol: String(c.relayProtocol) } : {}),
        ...(c.url != null ? { url: String(c.url) } : {}),
      }
    }
    const sum = (type: string, f: string): number =>
      all
        .filter((s) => s.type === type && s.kind === 'audio')
        .reduce((n, s) => n + (Number(s[f]) || 0), 0)
    const types = (sdp: string | undefined): string[] =>
      [...(sdp ?? '').matchAll(/^a=candidate:.* typ (\S+)/gm)].map((m) => m[1]!)
    return {
      iceState: pc.iceConnectionState,
      pair:
        pairStats == null
          ? null
          : {
              local: cand(pairStats.localCandidateId),
              remote: cand(pairStats.remoteCandidateId),
              rttMs:
                typeof pairStats.currentRoundTripTime === 'number'
                  ? Math.round(pairStats.currentRoundTripTime * 1000)
                  : null,
            },
      packetsReceived: sum('inbound-rtp', 'packetsReceived'),
      packetsSent: sum('outbound-rtp', 'packetsSent'),
      offeredLocal: types(pc.localDescription?.sdp),
      offeredRemote: types(pc.remoteDescription?.sdp),
      made: made.map((p) => `${p.iceConnectionState}/${p.signalingState}${p === pc ? '*' : ''}`),
      gathered: all
        .filter((s) => s.type === 'local-candidate')
        .map(
          (s) =>
            `${String(s.candidateType)}${s.relayProtocol ? `/${String(s.relayProtocol)}` : ''}`,
        ),
    }
  }, after)
}
