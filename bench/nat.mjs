// NAT traversal matrix (npm run bench:nat, root only): builds the namespace
// lab of test/natlab/, checks each NAT mode's behaviour with UDP probes, then
// for every pairing (each NAT mode on each side, double NAT, same NAT) starts a
// supernode and two `kaiwa node --ui` clients, chats both ways, reports how the
// overlay link ended up, and has the two softphone UIs (headless Chromium in
// each client's namespace) call each other: the media path from the selected
// ICE candidate pair, next to what the physics allows and what the UI shows.
//
//   npm run bench:nat -- [--only id,id] [--batch 3] [--fix-turn] [--keepalive]
//                        [--no-calls] [--call-step ./module.mjs] [--json out.json]
//   npm run bench:nat -- --wan [--only cone-cone,sym-sym] [--rtt 50,150,300] [--loss 1,5]
//                        [--seed 1] [--json out.json]
//
// --wan        instead of the matrix: chat and a call through an emulated WAN
//              line (latency × loss grid, bench/nat-wan.mjs).
// --fix-turn   what-if for the proposed TURN fixes (see docs): encode TURN
//              credentials for node-datachannel, bind the supernode's TURN to
//              its public address.
// --keepalive  idle past the UDP conntrack timeout, then chat again and call
//              again (the other way: "call in").
// --no-calls   chat and overlay links only (no browser).
// --call-step  the call step (default bench/nat-call-step.mjs): a module whose
//              default export `async (ctx) => ({ call, media, ... })` runs
//              after the chat of each pairing (ctx: lab, spec, supernode, a, b,
//              names; see test/natlab/pairings.ts), with optional exports
//              `afterIdle(ctx)`, `dispose(ctx)`, `nodeOptions` and `unavailable`
//              (a reason to skip the calls).
import './nat-ts.mjs'
import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

const { labUnavailableReason } = await import('../test/natlab/exec.ts')
const { assertBuilt } = await import('../test/helpers/cli.ts')
const { createLab } = await import('../test/natlab/lab.ts')
const { NAT_MODES } = await import('../test/natlab/nat-modes.ts')
const { startAgent } = await import('../test/natlab/agent-client.ts')
const { probeNat, probeEarlyInbound, startProbeServers } =
  await import('../test/natlab/nat-probe.ts')
const { startLabNode } = await import('../test/natlab/kaiwa-lab.ts')
const P = await import('../test/natlab/pairings.ts')

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    batch: { type: 'string', default: '3' },
    'fix-turn': { type: 'boolean', default: false },
    keepalive: { type: 'boolean', default: false },
    'udp-timeout': { type: 'string', default: '30' },
    'call-step': {
      type: 'string',
      default: fileURLToPath(new URL('./nat-call-step.mjs', import.meta.url)),
    },
    calls: { type: 'boolean', default: true },
    json: { type: 'string' },
    wan: { type: 'boolean', default: false },
    rtt: { type: 'string' },
    loss: { type: 'string' },
    seed: { type: 'string' },
  },
  allowNegative: true,
})

const why = labUnavailableReason()
if (why != null) {
  console.error(`bench:nat needs the NAT lab: ${why}`)
  process.exit(2)
}
await assertBuilt()

const t0 = Date.now()
const say = (m) => process.stderr.write(`[nat ${((Date.now() - t0) / 1000).toFixed(0)}s] ${m}\n`)
if (args.wan) {
  const { runWan } = await import('./nat-wan.mjs')
  await runWan(args, say)
  say(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s`)
  process.exit(0)
}
const udpTimeoutS = Number(args['udp-timeout'])
const fixTurn = args['fix-turn']
const hooks = {}
let nodeOptions = { fixTurn }
let callsSkipped = args.calls ? null : '--no-calls'
if (args.calls) {
  const mod = await import(pathToFileURL(resolve(args['call-step'])).href)
  if (mod.unavailable != null) {
    callsSkipped = mod.unavailable
    say(`calls skipped: ${mod.unavailable}`)
  } else {
    hooks.afterChat = mod.default
    hooks.afterIdle = mod.afterIdle
    hooks.dispose = mod.dispose
    nodeOptions = { ...mod.nodeOptions, fixTurn }
  }
}

// 1. The lab is what it claims: one host behind each NAT mode, probed.
say('probing the NAT modes')
const natRows = []
{
  const lab = createLab({
    publicHosts: 3,
    udpTimeoutS,
    sites: [
      ...NAT_MODES.map((nat) => ({ nat })),
      { nat: 'port-restricted', carrier: 'port-restricted' },
    ],
  })
  try {
    const pubs = []
    for (const p of lab.publicHosts) pubs.push(await startAgent(lab, p.ns))
    await startProbeServers(pubs)
    for (const site of lab.sites) {
      const h = site.hosts[0]
      const agent = await startAgent(lab, h.ns)
      const b = await probeNat(agent, h.addr, pubs)
      const early = await probeEarlyInbound(agent, site.publicAddr, pubs)
      natRows.push([
        site.carrier ? `${site.nat} behind ${site.carrier}` : site.nat,
        b.mapping,
        b.filtering,
        early.external === `${site.publicAddr}:${early.local}` ? 'kept' : 'moved',
      ])
    }
  } finally {
    await lab.destroy()
  }
}
printMarkdown(
  'NAT modes as measured (UDP probes)',
  ['router', 'mapping', 'filtering', 'mapping when the peer packet arrives first'],
  natRows,
)

// 2. The matrix.
let specs = P.fullMatrix()
if (args.only != null) {
  const want = new Set(args.only.split(','))
  specs = specs.filter((s) => want.has(s.id))
}
const batch = Math.max(1, Number(args.batch))
const results = []
for (let i = 0; i < specs.length; i += batch) {
  const group = specs.slice(i, i + batch)
  say(`lab for ${group.map((s) => s.id).join(', ')}`)
  const { lab, placed } = P.createPairingsLab(group, { udpTimeoutS })
  try {
    const sn = await startLabNode(lab, lab.publicHosts[0], {
      label: 'sn',
      supernode: 'on',
      fixTurn,
    })
    const ctxs = []
    for (const p of placed) {
      try {
        ctxs.push(await P.startPairing(lab, p, { supernode: sn, nodeOptions }))
      } catch (err) {
        results.push(failed(p.spec, `start-up: ${String(err).split('\n')[0]}`))
      }
    }
    for (const ctx of ctxs) {
      const r = await P.exercisePairing(ctx, hooks)
      say(
        `${r.id}: a→b ${r.ab.ok ? 'ok' : 'FAIL'}, b→a ${r.ba.ok ? 'ok' : 'FAIL'}, ${r.link.kind}` +
          (r.extra.call != null
            ? `; call ${r.extra.call}, ${r.extra.media}, UI ${r.extra.uiPath}`
            : ''),
      )
      results.push(r)
    }
    if (args.keepalive && ctxs.length > 0) {
      say(`idle ${udpTimeoutS + 5} s (UDP conntrack timeout ${udpTimeoutS} s)`)
      await new Promise((r) => setTimeout(r, (udpTimeoutS + 5) * 1000))
      for (const ctx of ctxs) {
        const r = results.find((x) => x.id === ctx.spec.id)
        const since = Date.now()
        const ab = await P.chat(ctx.a, ctx.b, ctx.names.b, 'after idle a')
        const ba = await P.chat(ctx.b, ctx.a, ctx.names.a, 'after idle b')
        const link = await P.settleLink(ctx, since)
        r.afterIdle = {
          ok: ab.ok && ba.ok,
          delivered: [ab.ok, ba.ok],
          kind: link.kind,
          sameConn: link.connId != null && link.connId === r.link.connId,
        }
        if (hooks.afterIdle != null) {
          Object.assign(r.extra, await hooks.afterIdle(ctx))
          say(`${r.id} after idle: call ${r.extra['idle.call']}, ${r.extra['idle.media']}`)
        }
      }
    }
    if (hooks.dispose != null) for (const ctx of ctxs) await hooks.dispose(ctx)
  } finally {
    await lab.destroy()
  }
}

const verdict = (r) => {
  if (!r.ab.ok || !r.ba.ok) return 'chat failed'
  const direct = r.link.kind === 'webrtc-direct' || r.link.kind === 'tcp-direct'
  if (r.punchable && !direct) return 'NOT DIRECT (physics allows it)'
  if (!r.punchable && direct) return 'direct?! (physics says no)'
  return 'as expected'
}
const fmt = (ms) => (ms == null ? '–' : `${Math.round(ms)}`)
printMarkdown(
  `Overlay links across NATs${fixTurn ? ' (with the proposed TURN fixes)' : ''}`,
  [
    'pairing (a ↔ b)',
    'punchable',
    'chat a→b / b→a',
    'a→b ms (cold)',
    'b→a ms',
    'overlay link',
    'selected ICE pair (a side)',
    'direct after ms',
    ...(args.keepalive ? ['after idle'] : []),
    'verdict',
  ],
  results.map((r) => [
    r.label,
    r.punchable ? 'yes' : 'no',
    `${r.ab.ok ? 'ok' : 'FAIL'} / ${r.ba.ok ? 'ok' : 'FAIL'}`,
    fmt(r.ab.ms),
    fmt(r.ba.ms),
    r.link.kind,
    r.link.pair || '–',
    fmt(r.link.directAfterMs),
    ...(args.keepalive
      ? [
          r.afterIdle == null
            ? '–'
            : `${r.afterIdle.ok ? 'ok' : 'FAIL'}, ${r.afterIdle.kind}${r.afterIdle.sameConn ? ' (same link)' : ''}`,
        ]
      : []),
    verdict(r),
  ]),
)

if (callsSkipped == null) {
  const mediaVerdict = (r) => {
    if (r.extra.call !== 'ok') return 'call failed'
    const relayed = r.extra.media.startsWith('relay')
    const ui = r.extra.uiPath.includes('DISAGREES') ? '; UI disagrees' : ''
    if (r.punchable && relayed) return `RELAYED (physics allows direct)${ui}`
    if (!r.punchable && !relayed) return `direct?! (physics says relay)${ui}`
    return `as expected${ui}`
  }
  printMarkdown(
    'Calls across NATs (softphone UI in Chromium, fake audio)',
    [
      'pairing (a ↔ b)',
      'expected media',
      'chat',
      'call a→b',
      'media path',
      'selected pair (caller)',
      'UI path',
      'setup ms (ring + answer)',
      'TURN pkts',
      ...(args.keepalive ? ['after idle: chat / call b→a', 'after idle: media, UI, setup ms'] : []),
      'UI network (a / b)',
      'verdict',
    ],
    results.map((r) => [
      r.label,
      r.punchable ? 'direct' : 'relay',
      r.ab.ok && r.ba.ok ? 'ok' : 'FAIL',
      r.extra.call ?? '–',
      r.extra.media ?? '–',
      r.extra.pair ?? '–',
      r.extra.uiPath ?? '–',
      r.extra.setupMs ?? '–',
      r.extra.turnPackets ?? '–',
      ...(args.keepalive
        ? [
            `${r.afterIdle == null ? '–' : r.afterIdle.ok ? 'ok' : 'FAIL'} / ${r.extra['idle.call'] ?? '–'}`,
            r.extra['idle.call'] == null
              ? '–'
              : `${r.extra['idle.media']}, ${r.extra['idle.uiPath']}, ${r.extra['idle.setupMs']}`,
          ]
        : []),
      r.extra.uiNet ?? '–',
      mediaVerdict(r),
    ]),
  )
  const ok = results.flatMap((r) => [r.extra.call, r.extra['idle.call']]).filter((c) => c === 'ok')
  const tried = results.length * (args.keepalive ? 2 : 1)
  console.log(`\nCalls connected with audio both ways: ${ok.length}/${tried}`)
}
const msgs = results.flatMap((r) => [r.ab.ok, r.ba.ok, ...(r.afterIdle?.delivered ?? [])])
const sent = results.length * (args.keepalive ? 4 : 2)
console.log(`Messages delivered: ${msgs.filter(Boolean).length}/${sent}`)
const notes = results.filter((r) => r.notes.length > 0 || r.ab.error || r.ba.error)
if (notes.length > 0) {
  console.log('\nNotes')
  for (const r of notes) {
    for (const n of [
      r.ab.error && `a→b: ${r.ab.error}`,
      r.ba.error && `b→a: ${r.ba.error}`,
      ...r.notes,
    ]) {
      if (n) console.log(`  ${r.id}: ${n}`)
    }
  }
}
console.log(
  `\n${results.length} pairings in ${((Date.now() - t0) / 1000).toFixed(0)} s on ${process.arch}, Node ${process.version}`,
)
if (args.json != null) writeFileSync(args.json, JSON.stringify({ natRows, results }, null, 2))

function failed(spec, error) {
  return {
    id: spec.id,
    label: spec.label,
    punchable: spec.punchable,
    ab: { ok: false, ms: 0, error },
    ba: { ok: false, ms: 0, error },
    link: { kind: 'none', addr: '', pair: '', directAfterMs: null, connId: null },
    extra: {},
    notes: [],
  }
}

function printMarkdown(title, head, rows) {
  console.log(`\n### ${title}\n`)
  console.log(`| ${head.join(' | ')} |`)
  console.log(`| ${head.map(() => '---').join(' | ')} |`)
  for (const r of rows) console.log(`| ${r.join(' | ')} |`)
}
