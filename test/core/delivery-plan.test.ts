// Tests the pure delivery decisions (SPEC.md §6.1–§6.3): batch cuts by count and bytes, when a
// batch is due, how answers are judged, the quick-retry and probe schedules with fixed jitter,
// Retry-After in both forms with its cap, and 413 halving.

import { describe, expect, it } from 'vitest'
import type { RetryState } from '../../src/core/delivery-plan.js'
import {
  BATCH_WINDOW_MS,
  batchDueAtMs,
  batchLineCount,
  FRESH_RETRY_STATE,
  halvedBatchLimit,
  judgeAttempt,
  MAX_BATCH_BYTES,
  MAX_BATCH_EVENTS,
  parseRetryAfterMs,
  planAfterFailure,
  quickRetryDelayMs,
  retryStateOf,
} from '../../src/core/delivery-plan.js'

const NOW = Date.UTC(2026, 10, 26, 9, 0, 0)
const middle = () => 0.5
const lowest = () => 0
const highest = () => 0.999_999_999

describe('batch cuts (SPEC.md §6.1)', () => {
  it('takes at most the event limit', () => {
    expect(batchLineCount(new Array(1500).fill(100), MAX_BATCH_EVENTS)).toBe(1000)
    expect(batchLineCount(new Array(10).fill(100), 4)).toBe(4)
    expect(batchLineCount([], MAX_BATCH_EVENTS)).toBe(0)
  })

  it('counts one newline per line against 1 MiB, exactly at the boundary', () => {
    const lineBytes = MAX_BATCH_BYTES / 4 - 1
    expect(batchLineCount([lineBytes, lineBytes, lineBytes, lineBytes, 1], MAX_BATCH_EVENTS)).toBe(4)
    expect(batchLineCount([lineBytes, lineBytes, lineBytes, lineBytes + 1], MAX_BATCH_EVENTS)).toBe(3)
  })

  it('sends an oversized line alone rather than never', () => {
    expect(batchLineCount([MAX_BATCH_BYTES + 10, 5], MAX_BATCH_EVENTS)).toBe(1)
  })

  it('is due one window after the oldest commit, or at once when full by count or bytes', () => {
    const pending = { eventCount: 3, storedBytes: 300, oldestRtMs: NOW }
    expect(batchDueAtMs(pending, MAX_BATCH_EVENTS)).toBe(NOW + BATCH_WINDOW_MS)
    expect(batchDueAtMs(pending, 3)).toBe(Number.NEGATIVE_INFINITY)
    expect(batchDueAtMs({ ...pending, storedBytes: MAX_BATCH_BYTES - 3 }, MAX_BATCH_EVENTS)).toBe(
      Number.NEGATIVE_INFINITY,
    )
  })
})

describe('judging an attempt (SPEC.md §6.2–§6.3)', () => {
  const outcome = (statusCode: number, retryAfter: string | null = null, refusedByPolicy = false) => ({
    statusCode,
    retryAfter,
    refusedByPolicy,
  })

  it.each([200, 201, 202, 204, 299])('counts %i as delivered', (status) => {
    expect(judgeAttempt(outcome(status), 10, NOW)).toEqual({ kind: 'delivered' })
  })

  it.each([
    [0, true],
    [500, true],
    [502, true],
    [503, true],
    [599, true],
    [429, true],
    [301, false],
    [307, false],
    [400, false],
    [401, false],
    [404, false],
  ])('judges %i retryable: %s', (status, retryable) => {
    expect(judgeAttempt(outcome(status), 10, NOW)).toEqual({ kind: 'failed', retryable, retryAfterMs: null })
  })

  it('never retries an address-policy refusal quickly', () => {
    expect(judgeAttempt(outcome(0, null, true), 10, NOW)).toEqual({
      kind: 'failed',
      retryable: false,
      retryAfterMs: null,
    })
  })

  it('splits on 413 while the batch has more than one event; a single event is non-retryable', () => {
    expect(judgeAttempt(outcome(413), 2, NOW)).toEqual({ kind: 'too_large' })
    expect(judgeAttempt(outcome(413), 1, NOW)).toEqual({ kind: 'failed', retryable: false, retryAfterMs: null })
    expect([1000, 500, 250, 125, 63, 32, 16, 8, 4, 2].map(halvedBatchLimit)).toEqual([
      500, 250, 125, 63, 32, 16, 8, 4, 2, 1,
    ])
  })

  it('reads Retry-After only on 429 and 503', () => {
    expect(judgeAttempt(outcome(429, '7'), 1, NOW)).toMatchObject({ retryAfterMs: 7000 })
    expect(judgeAttempt(outcome(503, '7'), 1, NOW)).toMatchObject({ retryAfterMs: 7000 })
    expect(judgeAttempt(outcome(500, '7'), 1, NOW)).toMatchObject({ retryAfterMs: null })
    expect(judgeAttempt(outcome(429, 'soon'), 1, NOW)).toMatchObject({ retryAfterMs: null })
  })
})

describe('Retry-After (RFC 9110 §10.2.3)', () => {
  it.each([
    ['0', 0],
    ['120', 120_000],
    [' 30 ', 30_000],
    ['600', 600_000],
    ['601', 600_000],
    ['99999999999', 600_000],
  ])('reads delay-seconds %j', (value, expected) => {
    expect(parseRetryAfterMs(value, NOW)).toBe(expected)
  })

  it.each([
    ['Thu, 26 Nov 2026 09:01:30 GMT', 90_000],
    ['Thursday, 26-Nov-26 09:01:30 GMT', 90_000],
    ['Thu Nov 26 09:01:30 2026', 90_000],
    ['Thu Nov  6 09:01:30 2026', 0],
    ['Thu, 26 Nov 2026 08:59:00 GMT', 0],
    ['Thu, 26 Nov 2026 10:00:00 GMT', 600_000],
    ['Sat, 29 Feb 2020 00:00:00 GMT', 0],
  ])('reads the HTTP-date %j relative to now, capped at 10 min', (value, expected) => {
    expect(parseRetryAfterMs(value, NOW)).toBe(expected)
  })

  it.each([
    '',
    '-5',
    '1.5',
    'soon',
    'Thu, 26 Nov 2026 09:01:30 UTC',
    'Thu, 31 Nov 2026 09:01:30 GMT',
    'Fri, 29 Feb 2019 00:00:00 GMT',
    'Thu, 26 Nov 2026 24:00:00 GMT',
    '2026-11-26T09:01:30Z',
  ])('refuses %j', (value) => {
    expect(parseRetryAfterMs(value, NOW)).toBeNull()
  })

  it('reads a two-digit year as the most recent past year more than 50 years ahead', () => {
    const in1994 = parseRetryAfterMs('Sunday, 06-Nov-94 08:49:37 GMT', Date.UTC(1994, 10, 6, 8, 49, 0))
    expect(in1994).toBe(37_000)
    expect(parseRetryAfterMs('Sunday, 06-Nov-94 08:49:37 GMT', NOW)).toBe(0)
  })
})

describe('retries and probing (SPEC.md §6.3)', () => {
  const retryable = { retryable: true, retryAfterMs: null }
  const nonRetryable = { retryable: false, retryAfterMs: null }

  /** The delays and inactive flags of `failures` failed attempts in a row from a fresh batch. */
  function schedule(failures: number, random: () => number, failure: typeof retryable = retryable) {
    let state: RetryState = FRESH_RETRY_STATE
    return Array.from({ length: failures }, () => {
      const plan = planAfterFailure(state, failure, random)
      state = plan.state
      return [plan.delayMs, plan.inactive]
    })
  }

  it('retries 4 times after 1, 2, 4 and 8 s, then goes inactive and probes from 30 s doubling to 5 min', () => {
    expect(schedule(11, middle)).toEqual([
      [1000, false],
      [2000, false],
      [4000, false],
      [8000, false],
      [30_000, true],
      [60_000, true],
      [120_000, true],
      [240_000, true],
      [300_000, true],
      [300_000, true],
      [300_000, true],
    ])
  })

  it('jitters by ±20 %, keeping quick retries within [1 s, 30 s]', () => {
    expect(schedule(6, lowest).map(([delay]) => delay)).toEqual([1000, 1600, 3200, 6400, 24_000, 48_000])
    expect(schedule(6, highest).map(([delay]) => delay)).toEqual([1200, 2400, 4800, 9600, 36_000, 72_000])
    expect([1, 5, 6, 9].map((retry) => quickRetryDelayMs(retry, highest))).toEqual([1200, 19_200, 30_000, 30_000])
    expect(quickRetryDelayMs(6, lowest)).toBe(24_000)
  })

  it('goes inactive at once on a non-retryable answer, and probing goes on', () => {
    expect(schedule(3, middle, nonRetryable)).toEqual([
      [30_000, true],
      [60_000, true],
      [120_000, true],
    ])
  })

  it('lets Retry-After raise a quick retry or a probe, never shorten it, capped at 10 min', () => {
    expect(planAfterFailure(FRESH_RETRY_STATE, { retryable: true, retryAfterMs: 120_000 }, middle).delayMs).toBe(
      120_000,
    )
    expect(planAfterFailure(FRESH_RETRY_STATE, { retryable: true, retryAfterMs: 10 }, middle).delayMs).toBe(1000)
    const probing: RetryState = { phase: 'probing', probes: 1 }
    expect(planAfterFailure(probing, { retryable: true, retryAfterMs: 3_600_000 }, middle)).toMatchObject({
      delayMs: 600_000,
      inactive: true,
    })
  })

  it('continues from the durable status: probing when inactive, the failures so far when active', () => {
    expect(retryStateOf('inactive', 9)).toEqual({ phase: 'probing', probes: 1 })
    expect(retryStateOf('active', 0)).toEqual(FRESH_RETRY_STATE)
    expect(retryStateOf('active', 2)).toEqual({ phase: 'quick', failedAttempts: 2 })
    expect(planAfterFailure(retryStateOf('active', 4), retryable, middle)).toMatchObject({ inactive: true })
  })
})
