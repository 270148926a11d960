// Owns how this server writes events. The core's own few events commit at once; ingested batches
// are signed ahead of their commit, on the signing workers, for a commit time (rt) chosen up front:
// the expected commit moment, PRESIGN_LEAD_MS ahead, never below the org's previous batch. Batches
// are issued to the store in the order their rt was chosen, so rt stays monotonic along sequence
// (SPEC.md §8 guarantee 3). Should the store still choose a later rt (the lead was overrun, or
// another replica wrote in between), the drafts re-render for it: slower, never wrong.

import type { CommittedEvent, EventDraft, Store } from '../../store/store.js'
import type { EventBus } from './event-bus.js'

/**
 * How far ahead of "now" a presigned batch's rt lies: signing 100 events takes about 3 ms, and the
 * commit waits for the batches before it. Events committed meanwhile stay below it.
 */
export const PRESIGN_LEAD_MS = 25

interface Lane {
  lastRt: number
  /** Settles once the previous writer of this org has issued its store call. */
  issued: Promise<void>
}

export class EventWriter {
  private readonly lanes = new Map<string, Lane>()

  constructor(
    private readonly store: Store,
    private readonly bus: EventBus,
    private readonly nowMs: () => number,
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
  async append(orgId: string, drafts: readonly EventDraft[]): Promise<CommittedEvent[]> {
    const committed = await this.store.appendEvents(orgId, this.nowMs(), drafts)
    this.announce(orgId, committed)
    return committed
  }

  /** Commits a batch signed ahead by `prepare`, in this org's order, and announces it. */
  async appendPresigned(
    orgId: string,
    prepare: (rt: number) => Promise<readonly EventDraft[]>,
  ): Promise<CommittedEvent[]> {
    const committed = await this.write(orgId, prepare, (rt, drafts) => this.store.appendEvents(orgId, rt, drafts))
    this.announce(orgId, committed)
    return committed
  }

  announce(orgId: string, committed: readonly CommittedEvent[]): void {
    const head = committed.at(-1)
    if (head) this.bus.announce(orgId, head.sequence)
  }
}
