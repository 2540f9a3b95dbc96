/**
 * Pairings of two clients across the lab (cone↔cone, symmetric↔symmetric,
 * same NAT, double NAT, one side public…) and the steps run for each: start
 * both clients behind their NATs, wait until each finds the other's record,
 * chat both ways, let the link settle (a relayed link tries to move to
 * WebRTC), and say what it became. chat.test.ts runs a subset, bench/nat.mjs
 * the whole matrix; extra steps plug in through PairingHooks (the softphone
 * call step, call-step.ts: calls.test.ts and bench/nat-call-step.mjs).
 */
import type { Lab, LabHost, SiteSpec } from './lab.js'
import { createLab } from './lab.js'
import { NAT_MODES, punchable } from './nat-modes.js'
import { isIpv6Only } from './lab-ipv6.js'
import type { NatMode } from './nat-modes.js'
import { bootstrapAddr, startLabNode, waitUntil } from './kaiwa-lab.js'
import type { LabNode, LabNodeOptions } from './kaiwa-lab.js'
import { classifyLink, describePair, iceInProgress, openConnections } from './link-path.js'
import type { LinkKind, LinkPath } from './link-path.js'

export interface PairingSpec {
  id: string
  label: string
  /** The sites this pairing needs; `a` and `b` point into them. */
  sites: SiteSpec[]
  a: { site: number; host: number }
  b: { site: number; host: number }
  /** Whether plain UDP hole punching (STUN only) can connect the two: the physics. */
  punchable: boolean
}

const SHORT: Record<NatMode, string> = {
  none: 'public',
  'full-cone': 'cone',
  'port-restricted': 'prc',
  symmetric: 'sym',
}

/** Two clients, each behind its own router with the given modes. */
export function modePairing(x: NatMode, y: NatMode): PairingSpec {
  return {
    id: `${SHORT[x]}-${SHORT[y]}`,
    label: `${x} ↔ ${y}`,
    sites: [{ nat: x }, { nat: y }],
    a: { site: 0, host: 0 },
    b: { site: 1, host: 0 },
    punchable: punchable(x, y),
  }
}

/** Both clients behind one NAT, which does not hairpin. */
export function sameNatPairing(mode: NatMode): PairingSpec {
  return {
    id: `same-${SHORT[mode]}`,
    label: `same NAT (${mode}, no hairpin)`,
    sites: [{ nat: mode, hosts: 2 }],
    a: { site: 0, host: 0 },
    b: { site: 0, host: 1 },
    // Host candidates on the shared LAN.
    punchable: true,
  }
}

/** A client behind a home NAT behind a carrier NAT, and one behind `other`. */
export function doubleNatPairing(home: NatMode, carrier: NatMode, other: NatMode): PairingSpec {
  // The pair of NATs maps endpoint-independently only if both do, and filters
  // as the stricter one: it behaves as the "worse" of the two.
  const rank = NAT_MODES.indexOf.bind(NAT_MODES)
  const effective = rank(home) >= rank(carrier) ? home : carrier
  return {
    id: `double-${SHORT[home]}${SHORT[carrier]}-${SHORT[other]}`,
    label: `double NAT (${home} behind ${carrier}) ↔ ${other}`,
    sites: [{ nat: home, carrier }, { nat: other }],
    a: { site: 0, host: 0 },
    b: { site: 1, host: 0 },
    punchable: punchable(effective, other),
  }
}

/** Every ordered pair of NAT modes, then double NAT and same NAT. */
export function fullMatrix(): PairingSpec[] {
  const out: PairingSpec[] = []
  for (const x of NAT_MODES) for (const y of NAT_MODES) out.push(modePairing(x, y))
  out.push(doubleNatPairing('port-restricted', 'port-restricted', 'port-restricted'))
  out.push(doubleNatPairing('port-restricted', 'symmetric', 'port-restricted'))
  out.push(doubleNatPairing('port-restricted', 'port-restricted', 'full-cone'))
  out.push(sameNatPairing('port-restricted'))
  out.push(sameNatPairing('symmetric'))
  return out
}

export interface PlacedPairing {
  spec: PairingSpec
  a: LabHost
  b: LabHost
}

/** One lab holding the sites of several pairings side by side (site indices shifted). */
export function createPairingsLab(
  specs: PairingSpec[],
  opts: { udpTimeoutS?: number } = {},
): { lab: Lab; placed: PlacedPairing[] } {
  const sites: SiteSpec[] = []
  const offsets: number[] = []
  for (const s of specs) {
    offsets.push(sites.length)
    sites.push(...s.sites)
  }
  const lab = createLab({ sites, publicHosts: 1, ...opts })
  const placed = specs.map((spec, i) => ({
    spec,
    a: lab.sites[offsets[i]! + spec.a.site]!.hosts[spec.a.host]!,
    b: lab.sites[offsets[i]! + spec.b.site]!.hosts[spec.b.host]!,
  }))
  return { lab, placed }
}

export interface PairingContext {
  lab: Lab
  spec: PairingSpec
  supernode: LabNode
  a: LabNode
  b: LabNode
  /** User IDs of a and b. */
  names: { a: string; b: string }
}

export interface PairingHooks {
  /** After chat: e.g. a call between a and b; its columns go into the result. */
  afterChat?: (ctx: PairingContext) => Promise<Record<string, string>>
  /** After the keepalive idle and the chat that follows it (the bench's --keepalive). */
  afterIdle?: (ctx: PairingContext) => Promise<Record<string, string>>
  /** Before the pairing's lab goes away: release what the hooks opened (browsers). */
  dispose?: (ctx: PairingContext) => Promise<void>
}

export interface ChatResult {
  ok: boolean
  /** Time for the `message` API call (lookup, dial, SIP MESSAGE, 200 OK). */
  ms: number
  error?: string
}

export interface LinkReport {
  kind: LinkKind
  addr: string
  pair: string
  /** From the first message until a direct WebRTC connection was up, if one came. */
  directAfterMs: number | null
  connId: string | null
}

export interface PairingResult {
  id: string
  label: string
  punchable: boolean
  ab: ChatResult
  ba: ChatResult
  link: LinkReport
  extra: Record<string, string>
  /** What the dialling side logged about the direct-link attempt. */
  notes: string[]
}

export interface RunPairingOptions {
  supernode: LabNode
  hooks?: PairingHooks
  nodeOptions?: Partial<LabNodeOptions>
  say?: (m: string) => void
}

/** Start a pairing's two clients and wait until each can find the other through the DHT. */
export async function startPairing(
  lab: Lab,
  placed: PlacedPairing,
  opts: RunPairingOptions,
): Promise<PairingContext> {
  const { spec } = placed
  const names = { a: `a-${spec.id}`, b: `b-${spec.id}` }
  // An IPv6-only host reaches the (dual-stack) supernode over IPv6.
  const bootstrap = (h: LabHost) => [bootstrapAddr(opts.supernode, isIpv6Only(h) ? 6 : 4)]
  const common: Partial<LabNodeOptions> = { logLevel: 'debug', ...opts.nodeOptions }
  const [a, b] = await Promise.all([
    startLabNode(lab, placed.a, {
      label: names.a,
      supernode: 'off',
      name: names.a,
      bootstrap: bootstrap(placed.a),
      ...common,
    }),
    startLabNode(lab, placed.b, {
      label: names.b,
      supernode: 'off',
      name: names.b,
      bootstrap: bootstrap(placed.b),
      ...common,
    }),
  ])
  // Each must see the other's record with a relay address: before that, a
  // NATed peer is unreachable and the test would measure start-up, not NAT.
  for (const [n, other] of [
    [a, names.b],
    [b, names.a],
  ] as const) {
    await waitUntil(
      `${n.label} to find ${other}'s record with a relay address`,
      async () => {
        const r = await n.api<{ record: { devices: Array<{ addrs: string[] }> } }>('lookup', {
          name: other,
        })
        return r.record.devices.some((d) => d.addrs.some((x) => x.includes('/p2p-circuit')))
      },
      60_000,
      500,
    )
  }
  return { lab, spec, supernode: opts.supernode, a, b, names }
}

/** One message from `from` to user `to`, checked in the recipient's inbox. */
export async function chat(
  from: LabNode,
  to: LabNode,
  toName: string,
  text: string,
): Promise<ChatResult> {
  const t0 = performance.now()
  try {
    const r = await from.api<{ status: string }>('message', { to: toName, text })
    const ms = performance.now() - t0
    if (r.status !== 'delivered') return { ok: false, ms, error: `status ${r.status}` }
    // "delivered" is the recipient's answer; with its UI registered, its node files the
    // message in its history once that answer has gone back (sip-router.ts onFinal), a
    // few milliseconds later: look for it for a while, not once.
    const deadline = Date.now() + 5000
    for (;;) {
      const inbox = await to.api<{ messages: Array<{ text: string }> }>('inbox', {})
      if (inbox.messages.some((m) => m.text === text)) return { ok: true, ms }
      if (Date.now() > deadline)
        return { ok: false, ms, error: 'delivered, but not in the inbox after 5 s' }
      await new Promise((r) => setTimeout(r, 100))
    }
  } catch (err) {
    return { ok: false, ms: performance.now() - t0, error: String(err) }
  }
}

/** Wait until no WebRTC attempt is running on either side (at most `maxMs`), then classify. */
export async function settleLink(
  ctx: PairingContext,
  since: number,
  maxMs = 25_000,
): Promise<LinkReport> {
  const deadline = Date.now() + maxMs
  const minUntil = Date.now() + 2_000
  for (;;) {
    const ea = ctx.a.probe()
    const eb = ctx.b.probe()
    const path = classifyLink(ea, ctx.b.ready.peerId)
    // ICE under way, or an upgrade started whose outcome neither node has logged yet:
    // on a loaded machine the WebRTC dial may not have made its peer connection yet.
    const busy = iceInProgress(ea) || iceInProgress(eb) || upgradePending(ctx)
    if (path.kind === 'webrtc-direct' || path.kind === 'webrtc-turn') return report(path, since)
    if ((!busy && Date.now() >= minUntil) || Date.now() > deadline) return report(path, since)
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** A node logged that it tries a direct WebRTC link to the other, and not yet how that ended. */
function upgradePending(ctx: PairingContext): boolean {
  for (const [n, other] of [
    [ctx.a, ctx.b],
    [ctx.b, ctx.a],
  ] as const) {
    const peer = other.ready.peerId
    const log = n.stderr()
    const started = log.split(`SIP link to ${peer} is relayed: trying`).length - 1
    const ended = log.split(`direct WebRTC upgrade to ${peer}:`).length - 1
    if (started > ended) return true
  }
  return false
}

function report(path: LinkPath, since: number): LinkReport {
  return {
    kind: path.kind,
    addr: path.conn?.addr ?? '',
    pair: describePair(path.pair),
    directAfterMs:
      path.conn != null && path.kind.startsWith('webrtc')
        ? Math.max(0, path.conn.openedAt - since)
        : null,
    connId: path.conn?.id ?? null,
  }
}

/** Chat a→b then b→a, settle and classify the link, run the hooks. */
export async function exercisePairing(
  ctx: PairingContext,
  hooks: PairingHooks = {},
  tag = 'hello',
): Promise<PairingResult> {
  const since = Date.now()
  const ab = await chat(ctx.a, ctx.b, ctx.names.b, `${tag} from ${ctx.names.a}`)
  const ba = await chat(ctx.b, ctx.a, ctx.names.a, `${tag} from ${ctx.names.b}`)
  const link = await settleLink(ctx, since)
  const extra = hooks.afterChat != null ? await hooks.afterChat(ctx) : {}
  return {
    id: ctx.spec.id,
    label: ctx.spec.label,
    punchable: ctx.spec.punchable,
    ab,
    ba,
    link,
    extra,
    notes: directLinkNotes(ctx),
  }
}

/** The SIP layer's own words about moving to a direct link (info/debug log lines). */
export function directLinkNotes(ctx: PairingContext): string[] {
  const out: string[] = []
  for (const n of [ctx.a, ctx.b]) {
    for (const line of n.stderr().split('\n')) {
      const m =
        /(moved to a direct WebRTC connection|direct WebRTC upgrade to \S+: (.*)|stays on the relay: (.*))$/.exec(
          line,
        )
      if (m != null) out.push(`${n.label}: ${m[3] ?? m[2] ?? m[1]}`)
    }
  }
  return [...new Set(out)]
}

/** Open connections between a and b right now, as `kind addr` strings (for failure messages). */
export function connectionSummary(ctx: PairingContext): string {
  return openConnections(ctx.a.probe(), ctx.b.ready.peerId)
    .map((c) => `${c.dir} ${c.limited ? 'limited ' : ''}${c.addr}`)
    .join('\n')
}
