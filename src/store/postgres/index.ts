// Owns the PostgreSQL adapter of the store (DESIGN.md §7, SPEC.md §6.5): one pool, numbered
// forward-only migrations under an advisory lock, multi-statement writes serialised per org by the
// org row's lock, appends grouped per org and committed by a swap of the org's head (appends.ts),
// so sequences are gap-free and commit in order across replicas, leases claimed with FOR UPDATE
// SKIP LOCKED, and NOTIFY in the writing transaction to wake other replicas.

import { randomUUID } from 'node:crypto'
import { readMigrations, refuseNewerSchema } from '../migrations.js'
import type { DeliveryColumns } from '../records.js'
import {
  changesDelivery,
  deliveryOf,
  inconsistentWebhook,
  isActiveAdmin,
  readThroughSequence,
  replaySubmitRefusal,
} from '../records.js'
import type {
  BucketCount,
  ConfiguredWebhook,
  DecideWebhookChange,
  DestinationChange,
  DestinationDeleteOutcome,
  DestinationInsertOutcome,
  DestinationQuery,
  DestinationRecord,
  EventCountQuery,
  EventQuery,
  IdempotencyClaim,
  IdempotentAppendOutcome,
  IdempotentResponse,
  KeyRecord,
  LogFormat,
  NewOrg,
  NewReplayJob,
  OrgRecord,
  PruneOutcome,
  ReplayJob,
  ReplaySubmitOutcome,
  RevokeOutcome,
  Store,
  StoredEvent,
  StreamSlotClaim,
  TokenRecord,
  WebhookTarget,
  WebhookTargetChange,
  WebhookUpdate,
} from '../store.js'
import { StoreError } from '../store.js'
import type { PendingAppend } from './append-queue.js'
import { AppendQueue } from './append-queue.js'
import { EventAppender } from './appends.js'
import type { ConnectionOptions, NamedStatement, Queryable } from './connection.js'
import { Database } from './connection.js'
import { Notifications } from './notifications.js'
import { headSequenceIn, lockOrg } from './org-head.js'

export interface PostgresStoreOptions extends ConnectionOptions {
  /** Lost races before an append waits for its org's lock (default 3); 0 always locks (tests). */
  readonly optimisticAppendAttempts?: number
}

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url)
/** Serialises migrations of one schema across replicas starting together ("ka" + "mg"). */
const MIGRATION_LOCK = 0x6b616d67

const ORG_COLUMNS = 'id, name, created_at AS "createdAt"'
const TOKEN_COLUMNS = `id, org_id AS "orgId", name, role, secret_hash AS "secretHash", created_at AS "createdAt",
  expires_at AS "expiresAt", last_used_at AS "lastUsedAt", revoked_at AS "revokedAt"`
const KEY_COLUMNS = `kid, org_id AS "orgId", status, public_key AS "publicKey", private_key AS "privateKey",
  created_at AS "createdAt", retired_at AS "retiredAt"`
const EVENT_COLUMNS = 'sequence, type, event_ts_ms AS "eventTsMs", rt, line'
// $1 org, $2 after, $3 through, $4 ts >=, $5 ts <=, $6 type, $7 limit.
const EVENT_FILTER_WHERE = `org_id = $1 AND sequence > $2 AND sequence <= $3
  AND ($4::bigint IS NULL OR event_ts_ms >= $4) AND ($5::bigint IS NULL OR event_ts_ms <= $5)
  AND ($6::text IS NULL OR type = $6)`
// Every protected request reads its token and org: planned once per connection.
const FIND_ORG: NamedStatement = {
  name: 'konnect_audit_find_org',
  text: `SELECT ${ORG_COLUMNS} FROM orgs WHERE id = $1`,
}
const FIND_TOKEN_BY_HASH: NamedStatement = {
  name: 'konnect_audit_token_by_hash',
  text: `SELECT ${TOKEN_COLUMNS} FROM tokens WHERE secret_hash = $1`,
}
const IDEMPOTENT_RESPONSE_COLUMNS = 'request_hash AS "requestHash", response_status AS status, response_body AS body'
const DESTINATION_COLUMNS = `id, org_id AS "orgId", name, endpoint, authorization_header AS authorization,
  log_format AS "logFormat", skip_ssl_verification AS "skipSslVerification", created_at AS "createdAt",
  updated_at AS "updatedAt"`
// The webhook, its revision and its destination (if any) from one statement, so from one snapshot.
const SELECT_WEBHOOK = `SELECT w.org_id AS "orgId", w.mode, w.enabled, w.endpoint,
  w.authorization_header AS authorization, w.log_format AS "logFormat",
  w.skip_ssl_verification AS "skipSslVerification", w.updated_at AS "updatedAt",
  w.delivered_sequence AS "deliveredSequence", w.webhook_status AS status, w.last_attempt_at AS "lastAttemptAt",
  w.last_response_code AS "lastResponseCode", w.last_response_message AS "lastResponseMessage",
  w.last_success_at AS "lastSuccessAt", w.next_attempt_at AS "nextAttemptAt",
  w.consecutive_failures AS "consecutiveFailures", w.undelivered_pruned AS "undeliveredPruned",
  o.webhook_revision AS "configRevision",
  CASE WHEN d.id IS NULL THEN NULL ELSE json_build_object('id', d.id, 'orgId', d.org_id, 'name', d.name,
    'endpoint', d.endpoint, 'authorization', d.authorization_header, 'logFormat', d.log_format,
    'skipSslVerification', d.skip_ssl_verification, 'createdAt', d.created_at, 'updatedAt', d.updated_at) END
    AS destination
  FROM webhooks w JOIN orgs o ON o.id = w.org_id
  LEFT JOIN destinations d ON d.org_id = w.org_id AND d.id = w.destination_id
  WHERE w.org_id = $1`
const REPLAY_JOB_COLUMNS = `org_id AS "orgId", id, start_at AS "startAtMs", end_at AS "endAtMs", status,
  updated_at AS "updatedAt", through_sequence AS "throughSequence", total, sent, replayed_sequence AS "replayedSequence",
  batches_sent AS "batchesSent", error`
// $1 org, $2 after, $3 through, $4 start, $5 end.
const REPLAY_SELECTION_WHERE = `org_id = $1 AND sequence > $2 AND sequence <= $3
  AND event_ts_ms >= $4 AND event_ts_ms <= $5`
const RESET_DELIVERY_STATUS = "webhook_status = 'active', consecutive_failures = 0, next_attempt_at = NULL"
// $1 org, $2/$3 after (created_at, id), $4/$5 before, $6 name =, $7 name contains, $8 limit.
const LIST_DESTINATIONS_WHERE = `org_id = $1
  AND ($2::bigint IS NULL OR (created_at, id) > ($2::bigint, $3::text))
  AND ($4::bigint IS NULL OR (created_at, id) < ($4::bigint, $5::text))
  AND ($6::text IS NULL OR name = $6) AND ($7::text IS NULL OR strpos(lower(name), lower($7)) > 0)`

interface WebhookRow extends DeliveryColumns {
  readonly orgId: string
  readonly mode: 'inline' | 'destination'
  readonly enabled: boolean
  readonly endpoint: string | null
  readonly authorization: string | null
  readonly logFormat: LogFormat | null
  readonly skipSslVerification: boolean | null
  readonly updatedAt: number
  /** json_build_object output: its bigints arrive as JSON numbers. */
  readonly destination: DestinationRecord | null
}

/** Opens the store, creating the schema and applying migrations as needed. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const database = new Database(options)
  try {
    await migrate(database)
    const schema = await database.use((db) => db.row<{ schema: string }>('SELECT current_schema() AS schema'))
    const channel = `konnect_audit.${schema?.schema ?? 'public'}`
    return createPostgresStore(database, channel, options.optimisticAppendAttempts)
  } catch (error) {
    await database.close()
    throw error
  }
}

/**
 * Creates the schema if one was named, then applies each missing migration in its own transaction,
 * holding the schema's advisory lock throughout, so replicas starting together migrate it once.
 */
async function migrate(database: Database): Promise<void> {
  const migrations = readMigrations(MIGRATIONS_DIR)
  const lockKey = [MIGRATION_LOCK, database.schema]
  await database.withConnection(async (session) => {
    await session.rows('SELECT pg_advisory_lock($1, hashtext(coalesce($2, current_schema())))', lockKey)
    try {
      if (database.schema !== null) await session.rows(`CREATE SCHEMA IF NOT EXISTS ${database.schema}`)
      await session.rows(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL)',
      )
      const applied = await session.rows<{ version: number }>('SELECT version FROM schema_migrations')
      const versions = new Set(applied.map((row) => row.version))
      refuseNewerSchema(versions, migrations, database.label)
      for (const migration of migrations) {
        if (versions.has(migration.version)) continue
        await session.rows('BEGIN')
        try {
          await session.rows(migration.sql)
          const { version, name } = migration
          await session.rows('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [version, name])
          await session.rows('COMMIT')
        } catch (error) {
          await session.rows('ROLLBACK')
          throw error
        }
      }
    } finally {
      await session.rows('SELECT pg_advisory_unlock($1, hashtext(coalesce($2, current_schema())))', lockKey)
    }
  })
}

async function insertNewOrg(tx: Queryable, init: NewOrg): Promise<void> {
  const { org, key, adminToken } = init
  await tx.rows('INSERT INTO orgs (id, name, created_at) VALUES ($1, $2, $3)', [org.id, org.name, org.createdAt])
  await insertKey(tx, key)
  await insertToken(tx, adminToken)
}

async function insertKey(tx: Queryable, key: KeyRecord): Promise<void> {
  await tx.rows(
    `INSERT INTO signing_keys (kid, org_id, status, public_key, private_key, created_at, retired_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [key.kid, key.orgId, key.status, key.publicKey, key.privateKey, key.createdAt, key.retiredAt],
  )
}

async function insertToken(db: Queryable, token: TokenRecord): Promise<void> {
  await db.rows(
    `INSERT INTO tokens (id, org_id, name, role, secret_hash, created_at, expires_at, last_used_at, revoked_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      token.id,
      token.orgId,
      token.name,
      token.role,
      token.secretHash,
      token.createdAt,
      token.expiresAt,
      token.lastUsedAt,
      token.revokedAt,
    ],
  )
}

async function revokeIn(tx: Queryable, orgId: string, id: string, nowMs: number): Promise<RevokeOutcome> {
  await lockOrg(tx, orgId)
  const token = await tx.row<TokenRecord>(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE id = $1 AND org_id = $2`, [
    id,
    orgId,
  ])
  if (token === null) return 'not_found'
  if (token.revokedAt !== null) return 'already_revoked'
  if (isActiveAdmin(token, nowMs)) {
    const admins = await tx.row<{ count: number }>(
      `SELECT count(*) AS count FROM tokens WHERE org_id = $1 AND role = 'admin' AND revoked_at IS NULL
       AND (expires_at IS NULL OR expires_at > $2)`,
      [orgId, nowMs],
    )
    if (admins?.count === 1) return 'last_admin'
  }
  await tx.rows('UPDATE tokens SET revoked_at = $2 WHERE id = $1', [id, nowMs])
  return 'revoked'
}

async function appendOnceIn(
  tx: Queryable,
  appender: EventAppender,
  orgId: string,
  call: PendingAppend,
  claim: IdempotencyClaim,
): Promise<IdempotentAppendOutcome> {
  const { key, requestHash, expiredAtOrBeforeMs } = claim
  // The org's lock first, so two requests with one key never both find it missing.
  const head = await lockOrg(tx, orgId)
  const earlier = await findIdempotentResponseIn(tx, orgId, key, expiredAtOrBeforeMs)
  if (earlier !== null) return { outcome: 'exists', response: earlier }
  const [outcome] = await appender.appendLocked(tx, orgId, head, [call])
  if (outcome === undefined || outcome instanceof Error) throw outcome ?? new Error('no outcome')
  const events = outcome
  const response: IdempotentResponse = { requestHash, status: claim.responseStatus, body: claim.renderResponse(events) }
  // Reached only when no unexpired record exists, so a conflict replaces an expired one.
  await tx.rows(
    `INSERT INTO idempotency_keys (org_id, idempotency_key, request_hash, created_at, response_status, response_body)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (org_id, idempotency_key) DO UPDATE SET request_hash = excluded.request_hash,
       created_at = excluded.created_at, response_status = excluded.response_status,
       response_body = excluded.response_body`,
    [orgId, key, requestHash, call.nowMs, response.status, response.body],
  )
  return { outcome: 'committed', events, response }
}

function findIdempotentResponseIn(
  db: Queryable,
  orgId: string,
  key: string,
  expiredAtOrBeforeMs: number,
): Promise<IdempotentResponse | null> {
  return db.row<IdempotentResponse>(
    `SELECT ${IDEMPOTENT_RESPONSE_COLUMNS} FROM idempotency_keys
     WHERE org_id = $1 AND idempotency_key = $2 AND created_at > $3`,
    [orgId, key, expiredAtOrBeforeMs],
  )
}

async function readEventsIn(db: Queryable, query: EventQuery): Promise<StoredEvent[]> {
  const backward = query.beforeSequence !== undefined
  const values = [
    query.orgId,
    query.afterSequence,
    readThroughSequence(query),
    query.tsGte ?? null,
    query.tsLte ?? null,
    query.type ?? null,
    query.limit,
  ]
  const order = backward ? 'DESC' : 'ASC'
  const events = await db.rows<StoredEvent>(
    `SELECT ${EVENT_COLUMNS} FROM events WHERE ${EVENT_FILTER_WHERE} ORDER BY sequence ${order} LIMIT $7`,
    values,
  )
  return backward ? events.reverse() : events
}

async function pruneIn(tx: Queryable, orgId: string, rtBeforeMs: number, maxEvents: number): Promise<PruneOutcome> {
  // rt never decreases along sequences, so the oldest events committed before the time are a prefix.
  const prefix = await tx.row<{ through: number | null }>(
    `SELECT max(sequence) AS through FROM
       (SELECT sequence, rt FROM events WHERE org_id = $1 ORDER BY sequence LIMIT $2) AS oldest
     WHERE rt < $3`,
    [orgId, maxEvents, rtBeforeMs],
  )
  const throughSequence = prefix?.through ?? 0
  if (throughSequence === 0) return { deletedEvents: 0, throughSequence: 0, undeliveredPruned: 0 }
  const deletedEvents = await tx.changes('DELETE FROM events WHERE org_id = $1 AND sequence <= $2', [
    orgId,
    throughSequence,
  ])
  const webhook = await tx.row<{ deliveredSequence: number }>(
    'SELECT delivered_sequence AS "deliveredSequence" FROM webhooks WHERE org_id = $1 FOR UPDATE',
    [orgId],
  )
  const undeliveredPruned = webhook === null ? 0 : Math.max(0, throughSequence - webhook.deliveredSequence)
  // Pruned events cannot be delivered: count them and start delivery at the first retained one.
  if (undeliveredPruned > 0) {
    await tx.rows(
      'UPDATE webhooks SET undelivered_pruned = undelivered_pruned + $2, delivered_sequence = $3 WHERE org_id = $1',
      [orgId, undeliveredPruned, throughSequence],
    )
  }
  return { deletedEvents, throughSequence, undeliveredPruned }
}

function destinationIn(db: Queryable, orgId: string, id: string): Promise<DestinationRecord | null> {
  return db.row<DestinationRecord>(`SELECT ${DESTINATION_COLUMNS} FROM destinations WHERE id = $1 AND org_id = $2`, [
    id,
    orgId,
  ])
}

async function insertDestinationIn(
  tx: Queryable,
  destination: DestinationRecord,
  maxPerOrg: number,
): Promise<DestinationInsertOutcome> {
  await lockOrg(tx, destination.orgId)
  const stored = await tx.row<{ count: number }>('SELECT count(*) AS count FROM destinations WHERE org_id = $1', [
    destination.orgId,
  ])
  if ((stored?.count ?? 0) >= maxPerOrg) return 'limit_reached'
  await tx.rows(
    `INSERT INTO destinations (id, org_id, name, endpoint, authorization_header, log_format, skip_ssl_verification,
       created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    destinationValues(destination),
  )
  return 'inserted'
}

function destinationValues(d: DestinationRecord): unknown[] {
  return [
    d.id,
    d.orgId,
    d.name,
    d.endpoint,
    d.authorization,
    d.logFormat,
    d.skipSslVerification,
    d.createdAt,
    d.updatedAt,
  ]
}

async function recordStreamsIn(tx: Queryable, orgId: string, holder: string, openStreams: number, leaseUntil: number) {
  await tx.rows(
    `INSERT INTO stream_slots (org_id, holder, open_streams, lease_until) VALUES ($1, $2, $3, $4)
     ON CONFLICT (org_id, holder) DO UPDATE SET open_streams = excluded.open_streams, lease_until = excluded.lease_until`,
    [orgId, holder, openStreams, leaseUntil],
  )
}

/** Counts the org's streams on every replica under a per-org transaction lock, so two replicas never both take the last slot. */
async function claimStreamSlotIn(tx: Queryable, claim: StreamSlotClaim): Promise<boolean> {
  const { orgId, holder, openHere, maxPerOrg, nowMs, leaseMs } = claim
  await tx.rows("SELECT pg_advisory_xact_lock(hashtext('konnect_audit.stream_slots'), hashtext($1))", [orgId])
  const others = await tx.row<{ open: number }>(
    `SELECT coalesce(sum(open_streams), 0)::bigint AS open FROM stream_slots
     WHERE org_id = $1 AND holder <> $2 AND lease_until > $3`,
    [orgId, holder, nowMs],
  )
  if ((others?.open ?? 0) + openHere >= maxPerOrg) return false
  await recordStreamsIn(tx, orgId, holder, openHere + 1, nowMs + leaseMs)
  return true
}

async function listDestinationsIn(db: Queryable, query: DestinationQuery): Promise<DestinationRecord[]> {
  const backward = query.before !== undefined
  const values = [
    query.orgId,
    query.after?.createdAt ?? null,
    query.after?.id ?? null,
    query.before?.createdAt ?? null,
    query.before?.id ?? null,
    query.nameEquals ?? null,
    query.nameContains ?? null,
    query.limit,
  ]
  const order = backward ? 'created_at DESC, id DESC' : 'created_at, id'
  const rows = await db.rows<DestinationRecord>(
    `SELECT ${DESTINATION_COLUMNS} FROM destinations WHERE ${LIST_DESTINATIONS_WHERE} ORDER BY ${order} LIMIT $8`,
    values,
  )
  return backward ? rows.reverse() : rows
}

async function updateDestinationIn(
  tx: Queryable,
  notifications: Notifications,
  orgId: string,
  id: string,
  change: DestinationChange,
  nowMs: number,
): Promise<DestinationRecord | null> {
  await lockOrg(tx, orgId)
  const current = await destinationIn(tx, orgId, id)
  if (current === null || Object.keys(change).length === 0) return current
  const updated: DestinationRecord = { ...current, ...change, updatedAt: nowMs }
  await tx.rows(
    `UPDATE destinations SET name = $3, endpoint = $4, authorization_header = $5, log_format = $6,
       skip_ssl_verification = $7, updated_at = $8
     WHERE id = $1 AND org_id = $2`,
    [
      id,
      orgId,
      updated.name,
      updated.endpoint,
      updated.authorization,
      updated.logFormat,
      updated.skipSslVerification,
      nowMs,
    ],
  )
  if (changesDelivery(change)) {
    const reset = await tx.changes(
      `UPDATE webhooks SET ${RESET_DELIVERY_STATUS} WHERE org_id = $1 AND destination_id = $2`,
      [orgId, id],
    )
    if (reset > 0) await bumpWebhookRevision(tx, orgId)
  }
  await notifications.send(tx, { kind: 'webhook', orgId })
  return updated
}

async function deleteDestinationIn(tx: Queryable, orgId: string, id: string): Promise<DestinationDeleteOutcome> {
  await lockOrg(tx, orgId)
  if ((await destinationIn(tx, orgId, id)) === null) return 'not_found'
  const referenced = await tx.row('SELECT 1 FROM webhooks WHERE org_id = $1 AND destination_id = $2', [orgId, id])
  if (referenced !== null) return 'in_use'
  await tx.rows('DELETE FROM destinations WHERE id = $1 AND org_id = $2', [id, orgId])
  return 'deleted'
}

function bumpWebhookRevision(tx: Queryable, orgId: string): Promise<unknown> {
  return tx.rows('UPDATE orgs SET webhook_revision = webhook_revision + 1 WHERE id = $1', [orgId])
}

function targetOf(row: WebhookRow): WebhookTarget {
  if (row.mode === 'destination') {
    if (row.destination === null) throw inconsistentWebhook(row.orgId)
    return { mode: 'destination', destination: row.destination }
  }
  const { endpoint, authorization, logFormat, skipSslVerification } = row
  if (endpoint === null || logFormat === null || skipSslVerification === null) throw inconsistentWebhook(row.orgId)
  return { mode: 'inline', settings: { endpoint, authorization, logFormat, skipSslVerification } }
}

async function getWebhookIn(db: Queryable, orgId: string): Promise<ConfiguredWebhook | null> {
  const row = await db.row<WebhookRow>(SELECT_WEBHOOK, [orgId])
  if (row === null) return null
  return { orgId, target: targetOf(row), enabled: row.enabled, updatedAt: row.updatedAt, delivery: deliveryOf(row) }
}

/** The target columns of a change: mode, endpoint, authorization, format, TLS flag, destination. */
function targetValues(target: WebhookTargetChange): unknown[] {
  if (target.mode === 'destination') return ['destination', null, null, null, null, target.destinationId]
  const { endpoint, authorization, logFormat, skipSslVerification } = target.settings
  return ['inline', endpoint, authorization, logFormat, skipSslVerification, null]
}

/** Decides and writes under the org's lock, so `decide` always sees the committed state. */
async function updateWebhookIn(
  tx: Queryable,
  notifications: Notifications,
  orgId: string,
  nowMs: number,
  decide: DecideWebhookChange,
): Promise<WebhookUpdate> {
  const head = await lockOrg(tx, orgId)
  const current = await getWebhookIn(tx, orgId)
  const change = decide(current)
  if (change === null) return { outcome: 'updated', webhook: current }
  const { target, enabled } = change
  if (target?.mode === 'destination' && (await destinationIn(tx, orgId, target.destinationId)) === null) {
    return { outcome: 'unknown_destination' }
  }
  if (current === null) {
    if (target === undefined) throw new RangeError(`The webhook of org ${orgId} is unconfigured; configure a target`)
    // The first configuration starts at the head: history is only sent by a replay (SPEC.md §6.4).
    await tx.rows(
      `INSERT INTO webhooks (org_id, mode, endpoint, authorization_header, log_format, skip_ssl_verification,
         destination_id, enabled, updated_at, delivered_sequence, webhook_status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'active')`,
      [orgId, ...targetValues(target), enabled === true, nowMs, head.lastSequence],
    )
    await bumpWebhookRevision(tx, orgId)
  } else {
    if (target !== undefined) {
      await tx.rows(
        `UPDATE webhooks SET mode = $2, endpoint = $3, authorization_header = $4, log_format = $5,
           skip_ssl_verification = $6, destination_id = $7, updated_at = $8, ${RESET_DELIVERY_STATUS}
         WHERE org_id = $1`,
        [orgId, ...targetValues(target), nowMs],
      )
      await bumpWebhookRevision(tx, orgId)
    }
    if (enabled !== undefined) {
      await tx.rows('UPDATE webhooks SET enabled = $2, updated_at = $3 WHERE org_id = $1', [orgId, enabled, nowMs])
    }
  }
  await notifications.send(tx, { kind: 'webhook', orgId })
  return { outcome: 'updated', webhook: await getWebhookIn(tx, orgId) }
}

function findReplayJobIn(db: Queryable, orgId: string, lock = ''): Promise<ReplayJob | null> {
  return db.row<ReplayJob>(`SELECT ${REPLAY_JOB_COLUMNS} FROM replay_jobs WHERE org_id = $1 ${lock}`, [orgId])
}

async function submitReplayJobIn(
  tx: Queryable,
  notifications: Notifications,
  job: NewReplayJob,
  nowMs: number,
): Promise<ReplaySubmitOutcome> {
  await lockOrg(tx, job.orgId)
  const webhook = await tx.row<{ enabled: boolean }>('SELECT enabled FROM webhooks WHERE org_id = $1', [job.orgId])
  const refusal = replaySubmitRefusal(webhook?.enabled === true, await findReplayJobIn(tx, job.orgId))
  if (refusal !== null) return refusal
  // Reached only when the org has no active job: a new job replaces an ended one whole.
  const stored = await tx.row<ReplayJob>(
    `INSERT INTO replay_jobs (org_id, id, start_at, end_at, status, updated_at)
     VALUES ($1, $2, $3, $4, 'accepted', $5)
     ON CONFLICT (org_id) DO UPDATE SET id = excluded.id, start_at = excluded.start_at, end_at = excluded.end_at,
       status = 'accepted', updated_at = excluded.updated_at, through_sequence = NULL, total = 0, sent = 0,
       replayed_sequence = 0, batches_sent = 0, error = NULL
     RETURNING ${REPLAY_JOB_COLUMNS}`,
    [job.orgId, job.id, job.startAtMs, job.endAtMs, nowMs],
  )
  if (stored === null) throw new Error(`The replay job of org ${job.orgId} was not stored`)
  await notifications.send(tx, { kind: 'replay', orgId: job.orgId })
  return { outcome: 'accepted', job: stored }
}

/** Fixes the selection at the head of this moment: later events are not selected. */
async function startReplayJobIn(tx: Queryable, orgId: string, id: string, nowMs: number): Promise<ReplayJob | null> {
  const job = await findReplayJobIn(tx, orgId, 'FOR UPDATE')
  if (job === null || job.id !== id || job.status !== 'pending') return null
  const throughSequence = await headSequenceIn(tx, orgId)
  const total = await countReplaySelectionIn(tx, orgId, 0, throughSequence, job.startAtMs, job.endAtMs)
  return tx.row<ReplayJob>(
    `UPDATE replay_jobs SET status = 'running', updated_at = $3, through_sequence = $4, total = $5
     WHERE org_id = $1 AND id = $2 RETURNING ${REPLAY_JOB_COLUMNS}`,
    [orgId, id, nowMs, throughSequence, total],
  )
}

async function countReplaySelectionIn(
  db: Queryable,
  orgId: string,
  afterSequence: number,
  throughSequence: number,
  startAtMs: number,
  endAtMs: number,
): Promise<number> {
  const counted = await db.row<{ count: number }>(
    `SELECT count(*) AS count FROM events WHERE ${REPLAY_SELECTION_WHERE}`,
    [orgId, afterSequence, throughSequence, startAtMs, endAtMs],
  )
  return counted?.count ?? 0
}

function createPostgresStore(database: Database, channel: string, optimisticAppendAttempts?: number): Store {
  const notifications = new Notifications(database, channel, randomUUID())
  const use = <T>(fn: (db: Queryable) => Promise<T>): Promise<T> => {
    notifications.ensureListening()
    return database.use(fn)
  }
  const transaction = <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> => {
    notifications.ensureListening()
    return database.transaction(fn)
  }
  const appender = new EventAppender(database, notifications, optimisticAppendAttempts)
  const appends = new AppendQueue((orgId, calls) => {
    notifications.ensureListening()
    return appender.append(orgId, calls)
  })
  /** Tells this process's listeners after the commit; other replicas hear the NOTIFY. */
  const announcing = async <T>(
    listeners: ReadonlySet<(orgId: string) => void>,
    orgId: string,
    write: Promise<T>,
  ): Promise<T> => {
    const result = await write
    for (const listener of listeners) listener(orgId)
    return result
  }
  const subscribe = <L>(listeners: Set<L>, listener: L): (() => void) => {
    listeners.add(listener)
    notifications.ensureListening()
    return () => listeners.delete(listener)
  }

  return {
    kind: 'postgres',
    bootstrap: (init) =>
      transaction(async (tx) => {
        // Replicas starting together on an empty database: exactly one creates the first org.
        await tx.rows('LOCK TABLE orgs IN SHARE ROW EXCLUSIVE MODE')
        if ((await tx.row('SELECT 1 FROM orgs LIMIT 1')) !== null) return false
        await insertNewOrg(tx, init)
        return true
      }),
    createOrg: (init) => transaction((tx) => insertNewOrg(tx, init)),
    listOrgs: () => use((db) => db.rows<OrgRecord>(`SELECT ${ORG_COLUMNS} FROM orgs ORDER BY created_at, id`)),
    findOrg: (id) => use((db) => db.row<OrgRecord>(FIND_ORG, [id])),
    findOrgByName: (name) => use((db) => db.row<OrgRecord>(`SELECT ${ORG_COLUMNS} FROM orgs WHERE name = $1`, [name])),

    insertToken: (token) => use((db) => insertToken(db, token)),
    findTokenByHash: (secretHash) => use((db) => db.row<TokenRecord>(FIND_TOKEN_BY_HASH, [secretHash])),
    // An unknown cursor id compares with NULL, so it yields an empty page rather than the first one.
    listTokens: (query) =>
      use(async (db) => {
        const backward = query.before !== undefined
        // A cursor id the org does not have compares with NULL: an empty page, never the first.
        const rows = await db.rows<TokenRecord>(
          `SELECT ${TOKEN_COLUMNS} FROM tokens
           WHERE org_id = $1
             AND ($2::text IS NULL
               OR (created_at, id) > (SELECT created_at, id FROM tokens WHERE id = $2 AND org_id = $1))
             AND ($3::text IS NULL
               OR (created_at, id) < (SELECT created_at, id FROM tokens WHERE id = $3 AND org_id = $1))
           ORDER BY ${backward ? 'created_at DESC, id DESC' : 'created_at, id'} LIMIT $4`,
          [query.orgId, query.after ?? null, query.before ?? null, query.limit],
        )
        return backward ? rows.reverse() : rows
      }),
    countUnrevokedTokens: (orgId) =>
      use(async (db) => {
        const counted = await db.row<{ count: number }>(
          'SELECT count(*) AS count FROM tokens WHERE org_id = $1 AND revoked_at IS NULL',
          [orgId],
        )
        return counted?.count ?? 0
      }),
    revokeToken: (orgId, id, nowMs) => transaction((tx) => revokeIn(tx, orgId, id, nowMs)),
    // Concurrent requests may touch out of order; last_used_at keeps the latest time.
    touchToken: (id, nowMs) =>
      use(async (db) => {
        await db.rows('UPDATE tokens SET last_used_at = greatest(coalesce(last_used_at, $2), $2) WHERE id = $1', [
          id,
          nowMs,
        ])
      }),

    activeKey: (orgId) =>
      use(async (db) => {
        const key = await db.row<KeyRecord>(
          `SELECT ${KEY_COLUMNS} FROM signing_keys WHERE org_id = $1 AND status = 'active'`,
          [orgId],
        )
        if (key === null) throw new StoreError('not_found', `Org ${orgId} has no active signing key`)
        return key
      }),
    listKeys: (orgId) =>
      use((db) =>
        db.rows<KeyRecord>(
          `SELECT ${KEY_COLUMNS} FROM signing_keys WHERE org_id = $1
           ORDER BY status = 'active' DESC, created_at DESC, kid DESC`,
          [orgId],
        ),
      ),
    rotateKey: (orgId, key, nowMs) =>
      transaction(async (tx) => {
        if (key.orgId !== orgId) throw new RangeError(`Key ${key.kid} belongs to org ${key.orgId}, not ${orgId}`)
        await lockOrg(tx, orgId)
        await tx.rows(
          `UPDATE signing_keys SET status = 'retired', retired_at = $2 WHERE org_id = $1 AND status = 'active'`,
          [orgId, nowMs],
        )
        await insertKey(tx, { ...key, status: 'active', retiredAt: null })
        await notifications.send(tx, { kind: 'keys', orgId })
      }),

    appendEvents: (orgId, nowMs, drafts) => appends.append(orgId, nowMs, drafts),
    readEvents: (query) => use((db) => readEventsIn(db, query)),
    headSequence: (orgId) => use((db) => headSequenceIn(db, orgId)),
    // The floor of event_ts to its bucket; the double modulo keeps it a floor before 1970.
    countEvents: (query: EventCountQuery) =>
      use((db) =>
        db.rows<BucketCount>(
          `SELECT event_ts_ms - mod(mod(event_ts_ms, $5) + $5, $5) AS "startMs", count(*) AS count FROM events
           WHERE org_id = $1 AND event_ts_ms >= $2 AND event_ts_ms <= $3 AND ($4::text IS NULL OR type = $4)
           GROUP BY 1 ORDER BY 1`,
          [query.orgId, query.tsGte, query.tsLte, query.type ?? null, query.bucketMs],
        ),
      ),

    findIdempotentResponse: (orgId, key, expiredAtOrBeforeMs) =>
      use((db) => findIdempotentResponseIn(db, orgId, key, expiredAtOrBeforeMs)),
    appendEventsOnce: (orgId, nowMs, drafts, claim) =>
      transaction((tx) => appendOnceIn(tx, appender, orgId, { nowMs, drafts }, claim)),
    // SKIP LOCKED: replicas pruning at once each take other keys instead of waiting.
    pruneIdempotencyKeys: (expiredAtOrBeforeMs, maxKeys) =>
      use((db) =>
        db.changes(
          `DELETE FROM idempotency_keys WHERE (org_id, idempotency_key) IN
             (SELECT org_id, idempotency_key FROM idempotency_keys WHERE created_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
          [expiredAtOrBeforeMs, maxKeys],
        ),
      ),
    pruneEvents: (orgId, rtBeforeMs, maxEvents) => transaction((tx) => pruneIn(tx, orgId, rtBeforeMs, maxEvents)),

    getWebhook: (orgId) => use((db) => getWebhookIn(db, orgId)),
    updateWebhook: (orgId, nowMs, decide) =>
      announcing(
        notifications.webhookChanges,
        orgId,
        transaction((tx) => updateWebhookIn(tx, notifications, orgId, nowMs, decide)),
      ),
    deleteWebhook: (orgId) =>
      announcing(
        notifications.webhookChanges,
        orgId,
        transaction(async (tx) => {
          await lockOrg(tx, orgId)
          if ((await tx.changes('DELETE FROM webhooks WHERE org_id = $1', [orgId])) === 0) return
          await bumpWebhookRevision(tx, orgId)
          await notifications.send(tx, { kind: 'webhook', orgId })
        }),
      ),
    // greatest(): pruning may have moved the cursor past the batch while it was in flight.
    recordDeliverySuccess: (orgId, throughSequence, attempt) =>
      use(async (db) => {
        await db.rows(
          `UPDATE webhooks SET delivered_sequence = greatest(delivered_sequence, $2), webhook_status = 'active',
             consecutive_failures = 0, next_attempt_at = NULL, last_attempt_at = $3, last_response_code = $4,
             last_response_message = $5, last_success_at = $3
           WHERE org_id = $1`,
          [orgId, throughSequence, attempt.atMs, attempt.responseCode, attempt.responseMessage],
        )
      }),
    recordDeliveryFailure: (orgId, failure) =>
      use(async (db) => {
        const { attempt, configRevision, status, nextAttemptAtMs } = failure
        const changed = await db.changes(
          `UPDATE webhooks SET webhook_status = $3, consecutive_failures = consecutive_failures + 1,
             next_attempt_at = $4, last_attempt_at = $5, last_response_code = $6, last_response_message = $7
           WHERE org_id = $1 AND (SELECT webhook_revision FROM orgs WHERE id = $1) = $2`,
          [orgId, configRevision, status, nextAttemptAtMs, attempt.atMs, attempt.responseCode, attempt.responseMessage],
        )
        return changed > 0
      }),
    onWebhookChange: (listener) => subscribe(notifications.webhookChanges, listener),

    getReplayJob: (orgId) => use((db) => findReplayJobIn(db, orgId)),
    submitReplayJob: async (job, nowMs) => {
      const submitted = await transaction((tx) => submitReplayJobIn(tx, notifications, job, nowMs))
      if (submitted.outcome === 'accepted') for (const listener of notifications.replaySubmissions) listener(job.orgId)
      return submitted
    },
    queueReplayJob: (orgId, id, nowMs) =>
      use((db) =>
        db.row<ReplayJob>(
          `UPDATE replay_jobs SET status = 'pending', updated_at = $3
           WHERE org_id = $1 AND id = $2 AND status = 'accepted' RETURNING ${REPLAY_JOB_COLUMNS}`,
          [orgId, id, nowMs],
        ),
      ),
    startReplayJob: (orgId, id, nowMs) => transaction((tx) => startReplayJobIn(tx, orgId, id, nowMs)),
    recordReplayProgress: (orgId, id, batch, nowMs) =>
      use(async (db) => {
        const changed = await db.changes(
          `UPDATE replay_jobs SET replayed_sequence = greatest(replayed_sequence, $3), sent = sent + $4,
             batches_sent = batches_sent + 1, updated_at = $5
           WHERE org_id = $1 AND id = $2 AND status = 'running'`,
          [orgId, id, batch.throughSequence, batch.events, nowMs],
        )
        return changed > 0
      }),
    finishReplayJob: (orgId, id, end, nowMs) =>
      use(async (db) => {
        const changed =
          end.status === 'completed'
            ? await db.changes(
                `UPDATE replay_jobs SET status = 'completed', updated_at = $3
                 WHERE org_id = $1 AND id = $2 AND status = 'running'`,
                [orgId, id, nowMs],
              )
            : await db.changes(
                `UPDATE replay_jobs SET status = 'failed', error = $4, updated_at = $3
                 WHERE org_id = $1 AND id = $2 AND status IN ('accepted', 'pending', 'running')`,
                [orgId, id, nowMs, end.error],
              )
        return changed > 0
      }),
    countReplaySelection: (selection) =>
      use((db) =>
        countReplaySelectionIn(
          db,
          selection.orgId,
          selection.afterSequence,
          selection.throughSequence,
          selection.startAtMs,
          selection.endAtMs,
        ),
      ),
    onReplayJobSubmitted: (listener) => subscribe(notifications.replaySubmissions, listener),
    onEventsCommittedElsewhere: (listener) => subscribe(notifications.events, listener),
    onKeysRotatedElsewhere: (listener) => subscribe(notifications.keyRotations, listener),

    // The row is made once (expired); then a claim updates it only if free, lapsed or already
    // ours, skipping a row another replica is claiming this very moment instead of waiting for it.
    claimLease: ({ orgId, work, holder, nowMs, leaseMs }) =>
      use(async (db) => {
        await db.rows(
          `INSERT INTO work_leases (org_id, work, holder, lease_until) VALUES ($1, $2, '', 0)
           ON CONFLICT (org_id, work) DO NOTHING`,
          [orgId, work],
        )
        const claimed = await db.changes(
          `WITH claimable AS (
             SELECT org_id, work FROM work_leases
             WHERE org_id = $1 AND work = $2 AND (holder = $3 OR lease_until <= $4)
             FOR UPDATE SKIP LOCKED)
           UPDATE work_leases AS lease SET holder = $3, lease_until = $5
           FROM claimable WHERE lease.org_id = claimable.org_id AND lease.work = claimable.work`,
          [orgId, work, holder, nowMs, nowMs + leaseMs],
        )
        return claimed > 0
      }),
    claimStreamSlot: (claim) => transaction((tx) => claimStreamSlotIn(tx, claim)),
    recordStreamCounts: (holder, counts, nowMs, leaseMs) =>
      transaction(async (tx) => {
        for (const [orgId, openStreams] of counts)
          await recordStreamsIn(tx, orgId, holder, openStreams, nowMs + leaseMs)
      }),
    releaseLease: (orgId, work, holder) =>
      use(async (db) => {
        await db.rows('UPDATE work_leases SET lease_until = 0 WHERE org_id = $1 AND work = $2 AND holder = $3', [
          orgId,
          work,
          holder,
        ])
      }),

    insertDestination: (destination, maxPerOrg) => transaction((tx) => insertDestinationIn(tx, destination, maxPerOrg)),
    findDestination: (orgId, id) => use((db) => destinationIn(db, orgId, id)),
    listDestinations: (query) => use((db) => listDestinationsIn(db, query)),
    updateDestination: (orgId, id, change, nowMs) =>
      announcing(
        notifications.webhookChanges,
        orgId,
        transaction((tx) => updateDestinationIn(tx, notifications, orgId, id, change, nowMs)),
      ),
    deleteDestination: (orgId, id) => transaction((tx) => deleteDestinationIn(tx, orgId, id)),

    // Reads a table rather than SELECT 1, so a missing or half-migrated schema shows up here.
    ping: () =>
      use(async (db) => {
        await db.rows('SELECT 1 FROM work_leases LIMIT 1')
      }),
    close: async () => {
      await appends.drain()
      await notifications.close()
      await database.close()
    },
  }
}
