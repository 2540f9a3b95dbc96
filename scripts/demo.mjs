#!/usr/bin/env node
// npm run demo — a whole Kaiwa overlay on this machine, no setup: one supernode
// and two users (alice, bob) as separate `kaiwa node` processes on loopback.
// Supernodes are opt-in, so the network starts with an explicit
// `--supernode on`; alice joins it with --bootstrap, and bob with alice's
// invite link (`kaiwa invite`, `kaiwa node --join LINK`), which also pins
// alice as his contact. It shows each user finding the other through the DHT,
// then keeps running so you can try the CLI against them. Ctrl-C stops everything.
import { spawn, execFileSync } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'

const root = resolve(import.meta.dirname, '..')
const base = join(root, '.kaiwa-demo')
const fresh = process.argv.includes('--fresh')
if (fresh) rmSync(base, { recursive: true, force: true })
mkdirSync(base, { recursive: true, mode: 0o700 })
const children = []

function startNode(name, args) {
  const dataDir = join(base, name)
  const child = spawn(
    process.execPath,
    [
      join(root, 'bin/kaiwa.js'),
      'node',
      '--data',
      dataDir,
      '--no-mdns',
      '--no-upnp',
      '--log-level',
      'warn',
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  children.push(child)
  return new Promise((resolveReady, reject) => {
    child.once('exit', (code) =>
      reject(new Error(`${name} exited with ${code}; see the messages above`)),
    )
    createInterface({ input: child.stdout }).once('line', (line) =>
      resolveReady({ ...JSON.parse(line), dataDir }),
    )
  })
}

function kaiwa(...args) {
  return execFileSync(process.execPath, [join(root, 'bin/kaiwa.js'), ...args], { encoding: 'utf8' })
}

/** `kaiwa invite` once the node is attached to a supernode (an invite lists live ones). */
async function inviteOf(node) {
  for (let i = 0; i < 100; i++) {
    if (JSON.parse(kaiwa('status', '--data', node.dataDir)).supernodes.length > 0)
      return kaiwa('invite', '--data', node.dataDir).trim()
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error('alice found no supernode in 20 s')
}

function stopAll() {
  for (const c of children) c.kill('SIGTERM')
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(sig, () => {
    stopAll()
    process.exit(0)
  })

try {
  console.log('Starting a supernode and two users on 127.0.0.1 ...')
  const sn = await startNode('supernode', [
    '--supernode',
    'on',
    '--listen',
    '/ip4/127.0.0.1/tcp/0',
    '--sip-port',
    '0',
  ])
  const boot = sn.addrs.find((a) => !a.includes('p2p-circuit'))
  const common = ['--supernode', 'off', '--listen', '/ip4/127.0.0.1/tcp/0']
  const alice = await startNode('alice', [
    ...common,
    '--bootstrap',
    boot,
    '--name',
    'alice',
    '--sip-port',
    '15060',
    '--ui',
  ])
  const invite = await inviteOf(alice)
  console.log(`alice's invite link (kaiwa invite):\n  ${invite}`)
  const bob = await startNode('bob', [
    ...common,
    '--join',
    invite,
    '--name',
    'bob',
    '--sip-port',
    '15062',
    '--ui',
  ])
  console.log(`\n  supernode  ${sn.peerId}  api ${sn.api}`)
  console.log(`  alice      ${alice.peerId}  api ${alice.api}`)
  console.log(`  bob        ${bob.peerId}  api ${bob.api}\n`)
  const seenByBob = JSON.parse(kaiwa('lookup', 'alice', '--data', bob.dataDir))
  const seenByAlice = JSON.parse(kaiwa('lookup', 'bob', '--data', alice.dataDir))
  console.log(
    `bob looked up alice: key ${seenByBob.fingerprint}, ${seenByBob.devices.length} device(s), online=${seenByBob.online}`,
  )
  console.log(
    `alice looked up bob: key ${seenByAlice.fingerprint}, ${seenByAlice.devices.length} device(s), online=${seenByAlice.online}`,
  )
  console.log(
    `alice → bob: ${kaiwa('message', 'bob', 'hello from the demo', '--data', alice.dataDir).trim()}`,
  )
  for (const [who, n] of [
    ['alice', alice],
    ['bob', bob],
  ]) {
    const st = JSON.parse(kaiwa('status', '--data', n.dataDir))
    if (st.sip != null) {
      console.log(
        `  SIP phone for ${who}: server ${st.sip.address}, user ${st.sip.username}, password ${st.sip.password}`,
      )
    }
  }
  console.log(`\nOpen the softphone as each user, in two browser tabs (or two browsers):`)
  console.log(`  alice  ${alice.ui}`)
  console.log(`  bob    ${bob.ui}`)
  console.log(`Type "bob" in alice's User ID box, then Call or Chat.`)
  console.log(`\nTry it yourself (in another terminal):`)
  console.log(`  npx kaiwa lookup alice --data ${bob.dataDir}`)
  console.log(`  npx kaiwa status --data ${alice.dataDir}`)
  console.log(`  npx kaiwa message alice "hi alice" --data ${bob.dataDir}`)
  console.log(`  npx kaiwa inbox --data ${alice.dataDir}`)
  console.log(`\nRunning. Press Ctrl-C to stop.`)
} catch (err) {
  console.error(`demo failed: ${err.message}`)
  stopAll()
  process.exit(1)
}
