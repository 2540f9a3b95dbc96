// ESLint flat config. The import rules below are the architecture: they keep
// the overlay free of Electron, the renderer and shared code free of Node, and
// ipcRenderer inside the preload. A file in no known layer is itself an error.
import { builtinModules } from 'node:module'
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import importX from 'eslint-plugin-import-x'
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript'

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)]
// Packages that only run under Node (native addons, sockets, files).
const nodeOnlyPackages = [
  'ws',
  'level',
  'classic-level',
  'datastore-level',
  'node-datachannel',
  'libp2p',
  '@libp2p/*',
  '@chainsafe/*',
]

const layer = (dirs) => ({
  patterns: dirs.map((d) => ({
    group: [`**/${d}/**`, `**/${d}`],
    message: `This layer may not import from src/${d} (see README, Architecture).`,
  })),
})

export default tseslint.config(
  { ignores: ['dist/**', 'dist-pack/**', 'node_modules/**', 'coverage/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        fetch: 'readonly',
        performance: 'readonly',
        structuredClone: 'readonly',
        queueMicrotask: 'readonly',
        Buffer: 'readonly',
        crypto: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['electron', ...nodeBuiltins, ...nodeOnlyPackages.filter((p) => !p.includes('*'))],
          patterns: [
            ...layer(['main', 'overlay', 'renderer', 'preload']).patterns,
            {
              group: ['@libp2p/tcp', '@libp2p/webrtc', '@libp2p/mdns', '@libp2p/upnp-nat'],
              message: 'shared code must run in a browser too',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/overlay/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: ['electron'], ...layer(['main', 'renderer', 'preload']) },
      ],
    },
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['electron', ...nodeBuiltins, ...nodeOnlyPackages.filter((p) => !p.includes('*'))],
          patterns: [
            ...layer(['main', 'overlay', 'preload']).patterns,
            {
              group: ['@libp2p/*', '@chainsafe/*'],
              message: 'the renderer talks to the node only through the bridge',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/preload/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: nodeBuiltins, ...layer(['main', 'overlay', 'renderer']) },
      ],
    },
  },
  {
    files: ['src/main/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              importNames: ['ipcRenderer', 'contextBridge'],
              message: 'Only the preload touches ipcRenderer.',
            },
          ],
          ...layer(['renderer', 'preload']),
        },
      ],
    },
  },
  {
    // Electron may only be imported by the Electron shell, never by the headless core.
    files: ['src/main/**/*.ts'],
    ignores: ['src/main/electron/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              message: 'Only src/main/electron/ (the Electron shell) imports electron.',
            },
          ],
          ...layer(['renderer', 'preload']),
        },
      ],
    },
  },
  {
    files: ['src/**/*'],
    ignores: ['src/{main,overlay,renderer,shared,preload}/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'Program',
          message:
            'This file is in no known layer: put it under src/main, src/overlay, src/shared, src/renderer or src/preload.',
        },
      ],
    },
  },
  {
    // No import cycles (value imports; scripts/check-cycles.mjs, also run by
    // `npm run lint`, includes type-only ones).
    files: ['src/**/*.{ts,tsx}', 'test/**/*.{ts,tsx}'],
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver()],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
)
