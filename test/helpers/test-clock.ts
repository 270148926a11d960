// A clock the test moves by hand, and a worker timer that never fires on its own: tests advance
// the clock and settle the worker instead of sleeping (DESIGN.md §8); with the options of the
// delivery and replay workers that tests build on a test server.

import type { EventBus } from '../../src/server/services/event-bus.js'
import type { SignerCache } from '../../src/server/services/signers.js'
import type { LoopLog } from '../../src/server/workers/org-loop.js'
import type { DeliveryTimer } from '../../src/server/workers/timer.js'
import type { Store } from '../../src/store/store.js'

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

/** The manual timer, but a test runs the repeating tasks running now (e.g. lease heartbeats) with tick(). */
export function tickingTimer(): { readonly timer: DeliveryTimer; tick(): void } {
  const tasks = new Set<() => void>()
  const every = (_intervalMs: number, task: () => void) => {
    tasks.add(task)
    return () => {
      tasks.delete(task)
    }
  }
  return {
    timer: { ...manualTimer, every },
    tick: () => {
      for (const task of tasks) task()
    },
  }
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

/**
 * What a delivery or replay worker a test builds gets: the test server's store and keys, the
 * test's clock, the manual timer, one lease holder, loopback receivers allowed, fixed jitter.
 */
export function testLoopOptions(
  server: { readonly store: Store; readonly services: { readonly signers: SignerCache; readonly bus: EventBus } },
  clock: TestClock,
  log: LoopLog,
  attemptTimeoutMs: number,
) {
  const { signers, bus } = server.services
  const common = { clock, timer: manualTimer, signers, log, lease: TEST_LEASE, allowInsecureEndpoints: true }
  return { store: server.store, bus, ...common, attemptTimeoutMs, random: () => 0.5 }
}
