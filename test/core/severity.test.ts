import { describe, expect, it } from 'vitest'
import { AUTHENTICATION_OUTCOMES, severityOf } from '../../src/core/severity.js'

describe('severityOf (SPEC.md §3.3)', () => {
  it.each([
    ['SUCCESS', 0],
    ['NOT_FOUND', 1],
    ['INVALID_PASSWORD', 1],
    ['TOKEN_EXPIRED', 1],
    ['LOCKED', 6],
    ['DISABLED', 6],
    ['INVALID', 7],
  ])('authentication AUTHENTICATION_OUTCOME_%s → %i', (outcome, severity) => {
    expect(severityOf({ type: 'authentication', name: `AUTHENTICATION_OUTCOME_${outcome}` })).toBe(severity)
  })

  it('covers every authentication outcome', () => {
    expect(AUTHENTICATION_OUTCOMES).toEqual([
      'SUCCESS',
      'NOT_FOUND',
      'INVALID_PASSWORD',
      'TOKEN_EXPIRED',
      'LOCKED',
      'DISABLED',
      'INVALID',
    ])
  })

  it('rejects a name that is no authentication outcome', () => {
    expect(() => severityOf({ type: 'authentication', name: 'AUTHENTICATION_OUTCOME_MAYBE' })).toThrow(RangeError)
    expect(() => severityOf({ type: 'authentication', name: 'SUCCESS' })).toThrow(RangeError)
  })

  it('authorization: granted → 1, denied → 6', () => {
    expect(severityOf({ type: 'authorization', granted: true })).toBe(1)
    expect(severityOf({ type: 'authorization', granted: false })).toBe(6)
  })

  it.each([
    [100, 1],
    [200, 1],
    [302, 1],
    [400, 1],
    [401, 6],
    [403, 6],
    [404, 1],
    [429, 1],
    [499, 1],
    [500, 10],
    [502, 10],
    [503, 10],
    [599, 10],
  ])('gateway_access status %i → %i (the whole 5xx class is 10)', (status, severity) => {
    expect(severityOf({ type: 'gateway_access', status })).toBe(severity)
  })

  it('takes a whole event draft, as the self-audit does', () => {
    const draft = { type: 'gateway_access', status: 403, act: 'DELETE', request: '/v1/tokens/x' } as const
    expect(severityOf(draft)).toBe(6)
  })
})
