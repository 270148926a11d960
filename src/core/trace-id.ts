// Owns the draw of server-assigned trace ids: uniform in [1, 2^63 − 1] so they also fit a signed
// int64 (SPEC.md §3.4). The value lives in a bigint and leaves as a decimal string, never a number.

import { randomBytes as cryptoRandomBytes } from 'node:crypto'
import type { TraceId } from '../util/u64.js'
import { parseTraceId } from '../util/u64.js'

const LOW_63_BITS = (1n << 63n) - 1n

/** Random bytes fetched 4 KiB at a time: one system call per 512 trace ids instead of one each. */
const pool = { bytes: Buffer.alloc(0), offset: 0 }

function pooledRandomBytes(byteCount: number): Buffer {
  if (pool.offset + byteCount > pool.bytes.length) {
    pool.bytes = cryptoRandomBytes(4096)
    pool.offset = 0
  }
  pool.offset += byteCount
  return pool.bytes.subarray(pool.offset - byteCount, pool.offset)
}

/** Masking the top bit of 8 random bytes is uniform over [0, 2^63 − 1]; redrawing 0 leaves [1, 2^63 − 1]. */
export function drawTraceId(randomBytes: (byteCount: number) => Buffer = pooledRandomBytes): TraceId {
  for (;;) {
    const value = randomBytes(8).readBigUInt64BE(0) & LOW_63_BITS
    if (value !== 0n) return parseTraceId(value.toString())
  }
}
