// Bundles the Electron shell straight from TypeScript into dist/electron/:
//   main.mjs       the main process (ESM; Electron ≥ 28 loads ESM main entries)
//   node-host.mjs  the utility process that runs the Kaiwa node (ESM)
//   preload.cjs    the preload: CommonJS in one file, because a sandboxed
//                  preload cannot be an ES module and may only require('electron')
// `electron` is provided by the runtime. Native addons stay external (they are
// unpacked from the asar, see electron-builder.yml), as in rolldown.config.mjs;
// the node host gets the same idle-memory settings as the CLI bundle there
// (ASCII without comments, node-datachannel loaded at first use).
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'rolldown'

const lazyDatachannel = fileURLToPath(
  new URL('./src/overlay/node/lazy-datachannel.ts', import.meta.url),
)

const native = [
  /^node-datachannel/,
  /^@node-datachannel\//,
  /^classic-level/,
  /^@achingbrain\/ssdp/,
]

export default defineConfig([
  {
    input: 'src/main/electron/main.ts',
    platform: 'node',
    external: ['electron', ...native],
    output: { file: 'dist/electron/main.mjs', format: 'esm', sourcemap: true },
  },
  {
    input: 'src/main/electron/node-host.ts',
    platform: 'node',
    external: ['electron', /^@node-datachannel\//, /^classic-level/, /^@achingbrain\/ssdp/],
    plugins: [
      {
        name: 'lazy-datachannel',
        resolveId: (id) =>
          id === 'node-datachannel' || id === 'node-datachannel/polyfill' ? lazyDatachannel : null,
      },
    ],
    output: {
      file: 'dist/electron/node-host.mjs',
      format: 'esm',
      // As in rolldown.config.mjs: one file, gossipsub inlined but run only for supernodes.
      codeSplitting: false,
      sourcemap: true,
      charset: 'ascii',
      comments: false,
    },
  },
  {
    input: 'src/preload/preload.ts',
    platform: 'node',
    external: ['electron'],
    output: { file: 'dist/electron/preload.cjs', format: 'cjs', sourcemap: true },
  },
])
