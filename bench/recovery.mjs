#!/usr/bin/env node
// bench:recovery — how long a client reachable only through relays (no listen
// address, as behind a NAT) stays unreachable after every supernode it holds
// a reservation on dies (issue 13). Each round starts S supernodes, a caller
// (alice) and the relay-only callee (bob); bob claims his name, alice messages
// him (so her cache holds his record), then bob's relay supernodes are
// stopped and alice messages him every 200 ms until one is delivered.
// Reports, per round and as p50/max: time until bob republished a record
// naming none of the dead relays, and time until alice's message was
// delivered again.
//   npm run bench:recovery -- [--rounds 5] [--supernodes 4]
import { parseArgs } from 'node:util'
import { reservedRelays } from '../dist/overlay/node/relay-keeper.js'
import { multiaddr } from '@multiformats/multiaddr'
import { cleanup, pct, printTable, progress, startNode, tcpAddr } from './lib.mjs'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    supernodes: { type: 'string', default: '4' },
  },
})
const ROUNDS = Number(values.rounds)
const S = Number(values.supernodes)
const say = progress('bench:recovery')
// Low claim proof-of-work: claiming is not what is measured (refreshes reuse the stamp).
const POW = { claimPowBits: 8 }

const relayIn = (bytes) => /\/p2p\/([^/]+)\/p2p-circuit/.exec(multiaddr(bytes).toString())?.[1]

async function waitFor(check, ms, what) {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}

async function round(i) {
  const nodes = []
  try {
    const sns = [await startNode({ supernode: 'on', ...POW })]
    for (let k = 1; k < S; k++)
      sns.push(await startNode({ supernode: 'on', bootstrap: [tcpAddr(sns[0])], ...POW }))
    nodes.push(...sns)
    const bootstrap = sns.map(tcpAddr)
    const alice = await startNode({ bootstrap, name: 'alice', ...POW })
    const bob = await startNode({ bootstrap, listen: [], ...POW })
    nodes.push(alice, bob)
    await waitFor(() => reservedRelays(bob.libp2p()).length >= 2, 30_000, 'two reservations')
    await bob.claim('bob')
    const held = reservedRelays(bob.libp2p())
    await waitFor(
      async () => (await alice.api.message({ to: 'bob', text: 'before' })).status === 'delivered',
      30_000,
      'the first delivery',
    )

    let republishedAt
    const publish = bob.directory.publish.bind(bob.directory)
    bob.directory.publish = async (...args) => {
      const res = await publish(...args)
      const relays = res.record.devices.flatMap((d) => d.addrs.map(relayIn)).filter(Boolean)
      if (relays.length > 0 && !relays.some((r) => held.includes(r)))
        republishedAt ??= performance.now()
      return res
    }
    const dead = sns.filter((s) => held.includes(s.peerId))
    const t0 = performance.now()
    await Promise.all(dead.map((s) => s.stop()))
    // A direct link punched over the relay would hide the point.
    await Promise.all(
      alice
        .libp2p()
        .getConnections(bob.libp2p().peerId)
        .map((c) => c.close()),
    )
    let attempts = 0
    for (;;) {
      attempts++
      const { status } = await alice.api.message({ to: 'bob', text: `after ${attempts}` })
      if (status === 'delivered') break
      if (performance.now() - t0 > 120_000) throw new Error('bob unreachable after 120 s')
      await new Promise((r) => setTimeout(r, 200))
    }
    const reachable = performance.now() - t0
    const republished = republishedAt == null ? undefined : republishedAt - t0
    say(
      `round ${i + 1}: republished ${fmt(republished)}, reachable ${fmt(reachable)} (${attempts} attempts)`,
    )
    return { reachable, republished }
  } finally {
    await Promise.allSettled(nodes.map((n) => n.stop()))
  }
}

const fmt = (x) => (x == null ? '-' : `${(x / 1000).toFixed(2)} s`)

const results = []
for (let i = 0; i < ROUNDS; i++) results.push(await round(i))
await cleanup([])
const reach = results.map((r) => r.reachable)
const repub = results.map((r) => r.republished).filter((x) => x != null)
printTable(`bench:recovery, ${ROUNDS} rounds, ${S} supernodes, both of bob's relays killed`, [
  ['republished (p50 / max)', `${fmt(pct(repub, 50))} / ${fmt(Math.max(...repub))}`],
  ['reachable again (p50 / max)', `${fmt(pct(reach, 50))} / ${fmt(Math.max(...reach))}`],
  ['goal', 'reachable again within 5 s'],
])
process.exit(0)
