import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    expect: { requireAssertions: true },
    reporters: ['default', './scripts/ci-summary.js'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    benchmark: { include: ['bench/**/*.bench.ts'] },
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/e2e/**'] } },
      // The end-to-end files spawn servers and kill them under load: one at a time, after the rest,
      // so their time bounds never compete with each other or with the unit files for the 2 cores.
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          // The benchmarks belong to the first project only, so `npm run bench` runs each once.
          benchmark: { exclude: ['**'] },
        },
      },
    ],
  },
})
