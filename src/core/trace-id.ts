// Owns the draw of server-assigned trace ids: uniform in [1, 2^63 − 1] so they also fit a signed
// int64 (SPEC.md §3.4). The value lives in a bigint and leaves as a decimal string, never a number.

import { randomBytes as cryptoRandomBytes } from 'node:crypto'
import type { TraceId } from '../util/u64.js'
import { parseTraceId } from '../util/u64.js'

const LOW_63_BITS = (1n << 63n) - 1n

/** Masking the top bit of 8 random bytes is uniform over [0, 2^63 − 1]; redrawing 0 leaves [1, 2^63 − 1]. */
export function drawTraceId(randomBytes: (byteCount: number) => Buffer = cryptoRandomBytes): TraceId {
  for (;;) {
    const value = randomBytes(8).readBigUInt64BE(0) & LOW_63_BITS
    if (value !== 0n) return parseTraceId(value.toString())
  }
}
