import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    expect: { requireAssertions: true },
    reporters: ['default', './scripts/ci-summary.js'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    benchmark: { include: ['bench/**/*.bench.ts'] },
  },
})
