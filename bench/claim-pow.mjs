#!/usr/bin/env node
// bench:pow — what a claim's proof-of-work stamp costs on this machine: mints
// N stamps at the given difficulty (fresh random key each run, so every run is
// an independent search) and prints min/median/mean/max wall time and the
// hash rate. A thin CLI over src/shared/records/claim-pow.ts (compiled to dist/).
// --hash native (default) searches with Node's crypto.hash, as the user
// directory does; --hash noble with the portable SHA-256 a browser would use.
//   node bench/claim-pow.mjs [--runs 20] [--bits 20] [--hash native|noble]
import { setImmediate } from 'node:timers'
import { parseArgs } from 'node:util'
import { hash, randomBytes } from 'node:crypto'
import { CLAIM_POW_BITS, mintClaimStamp, stampWork } from '../dist/shared/records/claim-pow.js'

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    bits: { type: 'string', default: String(CLAIM_POW_BITS) },
    hash: { type: 'string', default: 'native' },
  },
})
const runs = Number(values.runs)
const bits = Number(values.bits)
if (
  !Number.isInteger(runs) ||
  runs < 1 ||
  !Number.isInteger(bits) ||
  bits < 0 ||
  bits > 40 ||
  !['native', 'noble'].includes(values.hash)
) {
  process.stderr.write('usage: claim-pow.mjs [--runs N ≥ 1] [--bits 0..40] [--hash native|noble]\n')
  process.exit(2)
}

// Yield with setImmediate: the default setTimeout(0) yield is clamped to ~1 ms
// and would add ~1 ms per 16k hashes that a busy node does not pay either way.
const yieldFn = () => new Promise((resolve) => setImmediate(resolve))
const sha256 = values.hash === 'native' ? (d) => hash('sha256', d, 'buffer') : undefined
const times = []
for (let i = 0; i < runs; i++) {
  const key = new Uint8Array(randomBytes(32))
  const t0 = performance.now()
  const stamp = await mintClaimStamp('bench-name', key, bits, { yieldFn, sha256 })
  times.push(performance.now() - t0)
  if (stampWork('bench-name', key, stamp) < bits)
    throw new Error('minted a stamp that does not verify')
}
times.sort((a, b) => a - b)
const mean = times.reduce((a, b) => a + b, 0) / runs
const median = runs % 2 ? times[(runs - 1) / 2] : (times[runs / 2 - 1] + times[runs / 2]) / 2
const s = (ms) => `${(ms / 1000).toFixed(2)} s`
console.log(
  `claim stamp, ${bits} bits, ${values.hash} SHA-256, ${runs} runs (expected 2^${bits} = ${2 ** bits} hashes each)`,
)
console.log(`  min ${s(times[0])}  median ${s(median)}  mean ${s(mean)}  max ${s(times[runs - 1])}`)
console.log(`  ≈ ${Math.round(2 ** bits / (mean / 1000)).toLocaleString('en')} hashes/s`)
