#!/usr/bin/env node
// Our TURN server in a process of its own, so bench/relay.mjs can read its CPU time from
// /proc/<pid>/stat apart from the load generators. Started by bench/relay.mjs with a JSON
// options argument and optionally another build's turn-server.js (to compare before/after);
// prints one line {"port":N} on stdout when listening, answers {type:'stats'} on its IPC
// channel, and closes on SIGTERM or when the parent goes away. With opts.threads > 1 it runs
// the server on that many relay threads sharing the port (dist/overlay/turn/turn-cluster.js).
import { pathToFileURL } from 'node:url'

const { threads = 1, ...opts } = JSON.parse(process.argv[2] ?? '{}')
const module = process.argv[3]
  ? pathToFileURL(process.argv[3]).href
  : new URL('../dist/overlay/turn/turn-server.js', import.meta.url).href
const serverOpts = { ...opts, relayPortRange: opts.relayPortRange ?? [20000, 29999] }
const say = (m) => process.stderr.write(`relay-server: ${m}\n`)
const log = { debug: () => {}, info: say, warn: say, error: say }
log.child = () => log
const server =
  threads > 1
    ? new (
        await import(new URL('../dist/overlay/turn/turn-cluster.js', import.meta.url).href)
      ).TurnCluster({ server: serverOpts, threads, log })
    : new (await import(module)).TurnServer(serverOpts)
const { port } = await server.listen()
process.stdout.write(`${JSON.stringify({ port, pid: process.pid })}\n`)

process.on('message', (m) => {
  if (m?.type === 'stats') process.send?.({ type: 'stats', stats: server.stats() })
})
const stop = async () => {
  await server.close().catch(() => {})
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
process.on('disconnect', stop)
