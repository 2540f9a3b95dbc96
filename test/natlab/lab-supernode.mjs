// A supernode started through the library instead of the CLI, for one lab
// what-if only: `kaiwa node` has no flag for TURN's bind address, so a
// supernode's TURN binds 0.0.0.0 and answers Allocate with
// XOR-RELAYED-ADDRESS 0.0.0.0:<port> (it reports its bind address), a relay
// candidate nobody can use. With `turnHost` set to its public address (an
// option startKaiwaNode already has) the relayed address is right. The bench
// runs this with --fix-turn to measure what the proposed fix buys.
//
// Usage: node lab-supernode.mjs '{"dataDir":…,"listen":[…],"turnHost":…,"turnPort":3478}'
// Prints the same ready line as `kaiwa node` (with "api" when the control API
// could be started too) and runs until SIGTERM/SIGINT.
import { startKaiwaNode } from '../../dist/main/kaiwa-node.js'
import { createStderrLogger } from '../../dist/main/logger.js'

const o = JSON.parse(process.argv[2])
const log = createStderrLogger(o.logLevel ?? 'info')
const node = await startKaiwaNode({
  dataDir: o.dataDir,
  listen: o.listen,
  bootstrap: [],
  supernode: 'on',
  supernodeLocked: true,
  mdns: false,
  upnp: false,
  turnPort: o.turnPort,
  turnHost: o.turnHost,
  // The lab's public internet is in documentation ranges that TURN refuses by default.
  turnAllowPeers: ['203.0.113.0/24', '198.18.0.0/15'],
  sipPort: 0,
  log,
})

// The control API, if this build's modules are where they were when this was
// written; the lab only uses it for `status` (TURN figures).
let server
try {
  const { startApiServer } = await import('../../dist/main/api/api-server.js')
  const { loadOrCreateApiToken, writeApiEndpoint } =
    await import('../../dist/main/api/api-token.js')
  const { nodeEvents } = await import('../../dist/main/node-events.js')
  server = await startApiServer({
    port: 0,
    token: await loadOrCreateApiToken(node.dataDir),
    api: node.api,
    events: nodeEvents(node),
    sip: node.sip.router,
    log: (m) => log.child('api').info(m),
    tokenHint: `${node.dataDir}/api-token`,
  })
  await writeApiEndpoint?.(node.dataDir, { url: server.url, pid: process.pid })
} catch (err) {
  log.warn(`lab supernode runs without its control API: ${String(err)}`)
}

process.stdout.write(
  JSON.stringify({
    event: 'ready',
    peerId: node.peerId,
    addrs: node.addrs().map((a) => a.toString()),
    role: node.role(),
    api: server?.url ?? null,
    name: null,
    dataDir: node.dataDir,
  }) + '\n',
)

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  await server?.close().catch(() => {})
  await node.stop().catch(() => {})
  process.exit(0)
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
