// Owns group commit for PostgreSQL appends: appends of one org issued in the same turn of the event
// loop, or while that org's previous statement is in flight, share the next statement (one WAL
// flush), each call still all or nothing. Orgs commit independently, each on its own connection.

import type { CommittedEvent, EventDraft } from '../store.js'

export interface PendingAppend {
  readonly nowMs: number
  readonly drafts: readonly EventDraft[]
}

/** Commits one org's calls in one transaction: per call its events, or the error that failed it alone. */
export type CommitAppends = (
  orgId: string,
  calls: readonly PendingAppend[],
) => Promise<ReadonlyArray<CommittedEvent[] | Error>>

interface QueuedAppend extends PendingAppend {
  resolve(committed: CommittedEvent[]): void
  reject(error: unknown): void
}

export class AppendQueue {
  private readonly waiting = new Map<string, QueuedAppend[]>()
  private readonly inFlight = new Map<string, Promise<void>>()

  constructor(private readonly commit: CommitAppends) {}

  append(orgId: string, nowMs: number, drafts: readonly EventDraft[]): Promise<CommittedEvent[]> {
    return new Promise((resolve, reject) => {
      const queue = this.waiting.get(orgId)
      const call = { nowMs, drafts, resolve, reject }
      if (queue === undefined) this.waiting.set(orgId, [call])
      else queue.push(call)
      // setImmediate: appends issued in the same turn of the event loop share the first statement.
      if (!this.inFlight.has(orgId)) {
        const scheduled = new Promise<void>((resolve) =>
          setImmediate(() => {
            this.flush(orgId)
            resolve()
          }),
        )
        this.inFlight.set(orgId, scheduled)
      }
    })
  }

  /** Resolves once nothing is queued or in flight (before the store closes). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight.values())
  }

  private flush(orgId: string): void {
    const calls = this.waiting.get(orgId)
    this.waiting.delete(orgId)
    if (calls === undefined || calls.length === 0) {
      this.inFlight.delete(orgId)
      return
    }
    const done = this.commitCalls(orgId, calls).finally(() => this.flush(orgId))
    this.inFlight.set(orgId, done)
  }

  private async commitCalls(orgId: string, calls: readonly QueuedAppend[]): Promise<void> {
    let outcomes: ReadonlyArray<CommittedEvent[] | Error>
    try {
      outcomes = await this.commit(orgId, calls)
    } catch (error) {
      for (const call of calls) call.reject(error)
      return
    }
    calls.forEach((call, i) => {
      const outcome = outcomes[i]
      if (outcome === undefined || outcome instanceof Error) call.reject(outcome ?? new Error('no outcome'))
      else call.resolve(outcome)
    })
  }
}
