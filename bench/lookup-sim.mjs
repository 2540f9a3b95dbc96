#!/usr/bin/env node
// sim:lookup — lookups over 10^4–10^6 users with 1 % supernodes (issue 16 §5):
// today's client-driven kad-dht lookup against a one-hop lookup through the
// client's supernode, with the routing upkeep each costs a supernode under
// churn. A thin CLI over src/shared/lookup-sim/ (compiled to dist/), which the
// tests also run.
//   npm run sim:lookup -- [--users 10000,100000,1000000] [--lookups 1000] [--seed 1]
//                         [--session-h 4] [--alpha 10] [--client-knows 2]
import { parseArgs } from 'node:util'
import { runLookupSim } from '../dist/shared/lookup-sim/lookup-sim.js'

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '10000,100000,1000000' },
    lookups: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1' },
    'session-h': { type: 'string', default: '4' },
    alpha: { type: 'string', default: '10' },
    'client-knows': { type: 'string', default: '2' },
  },
})
const sizes = values.users.split(',').map((s) => Number(s.replaceAll('_', '')))
const lookups = Number(values.lookups)
const seed = Number(values.seed)
const sessionS = Number(values['session-h']) * 3600
const alpha = Number(values.alpha)
const clientKnows = Number(values['client-knows'])
if (
  !sizes.every((n) => Number.isInteger(n) && n >= 100) ||
  !(lookups > 0) ||
  !(sessionS > 0) ||
  !(alpha >= 1) ||
  !(clientKnows >= 1)
) {
  process.stderr.write(
    'usage: lookup-sim.mjs --users 10000,1000000 (each >= 100) --lookups N --session-h H --alpha A --client-knows C\n',
  )
  process.exit(2)
}

const out = (line = '') => process.stdout.write(`${line}\n`)
const f = (x, d = 1) => x.toFixed(d)
out(`# sim:lookup — seed ${seed}, ${lookups} lookups per size, 1 % supernodes, K 20, quorum 3`)
out(
  `# kad-dht α ${alpha}, a client starts from its ${clientKnows} supernodes; supernode sessions ${values['session-h']} h`,
)
out('# goal: ≤ 2 round trips for a client lookup at 10^6 users')
out()
out(
  '| users | supernodes | kad-dht RTs p50 / p99 (mean) | msgs | one-hop RTs p50 / p99 | msgs | upkeep kad-dht kbit/s (of it clients) | upkeep one-hop kbit/s (events/s) |',
)
out('|---|---|---|---|---|---|---|---|')
let last
for (const users of sizes) {
  const t0 = performance.now()
  const r = runLookupSim({ users, lookups, seed, sessionS, alpha, clientKnows })
  last = r
  out(
    `| ${users.toLocaleString('en-US')} | ${r.supernodes.toLocaleString('en-US')} | ${r.kad.p50} / ${r.kad.p99} (${f(r.kad.mean, 2)}) | ${f(r.kad.messages)} | ${r.oneHop.p50} / ${r.oneHop.p99} | ${f(r.oneHop.messages)} | ${f(r.traffic.kadKbps)} (${f(r.traffic.kadClientsKbps)}) | ${f(r.traffic.oneHopKbps)} (${f(r.traffic.eventsPerS, 2)}) |`,
  )
  process.stderr.write(`  ${users} users in ${f((performance.now() - t0) / 1000)} s\n`)
  if (r.kad.success < 1 || r.oneHop.success < 1)
    out(`  success: kad-dht ${f(r.kad.success * 100)} %, one-hop ${f(r.oneHop.success * 100)} %`)
}
out()
out(
  `one-hop p99 at ${last.users.toLocaleString('en-US')} users: ${last.oneHop.p99} round trips — ${last.oneHop.p99 <= 2 ? 'PASS' : 'MISS'} (goal ≤ 2); kad-dht p99: ${last.kad.p99}`,
)
