/**
 * Entry of the Electron utility process that hosts the Kaiwa node, so libp2p,
 * the DHT and the SIP router never run on the main process's thread (which
 * draws the window and handles input). Bundled to dist/electron/node-host.mjs.
 */
import type { ParentPort } from 'electron'
import { runNodeHost } from './node-host-runner.js'

// Undefined when started as plain Node (the type says it always exists).
const parentPort = (process as { parentPort?: ParentPort }).parentPort
if (parentPort == null) {
  process.stderr.write('node-host must run in an Electron utility process\n')
  process.exit(1)
}
const host = runNodeHost({
  port: {
    postMessage: (m) => parentPort.postMessage(m),
    on: (event, listener) => parentPort.on(event, listener),
  },
  exit: (code) => process.exit(code),
})
// utilityProcess.kill() sends SIGTERM: stop cleanly so the data directory's lock is released.
process.once('SIGTERM', () => void host.shutdown())
process.once('SIGINT', () => void host.shutdown())
