#!/usr/bin/env node
// sim:names — how often a reader ends up routing to an attacker's claim for a
// name, against the attacker's share of the name's K closest nodes: before this
// change (first answer believed, no first-claim check), with majority reads
// (stop when 3 agree, else 5 responders), and with majority reads plus the
// first-claim neighbour check on storing nodes. "silent" is the share of
// lookups that route to the attacker with no conflict shown, i.e. the ones a
// TOFU pin would take. A thin CLI over src/shared/records/hijack-sim.ts.
//   node bench/name-hijack-sim.mjs [--k 20] [--fresh 0.25] [--trials 20000] [--seed 1]
import { parseArgs } from 'node:util'
import { simulateHijack } from '../dist/shared/records/hijack-sim.js'

const { values } = parseArgs({
  options: {
    k: { type: 'string', default: '20' },
    fresh: { type: 'string', default: '0.25' },
    trials: { type: 'string', default: '20000' },
    seed: { type: 'string', default: '1' },
    shares: { type: 'string', default: '0,0.1,0.2,0.3,0.4,0.5,0.6' },
  },
})
const k = Number(values.k)
const fresh = Number(values.fresh)
const trials = Number(values.trials)
const seed = Number(values.seed)
const shares = values.shares.split(',').map(Number)
if (
  !Number.isInteger(k) ||
  k < 1 ||
  !(fresh >= 0 && fresh <= 1) ||
  !Number.isInteger(trials) ||
  trials < 1 ||
  shares.some((x) => !(x >= 0 && x <= 1))
) {
  process.stderr.write(
    'usage: name-hijack-sim.mjs [--k N] [--fresh 0..1] [--trials N] [--shares 0,0.1,…]\n',
  )
  process.exit(2)
}

const pct = (x) => `${(100 * x).toFixed(1)} %`
const setups = [
  ['before (1st answer, no check)', { reader: 'first', neighbourCheck: false }],
  ['3/5 majority read', { reader: 'quorum', neighbourCheck: false }],
  ['3/5 read + first-claim check', { reader: 'quorum', neighbourCheck: true }],
]
console.log(
  `K = ${k} closest, ${pct(fresh)} of honest ones joined after the owner published, ${trials} trials per cell`,
)
console.log(
  'hijacked (silent) = lookups routed to the attacker (of which with no conflict shown)\n',
)
console.log(`| attacker share | ${setups.map(([n]) => n).join(' | ')} |`)
console.log(`| --- | ${setups.map(() => '---').join(' | ')} |`)
for (const adversarial of shares) {
  const cells = setups.map(([, s]) => {
    const r = simulateHijack({ k, fresh, trials, seed, adversarial, ...s })
    return `${pct(r.hijacked)} (${pct(r.silent)})`
  })
  console.log(`| ${pct(adversarial)} | ${cells.join(' | ')} |`)
}
