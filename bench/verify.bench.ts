// Benchmark of `konnect-audit verify` (issue 3 targets): lines/s on a 200,000-line log against
// single-core OpenSSL and single-threaded tweetnacl baselines measured in the same run, and
// peak RSS on a 1 GB input (KA_BENCH_MEMORY_GB scales it; 0 skips it).

import { readFileSync } from 'node:fs'
import nacl from 'tweetnacl'
import { afterAll, bench, describe } from 'vitest'
import { extractSigned } from '../src/core/extract.js'
import { BIN, benchDir, opensslVerifyRate, report, runNode, writeSignedLog, writeUnsignedBulk } from './support.js'

const LINES = 200_000
const TWEETNACL_SAMPLE = 1_000
const once = { iterations: 1, time: 0, warmupIterations: 0, warmupTime: 0 }

const dir = benchDir()
const { log, jwks } = await writeSignedLog(dir, LINES)
const rates: Record<string, number> = {}
const memory: Array<[string, string]> = []

describe('verify', () => {
  bench(
    `konnect-audit verify, ${LINES} lines, all cores`,
    async () => {
      const run = await runNode([BIN, 'verify', log, '--jwks', jwks, '-q'])
      if (run.exitCode !== 0) throw new Error(`verify exited ${run.exitCode}`)
      rates.verify = LINES / run.seconds
    },
    once,
  )

  bench(
    'openssl speed ed25519 (one core)',
    () => {
      rates.openssl = opensslVerifyRate()
    },
    once,
  )

  bench(
    `tweetnacl, one thread, ${TWEETNACL_SAMPLE} lines`,
    () => {
      const jwk = JSON.parse(readFileSync(jwks, 'utf8')).keys[0]
      const publicKey = Buffer.from(jwk.x, 'base64url')
      const lines = readFileSync(log).subarray(0, 2_000_000).toString('utf8').split('\n').slice(0, TWEETNACL_SAMPLE)
      const started = performance.now()
      for (const line of lines) {
        const extraction = extractSigned(Buffer.from(line))
        if (
          extraction.kind !== 'signed' ||
          !nacl.sign.detached.verify(extraction.message, extraction.signature, publicKey)
        ) {
          throw new Error('tweetnacl rejected a line')
        }
      }
      rates.tweetnacl = TWEETNACL_SAMPLE / ((performance.now() - started) / 1000)
    },
    once,
  )

  const gigabytes = Number(process.env.KA_BENCH_MEMORY_GB ?? 1)
  if (gigabytes > 0) {
    bench(
      `peak RSS of verify on ${gigabytes} GB`,
      async () => {
        const bulk = await writeUnsignedBulk(dir, gigabytes * 1024 ** 3)
        const run = await runNode([BIN, 'verify', bulk, '--jwks', jwks, '-q', '--json'])
        const summary = JSON.parse(run.stdout.trim().split('\n').at(-1) as string)
        memory.push(
          [
            `peak RSS on ${gigabytes} GB (${summary.lines} lines)`,
            `${run.peakRssMiB.toFixed(0)} MiB (target < 256 MiB)`,
          ],
          ['lines/s on that input', (summary.lines / run.seconds).toFixed(0)],
        )
      },
      once,
    )
  }
})

afterAll(() => {
  const { verify = 0, openssl = 0, tweetnacl = 0 } = rates
  report('verify throughput (same run)', [
    ['konnect-audit verify', `${verify.toFixed(0)} lines/s`],
    ['openssl, one core', `${openssl.toFixed(0)} verifications/s`],
    ['tweetnacl, one thread', `${tweetnacl.toFixed(0)} lines/s`],
    ['verify / openssl', `${(verify / openssl).toFixed(2)}x (target >= 1.5x; 2 cores: 2x is the limit)`],
    ['verify / tweetnacl', `${(verify / tweetnacl).toFixed(0)}x (target > 100x)`],
    ...memory,
  ])
})
