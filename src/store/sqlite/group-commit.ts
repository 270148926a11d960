// Owns group commit for SQLite appends: calls that arrive in the same turn of the event loop
// share one transaction (one fsync under synchronous=FULL), each in its own savepoint, so each
// call still commits all or nothing and resolves only after the shared commit is durable.

import type Database from 'better-sqlite3'
import type { CommittedEvent, EventDraft } from '../store.js'

interface PendingAppend {
  readonly orgId: string
  readonly nowMs: number
  readonly drafts: readonly EventDraft[]
  resolve(committed: CommittedEvent[]): void
  reject(error: unknown): void
}

type AppendOne = (orgId: string, nowMs: number, drafts: readonly EventDraft[]) => CommittedEvent[]

export class GroupCommit {
  private queue: PendingAppend[] = []
  private scheduled = false
  private readonly appendInSavepoint: Database.Transaction<AppendOne>
  private readonly commitAll: Database.Transaction<(calls: readonly PendingAppend[]) => Array<CommittedEvent[] | Error>>

  /**
   * `append` runs inside the shared transaction; `guard` maps driver errors and refuses a
   * closed database, exactly as for every other store call.
   */
  constructor(
    db: Database.Database,
    append: AppendOne,
    private readonly guard: <T>(fn: () => T) => T,
  ) {
    // A transaction function called inside another one runs as a savepoint.
    this.appendInSavepoint = db.transaction(append)
    this.commitAll = db.transaction((calls: readonly PendingAppend[]) =>
      calls.map((call) => {
        try {
          return this.appendInSavepoint(call.orgId, call.nowMs, call.drafts)
        } catch (error) {
          return error instanceof Error ? error : new Error(String(error))
        }
      }),
    )
  }

  append(orgId: string, nowMs: number, drafts: readonly EventDraft[]): Promise<CommittedEvent[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ orgId, nowMs, drafts, resolve, reject })
      if (!this.scheduled) {
        this.scheduled = true
        // setImmediate runs after the I/O callbacks of this turn, so concurrent requests join in.
        setImmediate(() => this.flush())
      }
    })
  }

  /** Commits everything queued now (also called before the database closes). */
  flush(): void {
    this.scheduled = false
    const calls = this.queue
    this.queue = []
    if (calls.length === 0) return
    let outcomes: Array<CommittedEvent[] | Error>
    try {
      outcomes = this.guard(() => this.commitAll.immediate(calls))
    } catch (error) {
      for (const call of calls) call.reject(error)
      return
    }
    calls.forEach((call, i) => {
      const outcome = outcomes[i]
      if (outcome instanceof Error || outcome === undefined) call.reject(outcome ?? new Error('no outcome'))
      else call.resolve(outcome)
    })
  }
}
