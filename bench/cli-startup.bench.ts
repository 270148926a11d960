// Benchmark of CLI start-up (issue 3 target): `konnect-audit --version` and `--help` against
// `node -e 0`, each the median of repeated runs in this same process.

import { spawnSync } from 'node:child_process'
import { afterAll, bench, describe } from 'vitest'
import { BIN, report } from './support.js'

const RUNS = 25
const medians: Record<string, number> = {}

function medianMs(args: readonly string[]): number {
  const times = Array.from({ length: RUNS }, () => {
    const started = performance.now()
    const result = spawnSync(process.execPath, args, { stdio: 'ignore' })
    if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}`)
    return performance.now() - started
  }).sort((a, b) => a - b)
  return times[Math.floor(RUNS / 2)] as number
}

const once = { iterations: 1, time: 0, warmupIterations: 0, warmupTime: 0 }

const commands: Record<string, readonly string[]> = {
  node: ['-e', '0'],
  version: [BIN, '--version'],
  help: [BIN, '--help'],
}

describe('start-up', () => {
  for (const [name, args] of Object.entries(commands)) {
    bench(
      name,
      () => {
        medians[name] = medianMs(args)
      },
      once,
    )
  }
})

afterAll(() => {
  const { node = 0, version = 0, help = 0 } = medians
  report(`start-up, median of ${RUNS} runs (same run)`, [
    ['node -e 0', `${node.toFixed(1)} ms`],
    ['konnect-audit --version', `${version.toFixed(1)} ms = ${(version / node).toFixed(2)}x node (target <= 2x)`],
    ['konnect-audit --help', `${help.toFixed(1)} ms = ${(help / node).toFixed(2)}x node (target <= 2x)`],
  ])
})
