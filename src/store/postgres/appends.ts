// Owns appending events on PostgreSQL. Each call's drafts are rendered for the org's head (a render
// that throws fails its call alone); then one statement advances the org's head only if it is
// still the one rendered for (compare and swap), inserts the events and notifies other replicas:
// one round trip and one commit. A replica that lost a race reads the new head, renders again
// and retries; after a few lost races it waits for the org's row lock instead, so it always ends.

import type { CommittedEvent } from '../store.js'
import type { PendingAppend } from './append-queue.js'
import type { Database, NamedStatement, Queryable } from './connection.js'
import type { Notifications } from './notifications.js'
import type { OrgHead } from './org-head.js'
import { lockOrg, readOrgHead } from './org-head.js'

/** Lost races tolerated before an append takes the org's lock. */
const DEFAULT_OPTIMISTIC_ATTEMPTS = 3

// $1 org, $2–$6 the event columns, $7 every line in one bytea (sent in binary) with $8 each line's
// length, $9/$10 the new head, $11/$12 the head rendered for, $13/$14 the notification. One bytea
// rather than a bytea[] spares the array's hex text, twice the size of the lines.
const ADVANCE_AND_INSERT: NamedStatement = {
  name: 'konnect_audit_append',
  text: `WITH advanced AS (
    UPDATE orgs SET last_sequence = $9, last_rt = $10
    WHERE id = $1 AND last_sequence = $11 AND last_rt = $12
    RETURNING id
  ), appended AS (
    INSERT INTO events (org_id, sequence, type, event_ts_ms, rt, trace_id, line)
    SELECT $1, e.sequence, e.type, e.event_ts_ms, e.rt, e.trace_id,
      substring($7::bytea FROM (sum(e.length) OVER (ORDER BY e.sequence) - e.length + 1)::int FOR e.length)
    FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $8::int[])
      AS e (sequence, type, event_ts_ms, rt, trace_id, length)
    WHERE EXISTS (SELECT 1 FROM advanced)
  )
  SELECT pg_notify($13, $14) FROM advanced`,
}

type Outcomes = Array<CommittedEvent[] | Error>

interface Rendered {
  readonly outcomes: Outcomes
  readonly head: OrgHead
  /** The statement's event columns: sequence, type, event_ts, rt, trace_id. */
  readonly columns: readonly [number[], string[], number[], number[], string[]]
  readonly lines: readonly Buffer[]
}

/** Renders each call with rt = max(its nowMs, the last rt), numbering its events after the last sequence. */
function render(head: OrgHead, calls: readonly PendingAppend[]): Rendered {
  let { lastSequence, lastRt } = head
  const columns: Rendered['columns'] = [[], [], [], [], []]
  const [sequences, types, eventTimes, rts, traceIds] = columns
  const lines: Buffer[] = []
  const outcomes = calls.map((call): CommittedEvent[] | Error => {
    const rt = Math.max(call.nowMs, lastRt)
    let rendered: Buffer[]
    try {
      rendered = call.drafts.map((draft) => Buffer.from(draft.render(rt), 'utf8'))
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error))
    }
    const committed = call.drafts.map((draft, index): CommittedEvent => {
      const sequence = lastSequence + 1 + index
      sequences.push(sequence)
      types.push(draft.type)
      eventTimes.push(draft.eventTsMs)
      rts.push(rt)
      traceIds.push(draft.traceId)
      lines.push(rendered[index] as Buffer)
      return { sequence, rt, traceId: draft.traceId }
    })
    if (committed.length > 0) {
      lastSequence += committed.length
      lastRt = rt
    }
    return committed
  })
  return { outcomes, head: { lastSequence, lastRt }, columns, lines }
}

export class EventAppender {
  /** Each org's head after this store's last append: a guess that the compare and swap checks. */
  private readonly heads = new Map<string, OrgHead>()

  constructor(
    private readonly database: Database,
    private readonly notifications: Notifications,
    private readonly optimisticAttempts = DEFAULT_OPTIMISTIC_ATTEMPTS,
  ) {}

  /** Commits one org's calls in one statement of their own: per call its events or its error. */
  async append(orgId: string, calls: readonly PendingAppend[]): Promise<Outcomes> {
    for (let attempt = 0; attempt < this.optimisticAttempts; attempt++) {
      const head = this.heads.get(orgId) ?? (await this.database.use((db) => readOrgHead(db, orgId)))
      const advanced = await this.database.use((db) => this.advance(db, orgId, head, calls))
      if (advanced !== null) {
        this.heads.set(orgId, advanced.head)
        return advanced.outcomes
      }
      this.heads.delete(orgId)
    }
    // Other replicas keep winning: queue behind the org's lock, where the swap cannot fail.
    return this.database.transaction(async (tx) => this.appendLocked(tx, orgId, await lockOrg(tx, orgId), calls))
  }

  /** Commits the calls in the caller's transaction, which holds the org's lock and read `head` under it. */
  async appendLocked(tx: Queryable, orgId: string, head: OrgHead, calls: readonly PendingAppend[]): Promise<Outcomes> {
    const advanced = await this.advance(tx, orgId, head, calls)
    if (advanced === null) throw new Error(`The head of org ${orgId} moved while its row was locked`)
    // The transaction may still roll back: the next append reads the head again.
    this.heads.delete(orgId)
    return advanced.outcomes
  }

  /** The outcomes and the new head, or null when the org's head is no longer `head` (nothing was stored). */
  private async advance(
    db: Queryable,
    orgId: string,
    head: OrgHead,
    calls: readonly PendingAppend[],
  ): Promise<Rendered | null> {
    const rendered = render(head, calls)
    if (rendered.columns[0].length === 0) return rendered
    const { lastSequence, lastRt } = rendered.head
    const [channel, payload] = this.notifications.notice({ kind: 'events', orgId, head: lastSequence })
    const applied = await db.rows(ADVANCE_AND_INSERT, [
      orgId,
      ...rendered.columns,
      Buffer.concat(rendered.lines),
      rendered.lines.map((line) => line.length),
      lastSequence,
      lastRt,
      head.lastSequence,
      head.lastRt,
      channel,
      payload,
    ])
    return applied.length === 0 ? null : rendered
  }
}
