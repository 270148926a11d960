// Owns how this server writes events. The core's own few events commit at once; ingested batches
// are signed ahead of their commit, on the signing workers, for a commit time (rt) chosen up front:
// the expected commit moment, PRESIGN_LEAD_MS ahead, never below the org's previous batch. Batches
// are issued to the store in the order their rt was chosen, so rt stays monotonic along sequence
// (SPEC.md §8 guarantee 3). Should the store still choose a later rt (the lead was overrun, or
// another replica wrote in between), the drafts re-render for it: slower, never wrong. Events no
// client waits for (access events, written after the response) ride along with the org's next
// write, or go on their own after DEFER_MS: one commit less per request.

import type { CommittedEvent, EventDraft, Store } from '../../store/store.js'
import type { EventBus } from './event-bus.js'

/**
 * How far ahead of "now" a presigned batch's rt lies: signing 100 events takes about 3 ms, and the
 * commit waits for the batches before it. Events committed meanwhile stay below it.
 */
export const PRESIGN_LEAD_MS = 25

/** The longest an event written "soon" waits for another write of its org to ride along with. */
export const DEFER_MS = 20

interface Lane {
  lastRt: number
  /** Settles once the previous writer of this org has issued its store call. */
  issued: Promise<void>
}

/** Drafts waiting for the org's next write, and the callers waiting for their commit. */
interface Deferred {
  readonly drafts: EventDraft[]
  readonly waiters: Array<{ count: number; resolve(events: CommittedEvent[]): void; reject(error: unknown): void }>
  readonly cancelTimer: () => void
}

/** Starts `task` after `ms`; returns its cancel. */
export type Schedule = (ms: number, task: () => void) => () => void

export class EventWriter {
  private readonly lanes = new Map<string, Lane>()
  private readonly deferred = new Map<string, Deferred>()

  constructor(
    private readonly store: Store,
    private readonly bus: EventBus,
    private readonly nowMs: () => number,
    private readonly schedule: Schedule,
  ) {}

  /**
   * Runs `prepare` at once with the batch's commit time, then `issue` in call order once the
   * prepared value is ready; `issue` must call the store synchronously before awaiting anything.
   */
  write<Prepared, Result>(
    orgId: string,
    prepare: (rt: number) => Prepared | Promise<Prepared>,
    issue: (rt: number, prepared: Prepared) => Promise<Result>,
  ): Promise<Result> {
    let lane = this.lanes.get(orgId)
    if (!lane) {
      lane = { lastRt: 0, issued: Promise.resolve() }
      this.lanes.set(orgId, lane)
    }
    const rt = Math.max(this.nowMs() + PRESIGN_LEAD_MS, lane.lastRt)
    lane.lastRt = rt
    const prepared = Promise.resolve().then(() => prepare(rt))
    const ready = lane.issued.then(() => prepared)
    const result = ready.then((value) => issue(rt, value))
    lane.issued = ready.then(
      () => undefined,
      () => undefined,
    )
    return result
  }

  /** Commits drafts now (the store picks rt) and announces the new head to streams and workers. */
  append(orgId: string, drafts: readonly EventDraft[]): Promise<CommittedEvent[]> {
    return this.appendWithDeferred(orgId, this.nowMs(), drafts)
  }

  /** Commits a batch signed ahead by `prepare`, in this org's order, and announces it. */
  appendPresigned(orgId: string, prepare: (rt: number) => Promise<readonly EventDraft[]>): Promise<CommittedEvent[]> {
    return this.write(orgId, prepare, (rt, drafts) => this.appendWithDeferred(orgId, rt, drafts))
  }

  /**
   * Commits drafts with the org's next write, or within DEFER_MS on their own; resolves once they
   * are committed. For events nobody waits for: nothing about them is acknowledged to anyone.
   */
  appendSoon(orgId: string, drafts: readonly EventDraft[]): Promise<CommittedEvent[]> {
    return new Promise((resolve, reject) => {
      let entry = this.deferred.get(orgId)
      if (entry === undefined) {
        const cancelTimer = this.schedule(DEFER_MS, () => this.flushDeferred(orgId))
        entry = { drafts: [], waiters: [], cancelTimer }
        this.deferred.set(orgId, entry)
      }
      entry.drafts.push(...drafts)
      entry.waiters.push({ count: drafts.length, resolve, reject })
    })
  }

  /** Commits every org's deferred drafts now (before the store closes). */
  async flushAll(): Promise<void> {
    await Promise.all([...this.deferred.keys()].map((orgId) => this.flushDeferred(orgId)))
  }

  private flushDeferred(orgId: string): Promise<unknown> {
    return this.commitDeferred(orgId, this.nowMs()) ?? Promise.resolve()
  }

  /**
   * Issues the org's deferred drafts and then `drafts` as two store calls in the same turn, so the
   * store commits them together while each stays all or nothing. Calls the store synchronously.
   */
  private async appendWithDeferred(orgId: string, nowMs: number, drafts: readonly EventDraft[]) {
    void this.commitDeferred(orgId, nowMs)
    const committed = await this.store.appendEvents(orgId, nowMs, drafts)
    this.announce(orgId, committed)
    return committed
  }

  /** Issues the org's deferred drafts, if any, settling their callers once committed. */
  private commitDeferred(orgId: string, nowMs: number): Promise<void> | null {
    const entry = this.deferred.get(orgId)
    if (entry === undefined) return null
    this.deferred.delete(orgId)
    entry.cancelTimer()
    return this.store.appendEvents(orgId, nowMs, entry.drafts).then(
      (committed) => {
        this.announce(orgId, committed)
        let offset = 0
        for (const waiter of entry.waiters) {
          waiter.resolve(committed.slice(offset, offset + waiter.count))
          offset += waiter.count
        }
      },
      (error: unknown) => {
        for (const waiter of entry.waiters) waiter.reject(error)
      },
    )
  }

  announce(orgId: string, committed: readonly CommittedEvent[]): void {
    const head = committed.at(-1)
    if (head) this.bus.announce(orgId, head.sequence)
  }
}
