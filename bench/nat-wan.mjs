// The WAN grid of bench:nat (npm run bench:nat -- --wan): calls and chat
// between two sites through the lab's userspace WAN line
// (test/natlab/link-emulator.ts; the kernel here has no netem). The caller's
// site gets the line (the RTT split evenly over both directions, ±5 % jitter,
// the loss on each direction), the callee's stays ideal, so the caller sees
// the RTT both to its peer and to the supernode's TURN. For each pairing one
// lab, clients and browsers are started once; every grid point then inserts
// the line, chats both ways, places one call (test/natlab/wan-step.ts) and
// removes the line.
//
//   npm run bench:nat -- --wan [--only cone-cone,sym-sym] [--rtt 50,150,300]
//                              [--loss 1,5] [--seed 1] [--json out.json]
//
// Goals reported, not asserted: dial → remote ringing ≤ 1 RTT + 150 ms; calls
// connect at 300 ms RTT with 5 % loss; no call setup (ring + answer) over 3 s.
import './nat-ts.mjs'
import { writeFileSync } from 'node:fs'

const { startLabNode } = await import('../test/natlab/kaiwa-lab.ts')
const P = await import('../test/natlab/pairings.ts')
const C = await import('../test/natlab/call-step.ts')
const W = await import('../test/natlab/wan-step.ts')
const { chromiumUnavailableReason } = await import('../test/natlab/phone.ts')

/** Run the grid; `args` as parsed by bench/nat.mjs. */
export async function runWan(args, say) {
  const why = chromiumUnavailableReason()
  if (why != null) throw new Error(`bench:nat --wan needs Chromium: ${why}`)
  const list = (s, d) => (s == null ? d : s.split(',').map(Number))
  const rtts = list(args.rtt, [50, 150, 300])
  const losses = list(args.loss, [1, 5])
  const points = rtts.flatMap((rttMs) => losses.map((lossPct) => ({ rttMs, lossPct })))
  const ids = (args.only ?? 'cone-cone,sym-sym').split(',')
  const all = P.fullMatrix()
  const specs = ids.map((id) => {
    const s = all.find((x) => x.id === id)
    if (s == null) throw new Error(`no pairing ${id} (try cone-cone, sym-sym, prc-prc)`)
    return s
  })
  const seed = Number(args.seed ?? 1)
  const rows = []
  for (const spec of specs) {
    say(`lab for ${spec.id}`)
    const { lab, placed } = P.createPairingsLab([spec])
    try {
      const sn = await startLabNode(lab, lab.publicHosts[0], { label: 'sn', supernode: 'on' })
      const ctx = await P.startPairing(lab, placed[0], { supernode: sn, nodeOptions: { ui: true } })
      await C.phonesFor(ctx)
      // One call on the ideal network first: browsers and links warmed up, a baseline.
      for (const p of [{ rttMs: 0, lossPct: 0 }, ...points]) {
        const r = await W.wanStep(ctx, spec.a.site, p, seed)
        const cols = W.wanColumns(r)
        say(
          `${spec.id} ${p.rttMs} ms / ${p.lossPct} %: call ${cols.call}, ring ${cols.ring} + answer ${cols.answer} ms`,
        )
        rows.push({ pairing: spec.label, ...cols, raw: r })
      }
      await C.closePhones(ctx)
    } finally {
      await lab.destroy()
    }
  }
  printGrid(rows)
  if (args.json != null) writeFileSync(args.json, JSON.stringify(rows, null, 2))
}

function printGrid(rows) {
  const head = [
    'pairing',
    'RTT ms',
    'loss %',
    'chat a→b / b→a ms',
    'call',
    'media',
    'dial → ring ms',
    'answer → audio ms',
    'ICE gathering caller ms (first srflx, relay)',
    'ICE gathering callee ms',
    'candidates in offer',
    'audio at caller (jitter, lost, concealed)',
    'audio at callee',
    'goals',
  ]
  console.log('\n### Calls and chat over a WAN line (caller side; userspace TUN emulator)\n')
  console.log(`| ${head.join(' | ')} |`)
  console.log(`| ${head.map(() => '---').join(' | ')} |`)
  for (const r of rows) {
    console.log(
      `| ${[
        r.pairing,
        r.rtt,
        r.loss,
        r.chat,
        r.call,
        r.media,
        r.ring,
        r.answer,
        r.gatherCaller,
        r.gatherCallee,
        r.offered,
        r.audioCaller,
        r.audioCallee,
        goals(r),
      ].join(' | ')} |`,
    )
  }
  const calls = rows.filter((r) => r.rtt !== '0')
  console.log(
    `\nCalls connected with audio both ways: ${calls.filter((r) => r.call === 'ok').length}/${calls.length}`,
  )
}

/** The three goals, as met (✓) or missed (✗) for one row. */
function goals(r) {
  if (r.call !== 'ok') return '✗ no call'
  const rtt = Number(r.rtt)
  const ring = r.raw.call.ringMs
  const setup = r.raw.call.setupMs
  return [
    `ring ${ring <= rtt + 150 ? '✓' : '✗'} (≤ ${rtt + 150})`,
    `setup ${setup <= 3000 ? '✓' : '✗'} (${Math.round(setup)} ≤ 3000)`,
  ].join(', ')
}
