// Bundles the headless CLI into one ESM file. Loading ~1,500 small ESM
// modules costs more memory than the code they hold; the bundle cuts an idle
// node's RSS by about a third (docs/benchmarks.md). Native addons stay
// external; tsc's per-file output in dist/ remains for tests and tooling.
import { defineConfig } from 'rolldown'

export default defineConfig({
  input: 'dist/main/cli/main.js',
  platform: 'node',
  // @achingbrain/ssdp reads its own package.json at run time, so it stays a module.
  external: [/^node-datachannel/, /^classic-level/, /^@achingbrain\/ssdp/],
  output: { file: 'dist/kaiwa.bundle.mjs', format: 'esm', sourcemap: true },
})
