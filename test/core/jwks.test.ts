import { describe, expect, it } from 'vitest'
import { JwksError, jwkOf, readJwks, writeJwks } from '../../src/core/jwks.js'
import { TEST_JWKS, TEST_KID, TEST_PUBLIC_KEY } from '../fixtures/vectors.js'

describe('JWKS', () => {
  it('writes the SPEC.md §4.7 shape, byte for byte as Appendix A', () => {
    expect(writeJwks([jwkOf(TEST_PUBLIC_KEY, 'active')])).toBe(TEST_JWKS)
  })

  it('reads usable keys and warns about each unusable entry', () => {
    const good = JSON.parse(TEST_JWKS).keys[0]
    const text = JSON.stringify({
      keys: [
        { ...good, kid: undefined },
        { ...good, kty: 'RSA' },
        { ...good, crv: 'X25519' },
        { ...good, alg: 'RS256' },
        { ...good, use: 'enc' },
        { ...good, x: `${good.x}A` }, // 44 chars, Konnect's documentation defect
        { ...good, x: `${good.x.slice(0, 42)}p` }, // unused bits set
        'not an object',
        { ...good, status: 'retired' },
      ],
    })
    const { keys, warnings } = readJwks(text)
    expect(keys.map((key) => key.kid)).toEqual(['#0', TEST_KID])
    expect(warnings).toHaveLength(7)
    expect(warnings[0]).toBe(`JWKS key ${TEST_KID} skipped: kty is not OKP`)
  })

  it.each([
    ['not JSON', '{"keys":', 'the JWKS is not valid JSON'],
    ['no keys array', '{"kty":"OKP"}', 'the JWKS has no "keys" array'],
    ['null', 'null', 'the JWKS has no "keys" array'],
    ['no usable key', '{"keys":[{"kty":"RSA"}]}', 'the JWKS has no usable Ed25519 key'],
    ['empty', '{"keys":[]}', 'the JWKS has no usable Ed25519 key'],
  ])('rejects a JWKS that is %s', (_, text, message) => {
    expect(() => readJwks(text)).toThrow(new JwksError(message))
  })
})
