import { describe, expect, it } from 'vitest'
import { drawTraceId } from '../../src/core/trace-id.js'
import { isTraceId } from '../../src/util/u64.js'

const MAX_TRACE_ID = (1n << 63n) - 1n

/** A randomBytes stub that returns the given hex strings in turn and records the sizes asked for. */
function stub(...hexDraws: string[]) {
  const sizes: number[] = []
  const draw = (byteCount: number) => {
    sizes.push(byteCount)
    const next = hexDraws.shift()
    if (next === undefined) throw new Error('no more stubbed draws')
    return Buffer.from(next, 'hex')
  }
  return { draw, sizes }
}

describe('drawTraceId', () => {
  it('masks the top bit: all-ones bytes give 2^63 − 1, as a string', () => {
    const traceId = drawTraceId(stub('ffffffffffffffff').draw)
    expect(traceId).toBe('9223372036854775807')
    expect(typeof traceId).toBe('string')
  })

  it('keeps values above 2^53 exact (never a JS number)', () => {
    expect(drawTraceId(stub('0020000000000001').draw)).toBe('9007199254740993')
  })

  it('redraws 0, including 2^63 masked to 0, and asks for 8 bytes each time', () => {
    const { draw, sizes } = stub('0000000000000000', '8000000000000000', '0000000000000001')
    expect(drawTraceId(draw)).toBe('1')
    expect(sizes).toEqual([8, 8, 8])
  })

  it('draws from [1, 2^63 − 1] with node:crypto by default', () => {
    const drawn = Array.from({ length: 2000 }, () => drawTraceId())
    for (const traceId of drawn) {
      expect(isTraceId(traceId)).toBe(true)
      expect(BigInt(traceId) >= 1n && BigInt(traceId) <= MAX_TRACE_ID).toBe(true)
    }
    expect(new Set(drawn).size).toBe(drawn.length)
    // Uniform over 63 bits: about half the draws are at or above 2^62.
    const high = drawn.filter((traceId) => BigInt(traceId) >= 1n << 62n).length
    expect(high).toBeGreaterThan(800)
    expect(high).toBeLessThan(1200)
  })
})
