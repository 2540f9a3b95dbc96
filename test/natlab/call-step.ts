/**
 * The call step of a pairing: the two clients' softphone UIs (Chromium in
 * each client's namespace, phone.ts) call each other by user ID across the
 * lab's NATs. The caller dials, the callee's page rings and answers, audio
 * RTP must keep arriving on both sides for over two seconds, and then the
 * step reads what happened to the media:
 *
 * - the selected ICE candidate pair on both sides (getStats): direct (host,
 *   srflx, prflx) or relay, and for relay how the client reached TURN;
 * - the supernode's TURN counters over the call (packets relayed): the lab's
 *   own evidence, independent of the browser;
 * - the UI's path indicator ("Direct"/"Relayed") on both sides, which must
 *   agree with the measured pair.
 *
 * Setup time is split the way a user feels it: Call pressed → the callee's
 * phone rings, and Answer pressed → audio flowing both ways.
 */
import type { Page } from 'playwright-core'
import { waitUntil } from './kaiwa-lab.js'
import type { LabNode } from './kaiwa-lab.js'
import type { PairingContext } from './pairings.js'
import { openPhone, peerConnectionCount, peerStats } from './phone.js'
import type { LabPhone, PeerStats, StatsCandidate } from './phone.js'

export interface CallResult {
  ok: boolean
  /** `direct (srflx⇄srflx)` (the caller's local ⇄ remote types) or `relay (udp)`. */
  media: string
  /** 'direct' | 'relay' from the selected pairs; 'none' without a call. */
  measured: 'direct' | 'relay' | 'none'
  /** The UI's indicator text, e.g. `Direct`, or `a: Direct / b: Relayed` when the two differ. */
  uiPath: string
  /** The UI agrees with the measured path on both sides. */
  uiAgrees: boolean
  /** Call pressed → the callee rings (ms). */
  ringMs: number
  /** Answer pressed → audio received on both sides (ms). */
  answerMs: number
  /** ringMs + answerMs. */
  setupMs: number
  /** Audio packets received over the 2.5 s check (caller, callee). */
  rtp: { caller: number; callee: number }
  /** Packets the supernode's TURN relayed during the call. */
  turnPackets: number | null
  caller: PeerStats | null
  callee: PeerStats | null
  error?: string
}

const phones = new WeakMap<PairingContext, Promise<{ a: LabPhone; b: LabPhone }>>()

/** The pairing's two phones, opened on first use and kept until closePhones. */
export function phonesFor(ctx: PairingContext): Promise<{ a: LabPhone; b: LabPhone }> {
  let p = phones.get(ctx)
  if (p == null) {
    p = Promise.all([openPhone(ctx.lab, ctx.a), openPhone(ctx.lab, ctx.b)]).then(([a, b]) => ({
      a,
      b,
    }))
    phones.set(ctx, p)
  }
  return p
}

export async function closePhones(ctx: PairingContext): Promise<void> {
  const p = phones.get(ctx)
  phones.delete(ctx)
  if (p == null) return
  const { a, b } = await p.catch(() => ({ a: null, b: null }))
  await Promise.all([a?.close(), b?.close()])
}

const button = (p: Page, name: string) => p.getByRole('button', { name, exact: true })
const userIdBox = (p: Page) => p.getByRole('textbox', { name: 'User ID', exact: true })

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The relay packet counter of the supernode's TURN server, if its status says. */
async function turnPackets(sn: LabNode): Promise<number | null> {
  try {
    const s = await sn.api<{ turn: { stats: Record<string, number> } | null }>('status')
    return s.turn?.stats.packetsRelayed ?? null
  } catch {
    return null
  }
}

/** `relay (udp)` / `direct (srflx⇄prflx)` from the caller's selected pair (and the callee's). */
export function describeMedia(
  caller: PeerStats | null,
  callee: PeerStats | null,
): { measured: CallResult['measured']; media: string } {
  const pc = caller?.pair ?? null
  const pe = callee?.pair ?? null
  if (pc == null && pe == null) return { measured: 'none', media: 'no selected pair' }
  const relays: StatsCandidate[] = [pc?.local, pe?.local].filter(
    (c): c is StatsCandidate => c?.type === 'relay',
  )
  const remoteRelay = pc?.remote.type === 'relay' || pe?.remote.type === 'relay'
  if (relays.length > 0 || remoteRelay) {
    const how = [...new Set(relays.map((c) => c.relayProtocol ?? '?'))].join('+') || '?'
    const ends = relays.length === 2 ? ', both ends' : ''
    return { measured: 'relay', media: `relay (${how}${ends})` }
  }
  const p = (pc ?? pe)!
  return { measured: 'direct', media: `direct (${p.local.type}⇄${p.remote.type})` }
}

/** The UI's path indicator once it has decided (it shows "Finding…" until the first stats poll). */
async function uiPathText(page: Page): Promise<string> {
  const dd = page.locator('.call-quality .path')
  return waitUntil(
    'the path indicator',
    async () => {
      const text = (await dd.textContent())?.trim() ?? ''
      return text !== '' && !text.includes('…') ? text : null
    },
    8_000,
    250,
  ).catch(async () => (await dd.textContent().catch(() => null))?.trim() ?? 'none')
}

const EXPECTED_UI = { direct: 'Direct', relay: 'Relayed', none: '' } as const

/**
 * One call between the pairing's clients: `from` dials the other by user ID,
 * the other answers, audio must flow both ways for 2.5 s, then `from` hangs up.
 * Never throws: a failure comes back as `ok: false` with the reason.
 */
export async function callOnce(ctx: PairingContext, from: 'a' | 'b' = 'a'): Promise<CallResult> {
  const to = from === 'a' ? 'b' : 'a'
  const result: CallResult = {
    ok: false,
    media: '–',
    measured: 'none',
    uiPath: '–',
    uiAgrees: false,
    ringMs: 0,
    answerMs: 0,
    setupMs: 0,
    rtp: { caller: 0, callee: 0 },
    turnPackets: null,
    caller: null,
    callee: null,
  }
  let caller: Page | undefined
  let callee: Page | undefined
  let nc = 0
  let ne = 0
  try {
    const ph = await phonesFor(ctx)
    caller = ph[from].page
    callee = ph[to].page
    const cr = caller
    const ce = callee
    const turn0 = await turnPackets(ctx.supernode)
    // Only this call's peer connections count (the pages keep earlier, closed ones).
    ;[nc, ne] = await Promise.all([peerConnectionCount(cr), peerConnectionCount(ce)])
    const statsC = () => peerStats(cr, nc)
    const statsE = () => peerStats(ce, ne)

    await userIdBox(cr).fill(ctx.names[to])
    const t0 = performance.now()
    await button(cr, 'Call').click()
    await button(ce, 'Answer').waitFor({ timeout: 30_000 })
    result.ringMs = performance.now() - t0
    const t1 = performance.now()
    await button(ce, 'Answer').click()
    const receiving = async (stats: () => Promise<PeerStats | null>) => {
      const s = await stats()
      return s != null && s.packetsReceived > 0 ? s : null
    }
    await Promise.all([
      waitUntil('audio at the caller', () => receiving(statsC), 15_000, 50),
      waitUntil('audio at the callee', () => receiving(statsE), 15_000, 50),
    ])
    result.answerMs = performance.now() - t1
    result.setupMs = result.ringMs + result.answerMs

    const [c0, e0] = await Promise.all([statsC(), statsE()])
    await sleep(2_500)
    const [c1, e1] = await Promise.all([statsC(), statsE()])
    result.caller = c1
    result.callee = e1
    result.rtp = {
      caller: (c1?.packetsReceived ?? 0) - (c0?.packetsReceived ?? 0),
      callee: (e1?.packetsReceived ?? 0) - (e0?.packetsReceived ?? 0),
    }
    Object.assign(result, describeMedia(c1, e1))

    const [uc, ue] = await Promise.all([uiPathText(cr), uiPathText(ce)])
    result.uiPath = uc === ue ? uc : `${from}: ${uc} / ${to}: ${ue}`
    const want = EXPECTED_UI[result.measured]
    result.uiAgrees = uc === want && ue === want

    const turn1 = await turnPackets(ctx.supernode)
    result.turnPackets = turn0 != null && turn1 != null ? turn1 - turn0 : null

    // 20 ms Opus frames: ~125 packets in 2.5 s; ask for well over half.
    const flowing = result.rtp.caller > 60 && result.rtp.callee > 60
    result.ok = flowing
    if (!flowing) {
      result.error = `audio stalled: ${result.rtp.caller} packets at the caller, ${result.rtp.callee} at the callee in 2.5 s`
    }
  } catch (err) {
    result.error = String(err).split('\n')[0]
    if (caller != null) result.caller ??= await peerStats(caller, nc).catch(() => null)
    if (callee != null) result.callee ??= await peerStats(callee, ne).catch(() => null)
  } finally {
    await hangUp(caller, callee)
  }
  return result
}

/**
 * End whatever call is up or ringing: the caller hangs up (or cancels) and the
 * callee follows by itself (BYE, CANCEL); only a page still in a call after
 * that is hung up (or declines) on its own. Then both are idle, notices dismissed.
 */
async function hangUp(caller: Page | undefined, callee: Page | undefined): Promise<void> {
  const pages = [caller, callee].filter((p): p is Page => p != null)
  const present = async (p: Page, name: string) =>
    (await button(p, name)
      .count()
      .catch(() => 0)) > 0
  const idle = (p: Page) =>
    Promise.all(
      ['Hang up', 'Answer'].map((name) =>
        button(p, name).waitFor({ state: 'detached', timeout: 10_000 }),
      ),
    ).then(
      () => true,
      () => false,
    )
  if (caller != null && (await present(caller, 'Hang up'))) {
    await button(caller, 'Hang up')
      .click({ timeout: 5_000 })
      .catch(() => {})
  }
  for (const p of pages) {
    if (await idle(p)) continue
    for (const name of ['Hang up', 'Decline']) {
      if (await present(p, name))
        await button(p, name)
          .click({ timeout: 5_000 })
          .catch(() => {})
    }
    await idle(p)
  }
  for (const p of pages) {
    if (await present(p, 'Dismiss'))
      await button(p, 'Dismiss')
        .click()
        .catch(() => {})
  }
}

/** What the UI's Settings → Network shows. */
export interface UiNetworkStatus {
  role: string
  reachability: string
  supernodes: number
  supernodeIds: string[]
}

export async function readNetworkStatus(page: Page): Promise<UiNetworkStatus> {
  await page.getByRole('tab', { name: 'Settings' }).click()
  const section = page.locator('section[aria-labelledby="network-title"]')
  await section.locator('dl').waitFor()
  const value = async (label: string): Promise<string> =>
    (
      (await section
        .locator('dt', { hasText: label })
        .locator('xpath=following-sibling::dd[1]')
        .textContent()) ?? ''
    ).trim()
  // The section also holds "Join with an invite"; open the network details.
  await section.locator('summary', { hasText: 'Details' }).first().click()
  const ids = (
    await section.locator('details ul.mono-list').first().locator('li').allTextContents()
  )
    .map((s) => s.trim())
    .filter((s) => s !== 'None')
  const status = {
    role: await value('Role'),
    reachability: await value('Reachability'),
    supernodes: Number(await value('Connected supernodes')),
    supernodeIds: ids,
  }
  await page.getByRole('tab', { name: 'Contacts' }).click()
  return status
}

/** The row of the bench's table for one call. */
export function callColumns(r: CallResult, prefix = ''): Record<string, string> {
  const pair = r.caller?.pair
  return {
    [`${prefix}call`]: r.ok ? 'ok' : `FAIL${r.error ? ` (${r.error})` : ''}`,
    [`${prefix}media`]: r.media,
    [`${prefix}pair`]:
      pair != null
        ? `${pair.local.type} ${pair.local.address}:${pair.local.port} ⇄ ${pair.remote.type} ${pair.remote.address}:${pair.remote.port}`
        : '–',
    [`${prefix}uiPath`]: r.uiAgrees ? r.uiPath : `${r.uiPath} (DISAGREES)`,
    [`${prefix}setupMs`]:
      r.setupMs > 0 ? `${Math.round(r.ringMs)} + ${Math.round(r.answerMs)}` : '–',
    [`${prefix}turnPackets`]: r.turnPackets == null ? '–' : String(r.turnPackets),
  }
}
