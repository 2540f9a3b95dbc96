#!/usr/bin/env node
// bench:sip — SIP over the overlay.
//   Call setup over an N-node overlay (default 20, 3 supernodes): INVITE→180
//   and INVITE→200 as the caller's user agent sees them, cold (first call to
//   that callee: DHT lookup, dial, new SIP link) and warm (cached, link open).
//   The callee's user agent answers at once, so the figures are the overlay's.
//   MESSAGE throughput end to end through two nodes' gateways, driven by sipp
//   with a rate ramp, and the same load through kamailio when it is installed
//   (bench/sip-messages.mjs).
//   Anchored calls (issue 12 §3): concurrent calls through two media anchors,
//   passthrough and transcoded (bench/anchor-calls.mjs), then the transcoder's
//   own cost (bench/anchor-transcode.mjs), each in its own process.
//   npm run bench:sip -- [--part calls|messages|anchor|all] [--nodes 20] [--calls 100]
//                        [--rates 250,500,1000,...] [--seconds 5] [--anchor-ports LO-HI]
//                        [--port-base 15160] (the MESSAGE part's UDP ports: base+0 .. base+23)
//                        [--reference on|off] (off: no kamailio ramp, e.g. while profiling)
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createResponse } from '../dist/shared/sip/sip-message.js'
import { buildRequest } from '../dist/shared/sip/request-builder.js'
import { cleanup, ms, pct, printTable, progress, startOverlay } from './lib.mjs'
import { killAll, messageBench } from './sip-messages.mjs'

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '20' },
    supernodes: { type: 'string', default: '3' },
    calls: { type: 'string', default: '100' },
    part: { type: 'string', default: 'all' },
    rates: { type: 'string', default: '250,500,1000,1500,2000,2500,3000,4000' },
    seconds: { type: 'string', default: '5' },
    'anchor-ports': { type: 'string' },
    'port-base': { type: 'string', default: '15160' },
    reference: { type: 'string', default: 'on' },
  },
})
process.on('exit', killAll)
const say = progress('bench:sip')
const N = Number(values.nodes)
const S = Number(values.supernodes)
const CALLS = Number(values.calls)

const req = (method, uri, from, extra = []) =>
  buildRequest({
    method,
    uri,
    from: `sip:${from}@kaiwa`,
    headers: [['Contact', `<sip:${from}@127.0.0.1:5999>`], ...extra],
  })

/** Register a user agent at `node` that rings and answers every INVITE at once. */
async function registerAnsweringUa(node, user) {
  const reg = req('REGISTER', 'sip:kaiwa', user, [['Expires', '3600']])
  reg.headers.set('To', `<sip:${user}@kaiwa>`)
  await new Promise((resolve) =>
    node.sip.router.fromLocal(reg, {
      send: resolve,
      deliver: (_c, r, reply) => {
        const contact = [['Contact', `<sip:${user}@127.0.0.1:5998>`]]
        if (r.method === 'INVITE') {
          reply(createResponse(r, 180, 'Ringing', contact, 'uas'))
          reply(createResponse(r, 200, 'OK', contact, 'uas'))
        } else if (r.method !== 'ACK') reply(createResponse(r, 200, 'OK', [], 'uas'))
      },
    }),
  )
}

/** One call: INVITE, wait for 180 and 200, then ACK and BYE along the GRUU. */
async function call(from, fromUser, toUser) {
  const invite = req('INVITE', `sip:${toUser}@kaiwa`, fromUser)
  const t0 = performance.now()
  let ringing
  const ok = await new Promise((resolve) =>
    from.sip.router.fromLocal(invite, {
      send: (res) => {
        if (res.status === 180 && ringing == null) ringing = performance.now() - t0
        if (res.status >= 200) resolve(res)
      },
    }),
  )
  const answered = performance.now() - t0
  if (ok.status !== 200) return { ok: false }
  const remote = /<([^>]+)>/.exec(ok.headers.get('contact'))[1]
  const inDialog = (method, cseq) => {
    const r = req(method, remote, fromUser)
    r.headers.set('Call-ID', invite.headers.get('call-id'))
    r.headers.set('From', invite.headers.get('from'))
    r.headers.set('To', ok.headers.get('to'))
    r.headers.set('CSeq', `${cseq} ${method}`)
    return r
  }
  await from.sip.router.fromLocal(inDialog('ACK', 1), { send: () => {} })
  const tb = performance.now()
  const bye = await new Promise((resolve) =>
    from.sip.router.fromLocal(inDialog('BYE', 2), {
      send: (res) => res.status >= 200 && resolve(res),
    }),
  )
  return { ok: true, ringing, answered, bye: performance.now() - tb, byeOk: bye.status === 200 }
}

if (values.part === 'calls' || values.part === 'all') await callBench()
if (values.part === 'messages' || values.part === 'all') {
  say('MESSAGE throughput (sipp rate ramp)')
  const res = await messageBench({
    rates: values.rates.split(',').map(Number),
    seconds: Number(values.seconds),
    say,
    portBase: Number(values['port-base']),
    reference: values.reference !== 'off',
  })
  const rows = []
  for (const [name, r] of Object.entries(res)) {
    const b = r.best
    rows.push([
      `${name}: highest rate with zero failures`,
      b ? `${b.rate} MESSAGE/s (${b.ok} messages)` : 'none',
    ])
    rows.push([`${name}: p50 / p99 at that rate`, b ? `${b.p50} ms / ${b.p99} ms` : '-'])
    if (b?.cpuUsPerMessage?.length > 0)
      rows.push([
        `${name}: CPU per message there (node A + B)`,
        `${b.cpuUsPerMessage.join(' + ')} µs`,
      ])
    const broke = r.steps.find((x) => !x.clean)
    if (broke)
      rows.push([
        `${name}: first failing step`,
        `${broke.rate}/s: ${broke.failed} failed, p99 ${broke.p99} ms`,
      ])
  }
  if (res.kamailio == null)
    rows.push([
      'reference',
      values.reference === 'off' ? 'off (--reference off)' : 'kamailio not installed: skipped',
    ])
  printTable('bench:sip MESSAGE end to end (sipp → gateway → overlay → gateway → sipp)', rows)
}
const anchorFailed = values.part === 'anchor' || values.part === 'all' ? await anchorBench() : false
process.exit(anchorFailed ? 1 : 0)

/** The anchored-call benches, each a child process whose output is forwarded; true if one failed. */
async function anchorBench() {
  const run = (script, args) =>
    new Promise((resolve) => {
      say(`anchored calls: node bench/${script} ${args.join(' ')}`)
      const path = fileURLToPath(new URL(script, import.meta.url))
      const child = spawn(process.execPath, [path, ...args], { stdio: 'inherit' })
      child.on('error', (err) => resolve(err.message))
      child.on('exit', (code, signal) => resolve(code ?? signal))
    })
  const ports = values['anchor-ports']
  const calls = await run('anchor-calls.mjs', ports != null ? ['--ports', ports] : [])
  const transcode = await run('anchor-transcode.mjs', [])
  for (const [name, result] of [
    ['anchor-calls', calls],
    ['anchor-transcode', transcode],
  ])
    if (result !== 0) say(`${name} failed (${result})`)
  return calls !== 0 || transcode !== 0
}

async function callBench() {
  say(`starting ${N} nodes (${S} supernodes)`)
  const net = await startOverlay(N, S, say)
  const users = net.clients.map((_, i) => `callee-${i}`)
  for (const [i, n] of net.clients.entries()) {
    await n.claim(users[i])
    await registerAnsweringUa(n, users[i])
  }
  say(`${CALLS} cold and ${CALLS} warm calls`)
  const cold = { r: [], a: [], bye: [], ok: 0 }
  const warm = { r: [], a: [], bye: [], ok: 0 }
  const K = net.clients.length
  let pairs = 0
  for (let k = 0; pairs < CALLS && k < K * K; k++) {
    const a = Math.floor(k / K)
    const b = (a + 1 + (k % (K - 1))) % K
    if (a === b) continue
    pairs++
    const from = net.clients[a]
    from.directory.invalidate(users[b])
    for (const [bucket, n] of [
      [cold, 1],
      [warm, 1],
    ]) {
      for (let j = 0; j < n; j++) {
        const res = await call(from, users[a], users[b])
        if (!res.ok) continue
        bucket.ok++
        bucket.r.push(res.ringing)
        bucket.a.push(res.answered)
        bucket.bye.push(res.bye)
      }
    }
  }
  const row = (label, xs) => [label, `${ms(pct(xs, 50))} / ${ms(pct(xs, 95))} / ${ms(pct(xs, 99))}`]
  printTable('bench:sip call setup', [
    ['nodes / supernodes', `${N} / ${S}`],
    ['calls (cold / warm)', `${cold.ok}/${pairs} / ${warm.ok}/${pairs} answered`],
    row('cold INVITE→180 p50 / p95 / p99', cold.r),
    row('cold INVITE→200 p50 / p95 / p99', cold.a),
    row('warm INVITE→180 p50 / p95 / p99', warm.r),
    row('warm INVITE→200 p50 / p95 / p99', warm.a),
    row('BYE→200 (in-dialog, by GRUU) p50 / p95 / p99', warm.bye),
  ])
  await cleanup(net.all)
}
