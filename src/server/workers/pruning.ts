// Owns retention pruning (SPEC.md §8): at start and every 10 minutes, each org's contiguous prefix
// of events committed (rt) before now − retention, at most 10,000 per transaction, then expired
// Idempotency-Keys. Never prunes by event_ts; never touches an org's last sequence or rt.

import type { Clock } from '../../core/clock.js'
import type { Store } from '../../store/store.js'
import { IDEMPOTENCY_KEY_TTL_MS } from '../services/ingest.js'
import type { WorkerTimer } from './timer.js'
import type { LeaseSettings } from './work-lease.js'
import { WorkLease } from './work-lease.js'

export const PRUNING_INTERVAL_MS = 10 * 60_000
const MAX_PRUNED_PER_TRANSACTION = 10_000

/** The part of the server's pino logger the worker writes to. */
export interface PruningLog {
  warn(details: Record<string, unknown>, message: string): void
  error(details: Record<string, unknown>, message: string): void
}

export interface PruningOptions {
  readonly store: Store
  readonly clock: Clock
  readonly timer: WorkerTimer
  readonly log: PruningLog
  /** With replicas, one prunes each org at a time (SPEC.md §8). */
  readonly lease: LeaseSettings
  readonly retentionMs: number
  readonly intervalMs?: number
  readonly maxPerTransaction?: number
}

/** What one pass deleted, across orgs. */
export interface PruningReport {
  readonly deletedEvents: number
  /** Deleted events the webhook had not delivered yet. */
  readonly undeliveredPruned: number
  readonly deletedIdempotencyKeys: number
}

const NOTHING_PRUNED: PruningReport = { deletedEvents: 0, undeliveredPruned: 0, deletedIdempotencyKeys: 0 }

interface OrgPruning {
  readonly deletedEvents: number
  readonly undeliveredPruned: number
}

export class PruningWorker {
  private readonly intervalMs: number
  private readonly maxPerTransaction: number
  /** The pass in flight or last run (never rejecting), so passes run one after another. */
  private tail: Promise<unknown> = Promise.resolve()
  private passesPending = 0
  private stopped = false
  private cancelTimer: (() => void) | null = null

  constructor(private readonly options: PruningOptions) {
    this.intervalMs = options.intervalMs ?? PRUNING_INTERVAL_MS
    this.maxPerTransaction = options.maxPerTransaction ?? MAX_PRUNED_PER_TRANSACTION
  }

  /** Runs a pass now and one every interval until stop(); a tick while a pass is pending is skipped. */
  start(): void {
    this.cancelTimer = this.options.timer.every(this.intervalMs, () => {
      if (this.passesPending === 0) void this.runLogged()
    })
    void this.runLogged()
  }

  /** One full pass at the clock's current time, after any pass in flight. */
  run(): Promise<PruningReport> {
    this.passesPending += 1
    const pass = this.tail.then(() => this.pass())
    this.tail = pass.then(
      () => this.passDone(),
      () => this.passDone(),
    )
    return pass
  }

  /** Cancels the timer and waits for the pass in flight, which stops after its current transaction. */
  async stop(): Promise<void> {
    this.stopped = true
    this.cancelTimer?.()
    await this.tail
  }

  private passDone(): void {
    this.passesPending -= 1
  }

  private async runLogged(): Promise<void> {
    try {
      await this.run()
    } catch (error) {
      this.options.log.error({ err: error }, 'pruning pass failed; the next one retries')
    }
  }

  /** Prunes every org, then the keys; a stopped worker (its store may be closed) prunes nothing. */
  private async pass(): Promise<PruningReport> {
    if (this.stopped) return NOTHING_PRUNED
    const { store, clock, retentionMs } = this.options
    const nowMs = clock.now()
    let deletedEvents = 0
    let undeliveredPruned = 0
    for (const org of await store.listOrgs()) {
      if (this.stopped) break
      const pruned = await this.pruneOrg(org.id, nowMs - retentionMs)
      deletedEvents += pruned.deletedEvents
      undeliveredPruned += pruned.undeliveredPruned
    }
    const deletedIdempotencyKeys = this.stopped ? 0 : await this.pruneIdempotencyKeys(nowMs - IDEMPOTENCY_KEY_TTL_MS)
    return { deletedEvents, undeliveredPruned, deletedIdempotencyKeys }
  }

  /** Prunes the org under its pruning lease; an org another replica prunes is skipped. */
  private async pruneOrg(orgId: string, rtBeforeMs: number): Promise<OrgPruning> {
    const { store, clock, lease: settings } = this.options
    const lease = new WorkLease(store, clock, orgId, 'pruning', settings)
    try {
      return await this.pruneLeasedOrg(orgId, rtBeforeMs, lease)
    } finally {
      await lease.release()
    }
  }

  /** Deletes the org's expired prefix one bounded transaction at a time, until a short one. */
  private async pruneLeasedOrg(orgId: string, rtBeforeMs: number, lease: WorkLease): Promise<OrgPruning> {
    const { store, timer } = this.options
    let deletedEvents = 0
    let undeliveredPruned = 0
    while (await lease.hold()) {
      const outcome = await store.pruneEvents(orgId, rtBeforeMs, this.maxPerTransaction)
      deletedEvents += outcome.deletedEvents
      undeliveredPruned += outcome.undeliveredPruned
      if (outcome.undeliveredPruned > 0) this.warnUndelivered(orgId, outcome.undeliveredPruned, outcome.throughSequence)
      if (outcome.deletedEvents < this.maxPerTransaction || this.stopped) break
      await timer.yieldToIo()
    }
    return { deletedEvents, undeliveredPruned }
  }

  private warnUndelivered(orgId: string, count: number, deliveredSequence: number): void {
    this.options.log.warn(
      { orgId, undeliveredPruned: count, deliveredSequence },
      `retention pruned ${count} events before the webhook delivered them; delivery continues after sequence ${deliveredSequence}. Re-enable or fix the webhook sooner, or raise --retention.`,
    )
  }

  private async pruneIdempotencyKeys(expiredAtOrBeforeMs: number): Promise<number> {
    const { store, timer } = this.options
    let deleted = 0
    for (;;) {
      const count = await store.pruneIdempotencyKeys(expiredAtOrBeforeMs, this.maxPerTransaction)
      deleted += count
      if (count < this.maxPerTransaction || this.stopped) return deleted
      await timer.yieldToIo()
    }
  }
}
