import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Multi-node tests start real libp2p nodes; running files in parallel on a
    // 2-core machine only makes them slower and flakier.
    fileParallelism: false,
    pool: 'forks',
  },
})
