// Owns the SQLite adapter of the store (DESIGN.md §7): one better-sqlite3 connection in WAL mode with
// synchronous=FULL, numbered forward-only migrations, and driver errors mapped to StoreError.
// Every multi-statement write is one BEGIN IMMEDIATE transaction: SQLite's single writer is the org lock.

import { chmodSync, closeSync, openSync } from 'node:fs'
import Database from 'better-sqlite3'
import type { Migration } from '../migrations.js'
import { readMigrations, refuseNewerSchema } from '../migrations.js'
import type { DeliveryColumns } from '../records.js'
import {
  changesDelivery,
  deliveryOf,
  inconsistentWebhook,
  isActiveAdmin,
  orgNotFound,
  readThroughSequence,
  replaySubmitRefusal,
} from '../records.js'
import type {
  BucketCount,
  CommittedEvent,
  ConfiguredWebhook,
  DecideWebhookChange,
  DeliveryAttempt,
  DeliveryFailure,
  DestinationChange,
  DestinationDeleteOutcome,
  DestinationInsertOutcome,
  DestinationQuery,
  DestinationRecord,
  EndpointSettings,
  EventCountQuery,
  EventDraft,
  EventQuery,
  IdempotencyClaim,
  IdempotentAppendOutcome,
  IdempotentResponse,
  KeyRecord,
  LeaseClaim,
  LeasedWork,
  LogFormat,
  NewOrg,
  NewReplayJob,
  OrgRecord,
  PruneOutcome,
  ReplayJob,
  ReplayJobEnd,
  ReplayJobListener,
  ReplaySelection,
  ReplaySubmitOutcome,
  RevokeOutcome,
  Store,
  StoredEvent,
  StreamSlotClaim,
  TokenRecord,
  WebhookChangeListener,
  WebhookStatus,
  WebhookTarget,
  WebhookTargetChange,
  WebhookUpdate,
} from '../store.js'
import { StoreError } from '../store.js'
import { GroupCommit } from './group-commit.js'

export interface SqliteStoreOptions {
  /** The database file; its directory must already exist. */
  readonly path: string
  /** How long a statement waits for another connection's lock before failing as unavailable. */
  readonly busyTimeoutMs?: number
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000
const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url)

/** Opens the store, creating and migrating the database file as needed. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  return createSqliteStore(openSqliteDatabase(options), options.path)
}

/** Opens one connection with the store's pragmas and brings its schema up to date. */
export function openSqliteDatabase(options: SqliteStoreOptions): Database.Database {
  const db = connect(options.path, options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS)
  try {
    mapDriverErrors(options.path, () => {
      db.pragma('journal_mode = WAL')
      // NORMAL can lose acknowledged writes on power loss; FULL syncs the WAL on every commit.
      db.pragma('synchronous = FULL')
      db.pragma('foreign_keys = ON')
      migrate(db, options.path)
    })
  } catch (error) {
    db.close()
    throw error
  }
  return db
}

/**
 * Keeps the database file, and so its -wal and -shm files (SQLite gives them the database file's
 * mode), readable by the owner alone (SPEC.md §4.7: files 0600), also for files made before.
 */
function restrictToOwner(path: string): void {
  closeSync(openSync(path, 'a', 0o600))
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      chmodSync(file, 0o600)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
  }
}

/** A missing directory fails the file's creation, or better-sqlite3 (TypeError) or SQLite (SQLITE_CANTOPEN). */
function connect(path: string, busyTimeoutMs: number): Database.Database {
  try {
    restrictToOwner(path)
    return new Database(path, { timeout: busyTimeoutMs })
  } catch (error) {
    // A file system error (it has a syscall) or a driver's: anything else is a bug.
    const openFailed = 'syscall' in Object(error) || error instanceof TypeError || error instanceof Database.SqliteError
    if (!(error instanceof Error && openFailed)) throw error
    throw new StoreError(
      'unavailable',
      `Cannot open the SQLite database ${path} (${error.message}). Check that its directory exists and is writable.`,
    )
  }
}

/** Applies each missing migration in its own transaction, re-checked under the write lock. */
function migrate(db: Database.Database, path: string): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL) STRICT')
  const appliedVersions = db.prepare<[], number>('SELECT version FROM schema_migrations').pluck()
  const isApplied = db.prepare<[number], number>('SELECT 1 FROM schema_migrations WHERE version = ?').pluck()
  const record = db.prepare<[number, string]>('INSERT INTO schema_migrations (version, name) VALUES (?, ?)')
  const migrations = readMigrations(MIGRATIONS_DIR)
  const applied = new Set(appliedVersions.all())
  refuseNewerSchema(applied, migrations, `The SQLite database ${path}`)
  const apply = db.transaction((migration: Migration) => {
    if (isApplied.get(migration.version) !== undefined) return
    db.exec(migration.sql)
    record.run(migration.version, migration.name)
  })
  for (const migration of migrations) {
    if (!applied.has(migration.version)) apply.immediate(migration)
  }
}

const UNAVAILABLE_CODES = [
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_IOERR',
  'SQLITE_FULL',
  'SQLITE_CANTOPEN',
  'SQLITE_READONLY',
  'SQLITE_PERM',
  'SQLITE_CORRUPT',
  'SQLITE_NOTADB',
  'SQLITE_PROTOCOL',
  'SQLITE_NOMEM',
]

/** Runs `fn`, turning driver errors into StoreError; anything else (a bug, a render error) passes. */
function mapDriverErrors<T>(path: string, fn: () => T): T {
  try {
    return fn()
  } catch (error) {
    throw storeErrorOf(error, path)
  }
}

function storeErrorOf(error: unknown, path: string): unknown {
  if (!(error instanceof Database.SqliteError)) return error
  const { code, message } = error
  // Foreign keys reference orgs, except the webhook's destination, which is checked before every
  // write that could break it; so a failed one means the org does not exist.
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return new StoreError('not_found', `Unknown org (${message})`)
  if (code.startsWith('SQLITE_CONSTRAINT')) return new StoreError('conflict', `Conflicts with stored data: ${message}`)
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreError(
      'unavailable',
      `The SQLite database ${path} is locked by another process (${message}). Retry, and check that no other tool holds a long write transaction.`,
    )
  }
  if (UNAVAILABLE_CODES.some((prefix) => code.startsWith(prefix))) {
    return new StoreError(
      'unavailable',
      `The SQLite database ${path} cannot be used (${code}: ${message}). Check the data directory's disk space and permissions.`,
    )
  }
  return error
}

interface OrgHead {
  readonly lastSequence: number
  readonly lastRt: number
}

interface EventRow {
  readonly orgId: string
  readonly sequence: number
  readonly type: string
  readonly eventTsMs: number
  readonly rt: number
  readonly traceId: string
  readonly line: Buffer
}

interface EventFilter {
  readonly orgId: string
  readonly afterSequence: number
  readonly throughSequence: number
  readonly tsGte: number | null
  readonly tsLte: number | null
  readonly type: string | null
  readonly limit: number
}

interface CountFilter {
  readonly orgId: string
  readonly tsGte: number
  readonly tsLte: number
  readonly type: string | null
  readonly bucketMs: number
}

interface SequenceRt {
  readonly sequence: number
  readonly rt: number
}

interface IdempotencyKeyRow extends IdempotentResponse {
  readonly orgId: string
  readonly key: string
  readonly createdAt: number
}

const ORG_COLUMNS = 'id, name, created_at AS createdAt'
const TOKEN_COLUMNS = `id, org_id AS orgId, name, role, secret_hash AS secretHash, created_at AS createdAt,
  expires_at AS expiresAt, last_used_at AS lastUsedAt, revoked_at AS revokedAt`
const KEY_COLUMNS = `kid, org_id AS orgId, status, public_key AS publicKey, private_key AS privateKey,
  created_at AS createdAt, retired_at AS retiredAt`
const EVENT_COLUMNS = 'sequence, type, event_ts_ms AS eventTsMs, rt, line'
const EVENT_FILTER_WHERE = `org_id = @orgId AND sequence > @afterSequence AND sequence <= @throughSequence
  AND (@tsGte IS NULL OR event_ts_ms >= @tsGte) AND (@tsLte IS NULL OR event_ts_ms <= @tsLte)
  AND (@type IS NULL OR type = @type)`
// The floor of event_ts to its bucket; the double modulo keeps it a floor for times before 1970,
// where SQLite's % (truncating) alone would round up.
const BUCKET_START = 'event_ts_ms - (((event_ts_ms % @bucketMs) + @bucketMs) % @bucketMs)'
const IDEMPOTENT_RESPONSE_COLUMNS = 'request_hash AS requestHash, response_status AS status, response_body AS body'
const DESTINATION_COLUMNS = `id, org_id AS orgId, name, endpoint, authorization_header AS authorization,
  log_format AS logFormat, skip_ssl_verification AS skipSslVerification, created_at AS createdAt,
  updated_at AS updatedAt`
const WEBHOOK_COLUMNS = `org_id AS orgId, mode, enabled, endpoint, authorization_header AS authorization,
  log_format AS logFormat, skip_ssl_verification AS skipSslVerification, destination_id AS destinationId,
  updated_at AS updatedAt, delivered_sequence AS deliveredSequence, webhook_status AS status,
  last_attempt_at AS lastAttemptAt, last_response_code AS lastResponseCode,
  last_response_message AS lastResponseMessage, last_success_at AS lastSuccessAt,
  next_attempt_at AS nextAttemptAt, consecutive_failures AS consecutiveFailures,
  undelivered_pruned AS undeliveredPruned,
  (SELECT webhook_revision FROM orgs WHERE orgs.id = webhooks.org_id) AS configRevision`
const REPLAY_JOB_COLUMNS = `org_id AS orgId, id, start_at AS startAtMs, end_at AS endAtMs, status,
  updated_at AS updatedAt, through_sequence AS throughSequence, total, sent, replayed_sequence AS replayedSequence,
  batches_sent AS batchesSent, error`
const REPLAY_SELECTION_WHERE = `org_id = @orgId AND sequence > @afterSequence AND sequence <= @throughSequence
  AND event_ts_ms >= @startAtMs AND event_ts_ms <= @endAtMs`
// A configuration change starts delivery afresh (SPEC.md §6.2); the cursor and last outcome stay.
const RESET_DELIVERY_STATUS = "webhook_status = 'active', consecutive_failures = 0, next_attempt_at = NULL"
const LIST_DESTINATIONS_WHERE = `org_id = @orgId
  AND (@afterCreatedAt IS NULL OR (created_at, id) > (@afterCreatedAt, @afterId))
  AND (@beforeCreatedAt IS NULL OR (created_at, id) < (@beforeCreatedAt, @beforeId))
  AND (@nameEquals IS NULL OR name = @nameEquals)
  AND (@nameContains IS NULL OR instr(casefold(name), casefold(@nameContains)) > 0)`

// A cursor id the org does not have compares with NULL, so it yields an empty page, never the first.
const LIST_TOKENS_WHERE = `org_id = @orgId
  AND (@afterId IS NULL
    OR (created_at, id) > (SELECT created_at, id FROM tokens WHERE id = @afterId AND org_id = @orgId))
  AND (@beforeId IS NULL
    OR (created_at, id) < (SELECT created_at, id FROM tokens WHERE id = @beforeId AND org_id = @orgId))`

interface TokenFilter {
  readonly orgId: string
  readonly afterId: string | null
  readonly beforeId: string | null
  readonly limit: number
}

/** SQLite has no booleans: 0/1 in columns and parameters. */
type Flag = 0 | 1

interface DestinationRow extends Omit<DestinationRecord, 'skipSslVerification'> {
  readonly skipSslVerification: Flag
}

interface DestinationFilter {
  readonly orgId: string
  readonly afterCreatedAt: number | null
  readonly afterId: string | null
  readonly beforeCreatedAt: number | null
  readonly beforeId: string | null
  readonly nameEquals: string | null
  readonly nameContains: string | null
  readonly limit: number
}

/** The columns that say what a webhook delivers to; the other mode's columns are null. */
interface TargetColumns {
  readonly mode: 'inline' | 'destination'
  readonly endpoint: string | null
  readonly authorization: string | null
  readonly logFormat: LogFormat | null
  readonly skipSslVerification: Flag | null
  readonly destinationId: string | null
}

interface WebhookRow extends TargetColumns, DeliveryColumns {
  readonly orgId: string
  readonly enabled: Flag
  readonly updatedAt: number
}

/** The named parameters of a failure record: the attempt flattened beside the schedule. */
interface FailureRow extends DeliveryAttempt {
  readonly orgId: string
  readonly configRevision: number
  readonly status: WebhookStatus
  readonly nextAttemptAtMs: number | null
}

/** Which job of which org a replay write is for. */
interface ReplayJobKey {
  readonly orgId: string
  readonly id: string
}

/** Every statement the store runs, prepared once; rows come back already shaped as records. */
function prepareStatements(db: Database.Database) {
  return {
    anyOrg: db.prepare<[], number>('SELECT 1 FROM orgs LIMIT 1').pluck(),
    insertOrg: db.prepare<OrgRecord>('INSERT INTO orgs (id, name, created_at) VALUES (@id, @name, @createdAt)'),
    listOrgs: db.prepare<[], OrgRecord>(`SELECT ${ORG_COLUMNS} FROM orgs ORDER BY created_at, id`),
    findOrg: db.prepare<[string], OrgRecord>(`SELECT ${ORG_COLUMNS} FROM orgs WHERE id = ?`),
    findOrgByName: db.prepare<[string], OrgRecord>(`SELECT ${ORG_COLUMNS} FROM orgs WHERE name = ?`),
    orgHead: db.prepare<[string], OrgHead>(
      'SELECT last_sequence AS lastSequence, last_rt AS lastRt FROM orgs WHERE id = ?',
    ),
    advanceOrg: db.prepare<{ orgId: string } & OrgHead>(
      'UPDATE orgs SET last_sequence = @lastSequence, last_rt = @lastRt WHERE id = @orgId',
    ),
    headSequence: db.prepare<[string], number>('SELECT last_sequence FROM orgs WHERE id = ?').pluck(),

    insertToken: db.prepare<TokenRecord>(
      `INSERT INTO tokens (id, org_id, name, role, secret_hash, created_at, expires_at, last_used_at, revoked_at)
       VALUES (@id, @orgId, @name, @role, @secretHash, @createdAt, @expiresAt, @lastUsedAt, @revokedAt)`,
    ),
    findTokenByHash: db.prepare<[string], TokenRecord>(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE secret_hash = ?`),
    findTokenInOrg: db.prepare<{ orgId: string; id: string }, TokenRecord>(
      `SELECT ${TOKEN_COLUMNS} FROM tokens WHERE id = @id AND org_id = @orgId`,
    ),
    listTokensForward: db.prepare<TokenFilter, TokenRecord>(
      `SELECT ${TOKEN_COLUMNS} FROM tokens WHERE ${LIST_TOKENS_WHERE} ORDER BY created_at, id LIMIT @limit`,
    ),
    // The page that ends just before a position: read backwards, reversed by the caller.
    listTokensBackward: db.prepare<TokenFilter, TokenRecord>(
      `SELECT ${TOKEN_COLUMNS} FROM tokens WHERE ${LIST_TOKENS_WHERE} ORDER BY created_at DESC, id DESC LIMIT @limit`,
    ),
    countUnrevokedTokens: db
      .prepare<[string], number>('SELECT count(*) FROM tokens WHERE org_id = ? AND revoked_at IS NULL')
      .pluck(),
    // Active means neither revoked nor expired: an admin token whose expires_at has passed cannot
    // sign in, so it must not be what keeps the org administrable.
    countActiveAdmins: db
      .prepare<{ orgId: string; nowMs: number }, number>(
        `SELECT count(*) FROM tokens WHERE org_id = @orgId AND role = 'admin' AND revoked_at IS NULL
         AND (expires_at IS NULL OR expires_at > @nowMs)`,
      )
      .pluck(),
    revokeToken: db.prepare<{ id: string; nowMs: number }>('UPDATE tokens SET revoked_at = @nowMs WHERE id = @id'),
    // Concurrent requests may touch out of order; last_used_at keeps the latest time.
    touchToken: db.prepare<{ id: string; nowMs: number }>(
      'UPDATE tokens SET last_used_at = max(coalesce(last_used_at, @nowMs), @nowMs) WHERE id = @id',
    ),

    insertKey: db.prepare<KeyRecord>(
      `INSERT INTO signing_keys (kid, org_id, status, public_key, private_key, created_at, retired_at)
       VALUES (@kid, @orgId, @status, @publicKey, @privateKey, @createdAt, @retiredAt)`,
    ),
    activeKey: db.prepare<[string], KeyRecord>(
      `SELECT ${KEY_COLUMNS} FROM signing_keys WHERE org_id = ? AND status = 'active'`,
    ),
    listKeys: db.prepare<[string], KeyRecord>(
      `SELECT ${KEY_COLUMNS} FROM signing_keys WHERE org_id = ?
       ORDER BY status = 'active' DESC, created_at DESC, kid DESC`,
    ),
    retireActiveKey: db.prepare<{ orgId: string; nowMs: number }>(
      `UPDATE signing_keys SET status = 'retired', retired_at = @nowMs WHERE org_id = @orgId AND status = 'active'`,
    ),

    insertEvent: db.prepare<EventRow>(
      `INSERT INTO events (org_id, sequence, type, event_ts_ms, rt, trace_id, line)
       VALUES (@orgId, @sequence, @type, @eventTsMs, @rt, @traceId, @line)`,
    ),
    // Walks the primary key from the cursor, so paging through a window costs one pass in total.
    readEvents: db.prepare<EventFilter, StoredEvent>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE ${EVENT_FILTER_WHERE} ORDER BY sequence LIMIT @limit`,
    ),
    // The page that ends just before a sequence: read backwards, reversed by the caller.
    readEventsBackward: db.prepare<EventFilter, StoredEvent>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE ${EVENT_FILTER_WHERE} ORDER BY sequence DESC LIMIT @limit`,
    ),
    // A range scan of events_by_event_ts, which holds every column this reads.
    countEvents: db.prepare<CountFilter, BucketCount>(
      `SELECT ${BUCKET_START} AS startMs, count(*) AS count FROM events
       WHERE org_id = @orgId AND event_ts_ms >= @tsGte AND event_ts_ms <= @tsLte AND (@type IS NULL OR type = @type)
       GROUP BY startMs ORDER BY startMs`,
    ),
    oldestEvents: db.prepare<{ orgId: string; limit: number }, SequenceRt>(
      'SELECT sequence, rt FROM events WHERE org_id = @orgId ORDER BY sequence LIMIT @limit',
    ),
    deleteEventsThrough: db.prepare<{ orgId: string; throughSequence: number }>(
      'DELETE FROM events WHERE org_id = @orgId AND sequence <= @throughSequence',
    ),

    findIdempotentResponse: db.prepare<{ orgId: string; key: string; expiredAtOrBeforeMs: number }, IdempotentResponse>(
      `SELECT ${IDEMPOTENT_RESPONSE_COLUMNS} FROM idempotency_keys
       WHERE org_id = @orgId AND idempotency_key = @key AND created_at > @expiredAtOrBeforeMs`,
    ),
    // Reached only when no unexpired record exists, so a conflict replaces an expired one.
    upsertIdempotencyKey: db.prepare<IdempotencyKeyRow>(
      `INSERT INTO idempotency_keys (org_id, idempotency_key, request_hash, created_at, response_status, response_body)
       VALUES (@orgId, @key, @requestHash, @createdAt, @status, @body)
       ON CONFLICT (org_id, idempotency_key) DO UPDATE SET request_hash = excluded.request_hash,
         created_at = excluded.created_at, response_status = excluded.response_status,
         response_body = excluded.response_body`,
    ),
    pruneIdempotencyKeys: db.prepare<{ expiredAtOrBeforeMs: number; limit: number }>(
      `DELETE FROM idempotency_keys WHERE rowid IN
         (SELECT rowid FROM idempotency_keys WHERE created_at <= @expiredAtOrBeforeMs LIMIT @limit)`,
    ),

    insertDestination: db.prepare<DestinationRow>(
      `INSERT INTO destinations (id, org_id, name, endpoint, authorization_header, log_format, skip_ssl_verification,
         created_at, updated_at)
       VALUES (@id, @orgId, @name, @endpoint, @authorization, @logFormat, @skipSslVerification, @createdAt, @updatedAt)`,
    ),
    updateDestination: db.prepare<DestinationRow>(
      `UPDATE destinations SET name = @name, endpoint = @endpoint, authorization_header = @authorization,
         log_format = @logFormat, skip_ssl_verification = @skipSslVerification, updated_at = @updatedAt
       WHERE id = @id AND org_id = @orgId`,
    ),
    deleteDestination: db.prepare<{ orgId: string; id: string }>(
      'DELETE FROM destinations WHERE id = @id AND org_id = @orgId',
    ),
    findDestination: db.prepare<{ orgId: string; id: string }, DestinationRow>(
      `SELECT ${DESTINATION_COLUMNS} FROM destinations WHERE id = @id AND org_id = @orgId`,
    ),
    countDestinations: db.prepare<[string], number>('SELECT count(*) FROM destinations WHERE org_id = ?').pluck(),
    listDestinationsForward: db.prepare<DestinationFilter, DestinationRow>(
      `SELECT ${DESTINATION_COLUMNS} FROM destinations WHERE ${LIST_DESTINATIONS_WHERE}
       ORDER BY created_at, id LIMIT @limit`,
    ),
    // The page that ends just before a position: read backwards, reversed by the caller.
    listDestinationsBackward: db.prepare<DestinationFilter, DestinationRow>(
      `SELECT ${DESTINATION_COLUMNS} FROM destinations WHERE ${LIST_DESTINATIONS_WHERE}
       ORDER BY created_at DESC, id DESC LIMIT @limit`,
    ),

    findWebhook: db.prepare<[string], WebhookRow>(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE org_id = ?`),
    isDestinationReferenced: db
      .prepare<{ orgId: string; id: string }, number>(
        'SELECT 1 FROM webhooks WHERE org_id = @orgId AND destination_id = @id',
      )
      .pluck(),
    insertWebhook: db.prepare<
      TargetColumns & { orgId: string; enabled: Flag; updatedAt: number; deliveredSequence: number }
    >(
      `INSERT INTO webhooks (org_id, mode, enabled, endpoint, authorization_header, log_format, skip_ssl_verification,
         destination_id, updated_at, delivered_sequence, webhook_status)
       VALUES (@orgId, @mode, @enabled, @endpoint, @authorization, @logFormat, @skipSslVerification,
         @destinationId, @updatedAt, @deliveredSequence, 'active')`,
    ),
    retargetWebhook: db.prepare<TargetColumns & { orgId: string; updatedAt: number }>(
      `UPDATE webhooks SET mode = @mode, endpoint = @endpoint, authorization_header = @authorization,
         log_format = @logFormat, skip_ssl_verification = @skipSslVerification, destination_id = @destinationId,
         updated_at = @updatedAt, ${RESET_DELIVERY_STATUS}
       WHERE org_id = @orgId`,
    ),
    setWebhookEnabled: db.prepare<{ orgId: string; enabled: Flag; updatedAt: number }>(
      'UPDATE webhooks SET enabled = @enabled, updated_at = @updatedAt WHERE org_id = @orgId',
    ),
    resetDeliveryOfDestination: db.prepare<{ orgId: string; id: string }>(
      `UPDATE webhooks SET ${RESET_DELIVERY_STATUS} WHERE org_id = @orgId AND destination_id = @id`,
    ),
    deleteWebhook: db.prepare<[string]>('DELETE FROM webhooks WHERE org_id = ?'),
    bumpWebhookRevision: db.prepare<[string]>('UPDATE orgs SET webhook_revision = webhook_revision + 1 WHERE id = ?'),
    // max(): pruning may have moved the cursor past the batch while it was in flight.
    recordDeliverySuccess: db.prepare<DeliveryAttempt & { orgId: string; throughSequence: number }>(
      `UPDATE webhooks SET delivered_sequence = max(delivered_sequence, @throughSequence), webhook_status = 'active',
         consecutive_failures = 0, next_attempt_at = NULL, last_attempt_at = @atMs,
         last_response_code = @responseCode, last_response_message = @responseMessage, last_success_at = @atMs
       WHERE org_id = @orgId`,
    ),
    recordDeliveryFailure: db.prepare<FailureRow>(
      `UPDATE webhooks SET webhook_status = @status, consecutive_failures = consecutive_failures + 1,
         next_attempt_at = @nextAttemptAtMs, last_attempt_at = @atMs, last_response_code = @responseCode,
         last_response_message = @responseMessage
       WHERE org_id = @orgId AND (SELECT webhook_revision FROM orgs WHERE id = @orgId) = @configRevision`,
    ),
    deliveredSequence: db.prepare<[string], number>('SELECT delivered_sequence FROM webhooks WHERE org_id = ?').pluck(),
    // Pruned events cannot be delivered: count them and start delivery at the first retained one.
    skipPrunedDelivery: db.prepare<{ orgId: string; throughSequence: number }>(
      `UPDATE webhooks SET undelivered_pruned = undelivered_pruned + (@throughSequence - delivered_sequence),
         delivered_sequence = @throughSequence
       WHERE org_id = @orgId AND delivered_sequence < @throughSequence`,
    ),

    findReplayJob: db.prepare<[string], ReplayJob>(`SELECT ${REPLAY_JOB_COLUMNS} FROM replay_jobs WHERE org_id = ?`),
    isWebhookEnabled: db.prepare<[string], Flag>('SELECT enabled FROM webhooks WHERE org_id = ?').pluck(),
    // Reached only when the org has no active job: a new job replaces an ended one whole.
    upsertReplayJob: db.prepare<NewReplayJob & { nowMs: number }>(
      `INSERT INTO replay_jobs (org_id, id, start_at, end_at, status, updated_at)
       VALUES (@orgId, @id, @startAtMs, @endAtMs, 'accepted', @nowMs)
       ON CONFLICT (org_id) DO UPDATE SET id = excluded.id, start_at = excluded.start_at, end_at = excluded.end_at,
         status = 'accepted', updated_at = excluded.updated_at, through_sequence = NULL, total = 0, sent = 0,
         replayed_sequence = 0, batches_sent = 0, error = NULL`,
    ),
    queueReplayJob: db.prepare<ReplayJobKey & { nowMs: number }>(
      `UPDATE replay_jobs SET status = 'pending', updated_at = @nowMs
       WHERE org_id = @orgId AND id = @id AND status = 'accepted'`,
    ),
    startReplayJob: db.prepare<ReplayJobKey & { nowMs: number; throughSequence: number; total: number }>(
      `UPDATE replay_jobs SET status = 'running', updated_at = @nowMs, through_sequence = @throughSequence,
         total = @total
       WHERE org_id = @orgId AND id = @id AND status = 'pending'`,
    ),
    // A range scan of events_by_event_ts; the sequence bounds are checked on each row it finds.
    countReplaySelection: db
      .prepare<ReplaySelection, number>(`SELECT count(*) FROM events WHERE ${REPLAY_SELECTION_WHERE}`)
      .pluck(),
    recordReplayProgress: db.prepare<ReplayJobKey & { nowMs: number; throughSequence: number; events: number }>(
      `UPDATE replay_jobs SET replayed_sequence = max(replayed_sequence, @throughSequence), sent = sent + @events,
         batches_sent = batches_sent + 1, updated_at = @nowMs
       WHERE org_id = @orgId AND id = @id AND status = 'running'`,
    ),
    completeReplayJob: db.prepare<ReplayJobKey & { nowMs: number }>(
      `UPDATE replay_jobs SET status = 'completed', updated_at = @nowMs
       WHERE org_id = @orgId AND id = @id AND status = 'running'`,
    ),
    // Takes a free or lapsed lease, or renews this holder's; otherwise the upsert changes nothing.
    claimLease: db.prepare<LeaseClaim & { leaseUntil: number }>(
      `INSERT INTO work_leases (org_id, work, holder, lease_until) VALUES (@orgId, @work, @holder, @leaseUntil)
       ON CONFLICT (org_id, work) DO UPDATE SET holder = excluded.holder, lease_until = excluded.lease_until
       WHERE work_leases.holder = excluded.holder OR work_leases.lease_until <= @nowMs`,
    ),
    releaseLease: db.prepare<{ orgId: string; work: LeasedWork; holder: string }>(
      'UPDATE work_leases SET lease_until = 0 WHERE org_id = @orgId AND work = @work AND holder = @holder',
    ),
    otherHoldersStreams: db
      .prepare<{ orgId: string; holder: string; nowMs: number }, number>(
        `SELECT coalesce(sum(open_streams), 0) FROM stream_slots
         WHERE org_id = @orgId AND holder <> @holder AND lease_until > @nowMs`,
      )
      .pluck(),
    recordStreams: db.prepare<{ orgId: string; holder: string; openStreams: number; leaseUntil: number }>(
      `INSERT INTO stream_slots (org_id, holder, open_streams, lease_until)
       VALUES (@orgId, @holder, @openStreams, @leaseUntil)
       ON CONFLICT (org_id, holder) DO UPDATE SET open_streams = excluded.open_streams, lease_until = excluded.lease_until`,
    ),
    failReplayJob: db.prepare<ReplayJobKey & { nowMs: number; error: string }>(
      `UPDATE replay_jobs SET status = 'failed', error = @error, updated_at = @nowMs
       WHERE org_id = @orgId AND id = @id AND status IN ('accepted', 'pending', 'running')`,
    ),
  }
}

type Statements = ReturnType<typeof prepareStatements>

function insertNewOrg(s: Statements, init: NewOrg): void {
  s.insertOrg.run(init.org)
  s.insertKey.run(init.key)
  s.insertToken.run(init.adminToken)
}

function revokeIn(s: Statements, orgId: string, id: string, nowMs: number): RevokeOutcome {
  const token = s.findTokenInOrg.get({ orgId, id })
  if (token === undefined) return 'not_found'
  if (token.revokedAt !== null) return 'already_revoked'
  if (isActiveAdmin(token, nowMs) && s.countActiveAdmins.get({ orgId, nowMs }) === 1) return 'last_admin'
  s.revokeToken.run({ id, nowMs })
  return 'revoked'
}

function rotateIn(s: Statements, orgId: string, key: KeyRecord, nowMs: number): void {
  if (key.orgId !== orgId) throw new RangeError(`Key ${key.kid} belongs to org ${key.orgId}, not ${orgId}`)
  if (s.findOrg.get(orgId) === undefined) throw orgNotFound(orgId)
  s.retireActiveKey.run({ orgId, nowMs })
  s.insertKey.run({ ...key, status: 'active', retiredAt: null })
}

/** Renders every draft with the batch's rt inside the transaction, so a throw stores nothing. */
function appendIn(s: Statements, orgId: string, nowMs: number, drafts: readonly EventDraft[]): CommittedEvent[] {
  const head = s.orgHead.get(orgId)
  if (head === undefined) throw orgNotFound(orgId)
  if (drafts.length === 0) return []
  const rt = Math.max(nowMs, head.lastRt)
  const committed = drafts.map((draft, index): CommittedEvent => {
    const sequence = head.lastSequence + 1 + index
    const line = Buffer.from(draft.render(rt), 'utf8')
    const { type, eventTsMs, traceId } = draft
    s.insertEvent.run({ orgId, sequence, type, eventTsMs, rt, traceId, line })
    return { sequence, rt, traceId }
  })
  s.advanceOrg.run({ orgId, lastSequence: head.lastSequence + drafts.length, lastRt: rt })
  return committed
}

function readEventsIn(s: Statements, query: EventQuery): StoredEvent[] {
  const filter: EventFilter = {
    orgId: query.orgId,
    afterSequence: query.afterSequence,
    throughSequence: readThroughSequence(query),
    tsGte: query.tsGte ?? null,
    tsLte: query.tsLte ?? null,
    type: query.type ?? null,
    limit: query.limit,
  }
  if (query.beforeSequence === undefined) return s.readEvents.all(filter)
  return s.readEventsBackward.all(filter).reverse()
}

/** Checks the key and appends under one write lock, so two requests with one key never both store. */
function appendOnceIn(
  s: Statements,
  orgId: string,
  nowMs: number,
  drafts: readonly EventDraft[],
  claim: IdempotencyClaim,
): IdempotentAppendOutcome {
  const { key, requestHash, expiredAtOrBeforeMs } = claim
  const earlier = s.findIdempotentResponse.get({ orgId, key, expiredAtOrBeforeMs })
  if (earlier !== undefined) return { outcome: 'exists', response: earlier }
  const events = appendIn(s, orgId, nowMs, drafts)
  const response: IdempotentResponse = {
    requestHash,
    status: claim.responseStatus,
    body: claim.renderResponse(events),
  }
  s.upsertIdempotencyKey.run({ orgId, key, createdAt: nowMs, ...response })
  return { outcome: 'committed', events, response }
}

/** The last sequence of the org's oldest events (at most `maxEvents`) committed before the time; 0 if none. */
function prunablePrefixEnd(s: Statements, orgId: string, rtBeforeMs: number, maxEvents: number): number {
  let throughSequence = 0
  // rt never decreases along sequences, so the first event at or after the time ends the prefix.
  for (const event of s.oldestEvents.iterate({ orgId, limit: maxEvents })) {
    if (event.rt >= rtBeforeMs) break
    throughSequence = event.sequence
  }
  return throughSequence
}

function pruneIn(s: Statements, orgId: string, rtBeforeMs: number, maxEvents: number): PruneOutcome {
  const throughSequence = prunablePrefixEnd(s, orgId, rtBeforeMs, maxEvents)
  if (throughSequence === 0) return { deletedEvents: 0, throughSequence: 0, undeliveredPruned: 0 }
  const deletedEvents = s.deleteEventsThrough.run({ orgId, throughSequence }).changes
  const deliveredSequence = s.deliveredSequence.get(orgId)
  const undeliveredPruned = deliveredSequence === undefined ? 0 : Math.max(0, throughSequence - deliveredSequence)
  if (undeliveredPruned > 0) s.skipPrunedDelivery.run({ orgId, throughSequence })
  return { deletedEvents, throughSequence, undeliveredPruned }
}

function flag(value: boolean): Flag {
  return value ? 1 : 0
}

function destinationOf(row: DestinationRow): DestinationRecord {
  return { ...row, skipSslVerification: row.skipSslVerification === 1 }
}

function destinationRow(destination: DestinationRecord): DestinationRow {
  return { ...destination, skipSslVerification: flag(destination.skipSslVerification) }
}

function findDestinationIn(s: Statements, orgId: string, id: string): DestinationRecord | null {
  const row = s.findDestination.get({ orgId, id })
  return row === undefined ? null : destinationOf(row)
}

function insertDestinationIn(s: Statements, destination: DestinationRecord, maxPerOrg: number) {
  if ((s.countDestinations.get(destination.orgId) ?? 0) >= maxPerOrg) return 'limit_reached'
  s.insertDestination.run(destinationRow(destination))
  return 'inserted'
}

function listDestinationsIn(s: Statements, query: DestinationQuery): DestinationRecord[] {
  const filter: DestinationFilter = {
    orgId: query.orgId,
    afterCreatedAt: query.after?.createdAt ?? null,
    afterId: query.after?.id ?? null,
    beforeCreatedAt: query.before?.createdAt ?? null,
    beforeId: query.before?.id ?? null,
    nameEquals: query.nameEquals ?? null,
    nameContains: query.nameContains ?? null,
    limit: query.limit,
  }
  if (query.before === undefined) return s.listDestinationsForward.all(filter).map(destinationOf)
  return s.listDestinationsBackward.all(filter).map(destinationOf).reverse()
}

function updateDestinationIn(
  s: Statements,
  orgId: string,
  id: string,
  change: DestinationChange,
  nowMs: number,
): DestinationRecord | null {
  const current = findDestinationIn(s, orgId, id)
  if (current === null || Object.keys(change).length === 0) return current
  const updated: DestinationRecord = { ...current, ...change, updatedAt: nowMs }
  s.updateDestination.run(destinationRow(updated))
  if (changesDelivery(change) && s.resetDeliveryOfDestination.run({ orgId, id }).changes > 0) {
    s.bumpWebhookRevision.run(orgId)
  }
  return updated
}

function deleteDestinationIn(s: Statements, orgId: string, id: string): DestinationDeleteOutcome {
  if (s.findDestination.get({ orgId, id }) === undefined) return 'not_found'
  if (s.isDestinationReferenced.get({ orgId, id }) !== undefined) return 'in_use'
  s.deleteDestination.run({ orgId, id })
  return 'deleted'
}

function targetOf(s: Statements, row: WebhookRow): WebhookTarget {
  if (row.mode === 'destination') {
    const destination = row.destinationId === null ? null : findDestinationIn(s, row.orgId, row.destinationId)
    if (destination === null) throw inconsistentWebhook(row.orgId)
    return { mode: 'destination', destination }
  }
  const { endpoint, authorization, logFormat, skipSslVerification } = row
  if (endpoint === null || logFormat === null || skipSslVerification === null) throw inconsistentWebhook(row.orgId)
  return {
    mode: 'inline',
    settings: { endpoint, authorization, logFormat, skipSslVerification: skipSslVerification === 1 },
  }
}

function getWebhookIn(s: Statements, orgId: string): ConfiguredWebhook | null {
  const row = s.findWebhook.get(orgId)
  if (row === undefined) return null
  return {
    orgId,
    target: targetOf(s, row),
    enabled: row.enabled === 1,
    updatedAt: row.updatedAt,
    delivery: deliveryOf(row),
  }
}

function targetColumns(target: WebhookTargetChange): TargetColumns {
  if (target.mode === 'destination') {
    const none = { endpoint: null, authorization: null, logFormat: null, skipSslVerification: null }
    return { mode: 'destination', destinationId: target.destinationId, ...none }
  }
  const settings: EndpointSettings = target.settings
  return {
    mode: 'inline',
    endpoint: settings.endpoint,
    authorization: settings.authorization,
    logFormat: settings.logFormat,
    skipSslVerification: flag(settings.skipSslVerification),
    destinationId: null,
  }
}

/** Decides and writes under SQLite's write lock, so `decide` always sees the committed state. */
function updateWebhookIn(s: Statements, orgId: string, nowMs: number, decide: DecideWebhookChange): WebhookUpdate {
  const current = getWebhookIn(s, orgId)
  const change = decide(current)
  if (change === null) return { outcome: 'updated', webhook: current }
  const { target, enabled } = change
  if (target?.mode === 'destination' && s.findDestination.get({ orgId, id: target.destinationId }) === undefined) {
    return { outcome: 'unknown_destination' }
  }
  if (current === null) {
    if (target === undefined) throw new RangeError(`The webhook of org ${orgId} is unconfigured; configure a target`)
    const head = s.orgHead.get(orgId)
    if (head === undefined) throw orgNotFound(orgId)
    // The first configuration starts at the head: history is only sent by a replay (SPEC.md §6.4).
    const deliveredSequence = head.lastSequence
    s.insertWebhook.run({
      orgId,
      ...targetColumns(target),
      enabled: flag(enabled === true),
      updatedAt: nowMs,
      deliveredSequence,
    })
    s.bumpWebhookRevision.run(orgId)
  } else {
    if (target !== undefined) {
      s.retargetWebhook.run({ orgId, ...targetColumns(target), updatedAt: nowMs })
      s.bumpWebhookRevision.run(orgId)
    }
    if (enabled !== undefined) s.setWebhookEnabled.run({ orgId, enabled: flag(enabled), updatedAt: nowMs })
  }
  return { outcome: 'updated', webhook: getWebhookIn(s, orgId) }
}

/** SPEC.md §5.6's order: the webhook must be configured and enabled, then no job may be active. */
function submitReplayJobIn(s: Statements, job: NewReplayJob, nowMs: number): ReplaySubmitOutcome {
  if (s.findOrg.get(job.orgId) === undefined) throw orgNotFound(job.orgId)
  const refusal = replaySubmitRefusal(s.isWebhookEnabled.get(job.orgId) === 1, s.findReplayJob.get(job.orgId) ?? null)
  if (refusal !== null) return refusal
  s.upsertReplayJob.run({ ...job, nowMs })
  return { outcome: 'accepted', job: s.findReplayJob.get(job.orgId) as ReplayJob }
}

/** Fixes the selection at the head of this moment: the count and the bound share one snapshot. */
function startReplayJobIn(s: Statements, orgId: string, id: string, nowMs: number): ReplayJob | null {
  const job = s.findReplayJob.get(orgId)
  if (job === undefined || job.id !== id || job.status !== 'pending') return null
  const throughSequence = s.headSequence.get(orgId) ?? 0
  const { startAtMs, endAtMs } = job
  const total = s.countReplaySelection.get({ orgId, afterSequence: 0, throughSequence, startAtMs, endAtMs }) ?? 0
  s.startReplayJob.run({ orgId, id, nowMs, throughSequence, total })
  return s.findReplayJob.get(orgId) ?? null
}

function finishReplayJobIn(s: Statements, orgId: string, id: string, end: ReplayJobEnd, nowMs: number): boolean {
  const key = { orgId, id, nowMs }
  const result =
    end.status === 'completed' ? s.completeReplayJob.run(key) : s.failReplayJob.run({ ...key, error: end.error })
  return result.changes > 0
}

/** Unicode-aware lower case for name filters; SQLite's own lower() folds ASCII only. */
function registerFunctions(db: Database.Database): void {
  db.function('casefold', { deterministic: true }, (text: unknown) => String(text).toLowerCase())
}

function createSqliteStore(db: Database.Database, path: string): Store {
  registerFunctions(db)
  const s = prepareStatements(db)
  const bootstrap = db.transaction((init: NewOrg) => {
    if (s.anyOrg.get() !== undefined) return false
    insertNewOrg(s, init)
    return true
  })
  const createOrg = db.transaction((init: NewOrg) => insertNewOrg(s, init))
  const revokeToken = db.transaction((orgId: string, id: string, nowMs: number) => revokeIn(s, orgId, id, nowMs))
  const rotateKey = db.transaction((orgId: string, key: KeyRecord, nowMs: number) => rotateIn(s, orgId, key, nowMs))
  // Deferred read transactions: the webhook and its destination come from one snapshot.
  const getWebhook = db.transaction((orgId: string) => getWebhookIn(s, orgId))
  const updateWebhook = db.transaction((orgId: string, nowMs: number, decide: DecideWebhookChange) =>
    updateWebhookIn(s, orgId, nowMs, decide),
  )
  const insertDestination = db.transaction(
    (destination: DestinationRecord, maxPerOrg: number): DestinationInsertOutcome =>
      insertDestinationIn(s, destination, maxPerOrg),
  )
  const updateDestination = db.transaction((orgId: string, id: string, change: DestinationChange, nowMs: number) =>
    updateDestinationIn(s, orgId, id, change, nowMs),
  )
  const deleteDestination = db.transaction((orgId: string, id: string) => deleteDestinationIn(s, orgId, id))
  const claimStreamSlot = db.transaction((claim: StreamSlotClaim): boolean => {
    const { orgId, holder, openHere, maxPerOrg, nowMs, leaseMs } = claim
    if ((s.otherHoldersStreams.get({ orgId, holder, nowMs }) ?? 0) + openHere >= maxPerOrg) return false
    s.recordStreams.run({ orgId, holder, openStreams: openHere + 1, leaseUntil: nowMs + leaseMs })
    return true
  })
  const recordStreamCounts = db.transaction(
    (holder: string, counts: ReadonlyArray<readonly [string, number]>, leaseUntil: number) => {
      for (const [orgId, openStreams] of counts) s.recordStreams.run({ orgId, holder, openStreams, leaseUntil })
    },
  )
  // Not part of the group commit, which carries drafts only: the key check must share the append's transaction.
  const appendOnce = db.transaction(
    (orgId: string, nowMs: number, drafts: readonly EventDraft[], claim: IdempotencyClaim) =>
      appendOnceIn(s, orgId, nowMs, drafts, claim),
  )
  const pruneEvents = db.transaction((orgId: string, rtBeforeMs: number, maxEvents: number) =>
    pruneIn(s, orgId, rtBeforeMs, maxEvents),
  )
  const deleteWebhook = db.transaction((orgId: string) => {
    if (s.deleteWebhook.run(orgId).changes > 0) s.bumpWebhookRevision.run(orgId)
  })
  const submitReplayJob = db.transaction((job: NewReplayJob, nowMs: number) => submitReplayJobIn(s, job, nowMs))
  const queueReplayJob = db.transaction((orgId: string, id: string, nowMs: number) =>
    s.queueReplayJob.run({ orgId, id, nowMs }).changes > 0 ? (s.findReplayJob.get(orgId) ?? null) : null,
  )
  const startReplayJob = db.transaction((orgId: string, id: string, nowMs: number) =>
    startReplayJobIn(s, orgId, id, nowMs),
  )
  const replayListeners = new Set<ReplayJobListener>()
  const webhookListeners = new Set<WebhookChangeListener>()
  /** Runs a webhook or destination write, then tells the listeners once it has committed. */
  const announcingChange = <T>(orgId: string, write: () => T): T => {
    const result = write()
    for (const listener of webhookListeners) listener(orgId)
    return result
  }

  /** Runs one store operation on the open connection with driver errors mapped. */
  const use = <T>(fn: () => T): T => {
    if (!db.open) throw new StoreError('unavailable', `The SQLite store ${path} is closed`)
    return mapDriverErrors(path, fn)
  }
  const appends = new GroupCommit(db, (orgId, nowMs, drafts) => appendIn(s, orgId, nowMs, drafts), use)

  return {
    kind: 'sqlite',
    bootstrap: async (init) => use(() => bootstrap.immediate(init)),
    createOrg: async (init) => use(() => createOrg.immediate(init)),
    listOrgs: async () => use(() => s.listOrgs.all()),
    findOrg: async (id) => use(() => s.findOrg.get(id) ?? null),
    findOrgByName: async (name) => use(() => s.findOrgByName.get(name) ?? null),

    insertToken: async (token) => use(() => void s.insertToken.run(token)),
    findTokenByHash: async (secretHash) => use(() => s.findTokenByHash.get(secretHash) ?? null),
    listTokens: async (query) =>
      use(() => {
        const filter = { orgId: query.orgId, afterId: query.after ?? null, beforeId: query.before ?? null }
        if (query.before === undefined) return s.listTokensForward.all({ ...filter, limit: query.limit })
        return s.listTokensBackward.all({ ...filter, limit: query.limit }).reverse()
      }),
    countUnrevokedTokens: async (orgId) => use(() => s.countUnrevokedTokens.get(orgId) ?? 0),
    revokeToken: async (orgId, id, nowMs) => use(() => revokeToken.immediate(orgId, id, nowMs)),
    touchToken: async (id, nowMs) => use(() => void s.touchToken.run({ id, nowMs })),

    activeKey: async (orgId) =>
      use(() => {
        const key = s.activeKey.get(orgId)
        if (key === undefined) throw new StoreError('not_found', `Org ${orgId} has no active signing key`)
        return key
      }),
    listKeys: async (orgId) => use(() => s.listKeys.all(orgId)),
    rotateKey: async (orgId, key, nowMs) => use(() => rotateKey.immediate(orgId, key, nowMs)),

    appendEvents: (orgId, nowMs, drafts) => appends.append(orgId, nowMs, drafts),
    readEvents: async (query) => use(() => readEventsIn(s, query)),
    headSequence: async (orgId) => use(() => s.headSequence.get(orgId) ?? 0),
    countEvents: async (query: EventCountQuery) => use(() => s.countEvents.all({ ...query, type: query.type ?? null })),

    findIdempotentResponse: async (orgId, key, expiredAtOrBeforeMs) =>
      use(() => s.findIdempotentResponse.get({ orgId, key, expiredAtOrBeforeMs }) ?? null),
    appendEventsOnce: async (orgId, nowMs, drafts, claim) =>
      use(() => appendOnce.immediate(orgId, nowMs, drafts, claim)),
    pruneIdempotencyKeys: async (expiredAtOrBeforeMs, maxKeys) =>
      use(() => s.pruneIdempotencyKeys.run({ expiredAtOrBeforeMs, limit: maxKeys }).changes),
    pruneEvents: async (orgId, rtBeforeMs, maxEvents) => use(() => pruneEvents.immediate(orgId, rtBeforeMs, maxEvents)),

    getWebhook: async (orgId) => use(() => getWebhook(orgId)),
    updateWebhook: async (orgId, nowMs, decide) =>
      announcingChange(orgId, () => use(() => updateWebhook.immediate(orgId, nowMs, decide))),
    deleteWebhook: async (orgId) => announcingChange(orgId, () => use(() => deleteWebhook.immediate(orgId))),
    recordDeliverySuccess: async (orgId, throughSequence, attempt) =>
      use(() => void s.recordDeliverySuccess.run({ orgId, throughSequence, ...attempt })),
    recordDeliveryFailure: async (orgId, failure: DeliveryFailure) =>
      use(() => {
        const { attempt, configRevision, status, nextAttemptAtMs } = failure
        return s.recordDeliveryFailure.run({ orgId, configRevision, status, nextAttemptAtMs, ...attempt }).changes > 0
      }),
    onWebhookChange: (listener) => {
      webhookListeners.add(listener)
      return () => webhookListeners.delete(listener)
    },

    getReplayJob: async (orgId) => use(() => s.findReplayJob.get(orgId) ?? null),
    submitReplayJob: async (job, nowMs) => {
      const submitted = use(() => submitReplayJob.immediate(job, nowMs))
      if (submitted.outcome === 'accepted') for (const listener of replayListeners) listener(job.orgId)
      return submitted
    },
    queueReplayJob: async (orgId, id, nowMs) => use(() => queueReplayJob.immediate(orgId, id, nowMs)),
    startReplayJob: async (orgId, id, nowMs) => use(() => startReplayJob.immediate(orgId, id, nowMs)),
    recordReplayProgress: async (orgId, id, batch, nowMs) =>
      use(() => s.recordReplayProgress.run({ orgId, id, nowMs, ...batch }).changes > 0),
    finishReplayJob: async (orgId, id, end, nowMs) => use(() => finishReplayJobIn(s, orgId, id, end, nowMs)),
    countReplaySelection: async (selection) => use(() => s.countReplaySelection.get(selection) ?? 0),
    onReplayJobSubmitted: (listener) => {
      replayListeners.add(listener)
      return () => replayListeners.delete(listener)
    },

    // One process writes events (the data-dir lock); the operator subcommands append none.
    onEventsCommittedElsewhere: () => () => {},
    onKeysRotatedElsewhere: () => () => {},
    claimLease: async (claim) =>
      use(() => s.claimLease.run({ ...claim, leaseUntil: claim.nowMs + claim.leaseMs }).changes > 0),
    releaseLease: async (orgId, work, holder) => use(() => void s.releaseLease.run({ orgId, work, holder })),
    claimStreamSlot: async (claim) => use(() => claimStreamSlot.immediate(claim)),
    recordStreamCounts: async (holder, counts, nowMs, leaseMs) =>
      use(() => recordStreamCounts.immediate(holder, counts, nowMs + leaseMs)),

    insertDestination: async (destination, maxPerOrg) => use(() => insertDestination.immediate(destination, maxPerOrg)),
    findDestination: async (orgId, id) => use(() => findDestinationIn(s, orgId, id)),
    listDestinations: async (query) => use(() => listDestinationsIn(s, query)),
    updateDestination: async (orgId, id, change, nowMs) =>
      announcingChange(orgId, () => use(() => updateDestination.immediate(orgId, id, change, nowMs))),
    deleteDestination: async (orgId, id) => use(() => deleteDestination.immediate(orgId, id)),

    // Reads a table rather than SELECT 1, so a broken file or WAL shows up here.
    ping: async () => use(() => void s.anyOrg.get()),
    close: async () => {
      appends.flush()
      if (db.open) db.close()
    },
  }
}
