#!/usr/bin/env node
// sim:election — the supernode election at 1k, 10k and 100k nodes: churn, a
// realistic capability mix, a cold start from the `on` nodes alone. A thin CLI
// over the simulation engine in src/shared/election/simulation.ts (compiled to
// dist/), which the tests also run.
//   npm run sim:election -- [--nodes 1000,10000,100000] [--rounds 720] [--seed 1]
//                           [--warmup 90] [--series 30]
import { parseArgs } from 'node:util'
import { runSimulation } from '../dist/shared/election/simulation.js'
import { FRACTION_TOLERANCE, TARGET_FRACTION } from '../dist/shared/election/simulation-stats.js'
import { DECIDE_INTERVAL_MS } from '../dist/shared/election/decide.js'

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000,10000,100000' },
    rounds: { type: 'string', default: '720' },
    seed: { type: 'string', default: '1' },
    // steady: constant population; wave: half the nodes leave and come back.
    scenario: { type: 'string', default: 'steady' },
    warmup: { type: 'string', default: '90' },
    // Print the fraction every this many rounds (0: no time series).
    series: { type: 'string', default: '30' },
  },
})
const sizes = values.nodes.split(',').map((s) => Number(s.replaceAll('_', '')))
const rounds = Number(values.rounds)
const seed = Number(values.seed)
const warmupRounds = Number(values.warmup)
const series = Number(values.series)
const scenario = values.scenario
const valid =
  sizes.every((n) => Number.isInteger(n) && n >= 2) &&
  rounds > warmupRounds &&
  seed >= 0 &&
  ['steady', 'wave'].includes(scenario)
if (!valid) {
  process.stderr.write(
    'usage: election-sim.mjs --nodes 1000,10000 --rounds N (> --warmup) --seed S [--scenario steady|wave]\n',
  )
  process.exit(2)
}

const roundMin = DECIDE_INTERVAL_MS / 60_000
const pct = (f, d = 2) => `${(f * 100).toFixed(d)}%`
const num = (x, d = 2) => x.toFixed(d)
const out = (line = '') => process.stdout.write(`${line}\n`)

out(
  `# sim:election — ${scenario}, seed ${seed}, ${rounds} rounds of ${roundMin} min, warm-up ${warmupRounds}`,
)
out(
  `# goal: supernode fraction ${pct(TARGET_FRACTION, 1)} ± ${pct(FRACTION_TOLERANCE, 1)} after warm-up, 0 orphaned clients`,
)
const rows = []
for (const nodes of sizes) {
  const started = performance.now()
  out()
  out(`## ${nodes.toLocaleString('en-US')} nodes`)
  if (series > 0)
    out('round   nodes  supernodes  fraction  load   candidates  +promo  -demo  lost  orphans')
  const { summary: s } = runSimulation({
    nodes,
    rounds,
    seed,
    scenario,
    warmupRounds,
    onRound: (r) => {
      if (series <= 0 || (r.round % series !== 0 && r.round !== rounds - 1 && r.round > 10)) return
      out(
        [
          String(r.round).padStart(5),
          String(r.nodes).padStart(7),
          String(r.supernodes).padStart(11),
          pct(r.fraction).padStart(9),
          num(r.meanLoad).padStart(5),
          String(r.candidates).padStart(12),
          String(r.promotions).padStart(7),
          String(r.demotions).padStart(6),
          String(r.supernodesLost).padStart(5),
          String(r.orphans).padStart(8),
        ].join(' '),
      )
    },
  })
  const seconds = (performance.now() - started) / 1000
  rows.push({ ...s, seconds })
  const settle =
    s.settleRound == null ? 'never' : `round ${s.settleRound} (${s.settleRound * roundMin} min)`
  out(
    `fraction after warm-up: mean ${pct(s.fractionMean)}, min ${pct(s.fractionMin)}, max ${pct(s.fractionMax)} (${num(s.supernodesMean, 1)} supernodes, load ${num(s.meanLoad)})`,
  )
  out(
    `per round: ${num(s.promotionsPerRound)} promotions, ${num(s.demotionsPerRound)} step-downs, ${num(s.flapsPerRound, 3)} flaps; churn ${num(s.leavesPerRound, 1)} leaves (${num(s.supernodesLostPerRound)} supernodes, abrupt)`,
  )
  out(`orphaned clients: max ${s.orphansMax} in any round; settled from cold start: ${settle}`)
  out(
    `${s.pass ? 'PASS' : 'FAIL'} ${nodes} nodes${s.pass ? '' : `: ${s.failures.join('; ')}`} (${num(seconds, 1)} s)`,
  )
}

out()
out(
  '| nodes | fraction mean (min–max) | supernodes | promotions / step-downs / flaps per round | leaves per round (supernodes) | orphans | settled | verdict | time |',
)
out('| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
for (const s of rows) {
  out(
    `| ${s.nodes.toLocaleString('en-US')} | ${pct(s.fractionMean)} (${pct(s.fractionMin)}–${pct(s.fractionMax)}) | ${num(s.supernodesMean, 1)} | ${num(s.promotionsPerRound)} / ${num(s.demotionsPerRound)} / ${num(s.flapsPerRound, 3)} | ${num(s.leavesPerRound, 1)} (${num(s.supernodesLostPerRound)}) | ${s.orphansMax} | ${s.settleRound == null ? 'never' : `${s.settleRound * roundMin} min`} | ${s.pass ? 'PASS' : 'FAIL'} | ${num(s.seconds, 1)} s |`,
  )
}
for (const s of rows) out(`verdict ${s.nodes}: ${s.pass ? 'PASS' : 'FAIL'}`)
process.exitCode = rows.every((s) => s.pass) ? 0 : 1
