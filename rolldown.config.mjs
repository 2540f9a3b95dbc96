// Bundles the headless CLI into one ESM file. Loading ~1,500 small ESM
// modules costs more memory than the code they hold; the bundle cuts an idle
// node's RSS by about a third (docs/benchmarks.md). Native addons stay
// external; tsc's per-file output in dist/ remains for tests and tooling.
//
// For an idle node's memory (bench:idle, docs/benchmarks.md):
// - ASCII output without comments: V8 keeps a module's whole source as a
//   string, two bytes a character as soon as one character is not Latin-1 (a
//   comment's '—' was enough), so this halves a ~7.7 MB string;
// - node-datachannel resolves to a lazy stand-in (src/overlay/node/lazy-datachannel.ts):
//   libdatachannel loads at the first WebRTC link or anchored call, not at start.
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'rolldown'

const lazyDatachannel = fileURLToPath(
  new URL('./dist/overlay/node/lazy-datachannel.js', import.meta.url),
)

export default defineConfig({
  input: 'dist/main/cli/main.js',
  platform: 'node',
  // @achingbrain/ssdp reads its own package.json at run time, so it stays a module.
  external: [/^classic-level/, /^@achingbrain\/ssdp/],
  plugins: [
    {
      name: 'lazy-datachannel',
      resolveId: (id) =>
        id === 'node-datachannel' || id === 'node-datachannel/polyfill' ? lazyDatachannel : null,
    },
  ],
  output: {
    file: 'dist/kaiwa.bundle.mjs',
    format: 'esm',
    // One file: dynamic imports (gossipsub, supernodes only: src/main/one-hop-services.ts)
    // are inlined, and their modules run only when first imported.
    codeSplitting: false,
    sourcemap: true,
    charset: 'ascii',
    comments: false,
  },
})
