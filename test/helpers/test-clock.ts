// A clock the test moves by hand, and a worker timer that never fires on its own: tests advance
// the clock and settle the worker instead of sleeping (DESIGN.md §8).

import type { DeliveryTimer } from '../../src/server/workers/timer.js'

export interface TestClock {
  nowMs: number
  now(): number
}

export function testClock(startMs: number): TestClock {
  return {
    nowMs: startMs,
    now() {
      return this.nowMs
    },
  }
}

export const manualTimer: DeliveryTimer = {
  every: () => () => {},
  after: () => () => {},
  yieldToIo: () => new Promise((resolve) => setImmediate(resolve)),
}

/** A worker log that keeps warnings and fails the test on any error. */
export function strictWorkerLog(worker: string, warnings: string[]) {
  return {
    info: () => {},
    warn: (_details: Record<string, unknown>, message: string) => void warnings.push(message),
    error: (details: Record<string, unknown>, message: string) => {
      throw new Error(`${worker} logged an error: ${message} ${String(details.err)}`)
    },
  }
}

/** The lease settings of a worker a test builds itself (one holder, SPEC.md's 30 s term). */
export const TEST_LEASE = { holder: 'test-worker', leaseMs: 30_000 } as const
