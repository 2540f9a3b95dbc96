#!/usr/bin/env -S node --max-semi-space-size=1
// The flag: a node idles for hours, and a 1 MiB young generation (default 16 MiB)
// saves ~15 MB of RSS for a little throughput (docs/benchmarks.md).
// Entry shim: checks the runtime before loading the ESM build, so a too-old
// Node gets a clear instruction instead of a libp2p stack trace.
const [major] = process.versions.node.split('.').map(Number)
if (major < 22 || typeof Promise.withResolvers !== 'function') {
  process.stderr.write(
    `kaiwa needs Node.js 22 or newer (this is ${process.version}).\n` +
      'Run it through npm so the project-local Node is used: `npx kaiwa ...` or `npm run kaiwa -- ...`\n',
  )
  process.exit(1)
}
let mod
try {
  mod = await import('../dist/kaiwa.bundle.mjs')
} catch (err) {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('kaiwa.bundle')) {
    process.stderr.write('kaiwa is not built yet: run `npm run build` first.\n')
    process.exit(1)
  }
  throw err
}
// Pipes and files are written synchronously on Linux, so exiting here loses no output;
// it also ends any socket a library forgot to unref after a clean shutdown.
process.exit(await mod.main(process.argv.slice(2)))
