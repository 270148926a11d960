import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { SignatureIndex, signatureKey } from '../../src/core/signature-index.js'

describe('SignatureIndex', () => {
  it('returns the first position of a repeated key, across growth', () => {
    const index = new SignatureIndex()
    const keys = Array.from({ length: 200_000 }, () => signatureKey(randomBytes(64)))
    const fresh = keys.filter(([a, b], i) => index.firstSeen(a, b, i + 1) === null)
    expect(fresh).toHaveLength(keys.length)
    const [a, b] = keys[123_456] as [number, number]
    expect(index.firstSeen(a, b, 999_999)).toBe(123_457)
    expect(index.firstSeen(a, b, 1_000_000)).toBe(123_457)
  })

  it('changes the key when any single byte of the signature changes', () => {
    const signature = randomBytes(64)
    const original = signatureKey(signature)
    for (let i = 0; i < 64; i++) {
      const changed = Buffer.from(signature)
      changed[i] = (changed[i] as number) ^ 0x01
      expect(signatureKey(changed)).not.toEqual(original)
    }
  })
})
