// Owns the store contract every adapter implements (DESIGN.md §7): async methods, each write in
// one transaction that commits durably before it resolves, driver errors mapped to StoreError.
// Times are epoch milliseconds passed in by the caller; SQL never reads the clock.

import type { EventType } from '../core/events.js'
import type { TraceId } from '../util/u64.js'

export type Role = 'admin' | 'auditor' | 'ingest'
export const ROLES: readonly Role[] = ['admin', 'auditor', 'ingest']

export interface OrgRecord {
  readonly id: string
  readonly name: string
  readonly createdAt: number
}

export interface TokenRecord {
  readonly id: string
  readonly orgId: string
  readonly name: string
  readonly role: Role
  /** Lowercase hex SHA-256 of the secret; the secret itself is never stored. */
  readonly secretHash: string
  readonly createdAt: number
  readonly expiresAt: number | null
  readonly lastUsedAt: number | null
  readonly revokedAt: number | null
}

export interface KeyRecord {
  readonly kid: string
  readonly orgId: string
  readonly status: 'active' | 'retired'
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Buffer
  /** PKCS#8 DER of the private key. */
  readonly privateKey: Buffer
  readonly createdAt: number
  readonly retiredAt: number | null
}

/** What it takes to create an org: the org, its first signing key and its first admin token. */
export interface NewOrg {
  readonly org: OrgRecord
  readonly key: KeyRecord
  readonly adminToken: TokenRecord
}

/** An event about to be committed; its line can only be rendered once `rt` is known. */
export interface EventDraft {
  readonly type: EventType
  readonly eventTsMs: number
  readonly traceId: TraceId
  /** The signed canonical JSON line for this commit time. */
  render(rt: number): string
}

export interface CommittedEvent {
  readonly sequence: number
  readonly rt: number
  readonly traceId: TraceId
}

export interface StoredEvent {
  readonly sequence: number
  readonly type: EventType
  readonly eventTsMs: number
  readonly rt: number
  /** The stored line, byte for byte, without a newline. */
  readonly line: Buffer
}

export interface EventQuery {
  readonly orgId: string
  /** Only sequences greater than this. */
  readonly afterSequence: number
  /** Only sequences up to and including this (a snapshot's head). */
  readonly throughSequence: number
  /** Inclusive bounds on event_ts, epoch ms. */
  readonly tsGte?: number
  readonly tsLte?: number
  readonly type?: EventType
  /**
   * Only sequences below this; then the LAST `limit` matches are returned (still in ascending
   * order), i.e. the page that ends just before this sequence.
   */
  readonly beforeSequence?: number
  readonly limit: number
}

/** Counts of an org's events per event_ts bucket (SPEC.md §5.9a). */
export interface EventCountQuery {
  readonly orgId: string
  /** Inclusive bounds on event_ts, epoch ms. */
  readonly tsGte: number
  readonly tsLte: number
  readonly type?: EventType
  /** Bucket width; buckets start at multiples of it since the epoch (so UTC-aligned for 1m, 1h, 1d). */
  readonly bucketMs: number
}

export interface BucketCount {
  /** The bucket's start, epoch ms, a multiple of the query's bucketMs. */
  readonly startMs: number
  readonly count: number
}

/** The acknowledged response an Idempotency-Key replays (SPEC.md §5.4). */
export interface IdempotentResponse {
  /** Lowercase hex SHA-256 of the request as first sent (body bytes, content type, content encoding). */
  readonly requestHash: string
  readonly status: number
  /** The response body exactly as first sent. */
  readonly body: string
}

/** An ingest's Idempotency-Key and the response to keep for it, rendered once its sequences are known. */
export interface IdempotencyClaim {
  readonly key: string
  readonly requestHash: string
  /** Records created at or before this time have expired: they neither match nor block the key. */
  readonly expiredAtOrBeforeMs: number
  readonly responseStatus: number
  renderResponse(committed: readonly CommittedEvent[]): string
}

export type IdempotentAppendOutcome =
  | { readonly outcome: 'committed'; readonly events: CommittedEvent[]; readonly response: IdempotentResponse }
  /** An unexpired record for the key exists (whatever its hash): nothing was stored. */
  | { readonly outcome: 'exists'; readonly response: IdempotentResponse }

/** What one pruning transaction did to an org (SPEC.md §8). */
export interface PruneOutcome {
  /** Events deleted, at most the call's maximum; fewer means the org has nothing more to prune. */
  readonly deletedEvents: number
  /** The last deleted sequence, 0 when nothing was deleted. */
  readonly throughSequence: number
  /**
   * Deleted events the webhook had not delivered (added to undelivered_pruned); when positive,
   * the delivery cursor was moved to throughSequence.
   */
  readonly undeliveredPruned: number
}

export type LogFormat = 'cef' | 'json' | 'cps'
export const LOG_FORMATS: readonly LogFormat[] = ['cef', 'json', 'cps']

/** Where and how to deliver: an inline webhook's settings, or what a destination defines. */
export interface EndpointSettings {
  readonly endpoint: string
  /** Sent verbatim as the receiver's Authorization header, so stored as given; null = none. */
  readonly authorization: string | null
  readonly logFormat: LogFormat
  readonly skipSslVerification: boolean
}

export interface DestinationRecord extends EndpointSettings {
  readonly id: string
  readonly orgId: string
  /** Unique per org (StoreError conflict). */
  readonly name: string
  readonly authorization: string
  readonly createdAt: number
  readonly updatedAt: number
}

/** The fields a destination PATCH may change; absent ones keep their value. */
export type DestinationChange = Partial<
  Pick<DestinationRecord, 'name' | 'endpoint' | 'authorization' | 'logFormat' | 'skipSslVerification'>
>

/** A keyset position in a destination list, ordered by created_at then id. */
export interface DestinationPosition {
  readonly createdAt: number
  readonly id: string
}

/** A page of an org's tokens; an id the org does not have as a cursor yields no tokens. */
export interface TokenQuery {
  readonly orgId: string
  /** Only the first `limit` tokens after this token's position; at most one of after and before. */
  readonly after?: string
  /** Only the last `limit` tokens before this token's position. */
  readonly before?: string
  readonly limit: number
}

export interface DestinationQuery {
  readonly orgId: string
  /** Only destinations after this position; at most one of after and before. */
  readonly after?: DestinationPosition
  /** Only the last `limit` destinations before this position. */
  readonly before?: DestinationPosition
  readonly nameEquals?: string
  /** Case-insensitive substring of the name. */
  readonly nameContains?: string
  readonly limit: number
}

export type DestinationInsertOutcome = 'inserted' | 'limit_reached'
export type DestinationDeleteOutcome = 'deleted' | 'not_found' | 'in_use'

/** What a configured webhook delivers to. */
export type WebhookTarget =
  | { readonly mode: 'inline'; readonly settings: EndpointSettings }
  | { readonly mode: 'destination'; readonly destination: DestinationRecord }

export type WebhookStatus = 'active' | 'inactive'

/** One delivery attempt as status reports it (SPEC.md §5.5). */
export interface DeliveryAttempt {
  readonly atMs: number
  /** 0 = no HTTP status (connection, DNS, TLS, timeout, address policy). */
  readonly responseCode: number
  readonly responseMessage: string
}

/** The delivery engine's durable state of one org's webhook (SPEC.md §5.5, §6). */
export interface WebhookDelivery {
  /** The delivery cursor: the highest sequence the receiver acknowledged with a 2xx. */
  readonly deliveredSequence: number
  readonly status: WebhookStatus
  /** Null before the first attempt. */
  readonly lastAttempt: DeliveryAttempt | null
  readonly lastSuccessAt: number | null
  /** Set only while a quick retry or probe is scheduled. */
  readonly nextAttemptAt: number | null
  readonly consecutiveFailures: number
  /** Events pruned before they were delivered (SPEC.md §8). */
  readonly undeliveredPruned: number
  /**
   * Counts the org's webhook configuration changes (first configuration, target change, change of
   * the referenced destination, deletion); never reused, even across a deletion. A failure is
   * recorded only against the revision it was attempted with.
   */
  readonly configRevision: number
}

/** A failed attempt and what the delivery engine scheduled after it (SPEC.md §6.3). */
export interface DeliveryFailure {
  readonly attempt: DeliveryAttempt
  /** The configRevision the attempt was made with. */
  readonly configRevision: number
  readonly status: WebhookStatus
  /** The next attempt (a quick retry or a probe); null = at once (a 413 split). */
  readonly nextAttemptAtMs: number | null
}

/** Called after a committed change of an org's webhook or of a destination of that org. */
export type WebhookChangeListener = (orgId: string) => void

/** An org's webhook once configured; an unconfigured webhook is null. */
export interface ConfiguredWebhook {
  readonly orgId: string
  readonly target: WebhookTarget
  /** False = paused: nothing is sent and the cursor is kept. */
  readonly enabled: boolean
  readonly updatedAt: number
  readonly delivery: WebhookDelivery
}

/** A new target for the webhook, decided by the caller (inline settings or a destination reference). */
export type WebhookTargetChange =
  | { readonly mode: 'inline'; readonly settings: EndpointSettings }
  | { readonly mode: 'destination'; readonly destinationId: string }

export interface WebhookChange {
  /**
   * A configuration change: resets consecutive failures, sets status active and clears the
   * scheduled attempt (SPEC.md §6.2). Required to configure an unconfigured webhook, which also
   * sets the delivery cursor to the org's head (SPEC.md §6.4).
   */
  readonly target?: WebhookTargetChange
  /** Absent keeps the current flag (false when unconfigured). */
  readonly enabled?: boolean
}

/**
 * Decides a webhook change from the current webhook (null = unconfigured) inside the store's
 * transaction, so concurrent changes never merge against a stale read. Returns null to change
 * nothing; whatever it throws aborts the update with nothing stored.
 */
export type DecideWebhookChange = (current: ConfiguredWebhook | null) => WebhookChange | null

export type WebhookUpdate =
  | { readonly outcome: 'updated'; readonly webhook: ConfiguredWebhook | null }
  | { readonly outcome: 'unknown_destination' }

export type RevokeOutcome = 'revoked' | 'already_revoked' | 'not_found' | 'last_admin'

export type ReplayJobStatus = 'accepted' | 'pending' | 'running' | 'completed' | 'failed'
/** The states in which a job still has work to do: a new one is refused (SPEC.md §5.6). */
export const ACTIVE_REPLAY_STATUSES: readonly ReplayJobStatus[] = ['accepted', 'pending', 'running']

/** A replay request as the store keeps it: inclusive event_ts bounds in whole seconds (SPEC.md §5.6, §7). */
export interface NewReplayJob {
  /** Tells this job from the one it replaces, so a late write for an older job changes nothing. */
  readonly id: string
  readonly orgId: string
  readonly startAtMs: number
  readonly endAtMs: number
}

/** An org's replay job (one per org) with its progress (SPEC.md §2, §7). */
export interface ReplayJob extends NewReplayJob {
  readonly status: ReplayJobStatus
  readonly updatedAt: number
  /** The org's head when the job started running: later events are not selected; null before. */
  readonly throughSequence: number | null
  /** How many events the job selected (counted when it started running); 0 before. */
  readonly total: number
  /** Selected events the receiver acknowledged with a 2xx. */
  readonly sent: number
  /** The job's own cursor: the highest sequence acknowledged (0 before the first 2xx); never the live one. */
  readonly replayedSequence: number
  /** Batches acknowledged so far, to name the failing one. */
  readonly batchesSent: number
  /** Why the job failed; null unless it did. */
  readonly error: string | null
}

export type ReplaySubmitOutcome =
  | { readonly outcome: 'accepted'; readonly job: ReplayJob }
  /** The webhook is unconfigured or disabled: nothing was stored. */
  | { readonly outcome: 'webhook_unavailable' }
  /** The org's job is accepted, pending or running: nothing was stored. */
  | { readonly outcome: 'job_active'; readonly job: ReplayJob }

/** How a job ended. */
export type ReplayJobEnd = { readonly status: 'completed' } | { readonly status: 'failed'; readonly error: string }

/** Selected events of a running job: event_ts within the window, sequence in (after, through]. */
export interface ReplaySelection {
  readonly orgId: string
  readonly afterSequence: number
  readonly throughSequence: number
  readonly startAtMs: number
  readonly endAtMs: number
}

/** Called after a replay job was submitted (committed). */
export type ReplayJobListener = (orgId: string) => void

/** Called with an org's new head after another process sharing the store committed events to it. */
export type HeadListener = (orgId: string, headSequence: number) => void

/** Work a server leases per org, so that among replicas exactly one does it at a time (SPEC.md §6.5). */
export type LeasedWork = 'delivery' | 'replay' | 'pruning'

export interface LeaseClaim {
  readonly orgId: string
  readonly work: LeasedWork
  /** The claiming server's replica id. */
  readonly holder: string
  readonly nowMs: number
  /** The lease holds until nowMs + leaseMs unless renewed. */
  readonly leaseMs: number
}

/** A server asking to open one more live stream of an org (SPEC.md §5.1: at most `maxPerOrg`). */
export interface StreamSlotClaim {
  readonly orgId: string
  /** The claiming server's replica id. */
  readonly holder: string
  /** The org's streams this server has open or is opening, this one not included. */
  readonly openHere: number
  readonly maxPerOrg: number
  readonly nowMs: number
  /** The server's count holds until nowMs + leaseMs unless recorded again. */
  readonly leaseMs: number
}

export type StoreErrorKind = 'conflict' | 'not_found' | 'unavailable'

/** The one error vocabulary of every adapter; anything else from a driver is a bug or an outage. */
export class StoreError extends Error {
  override readonly name = 'StoreError'
  constructor(
    readonly kind: StoreErrorKind,
    message: string,
  ) {
    super(message)
  }
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres'

  /** Creates the org, key and token of `init` only if the store has no org yet; true if it did. */
  bootstrap(init: NewOrg): Promise<boolean>
  /** Creates another org with its key and admin token (StoreError conflict on a duplicate name). */
  createOrg(init: NewOrg): Promise<void>
  listOrgs(): Promise<OrgRecord[]>
  findOrg(id: string): Promise<OrgRecord | null>
  findOrgByName(name: string): Promise<OrgRecord | null>

  insertToken(token: TokenRecord): Promise<void>
  findTokenByHash(secretHash: string): Promise<TokenRecord | null>
  /** The org's tokens ordered by created_at then id, bounded by the query. */
  listTokens(query: TokenQuery): Promise<TokenRecord[]>
  /** Counts tokens not yet revoked (expired ones included), for the per-org limit. */
  countUnrevokedTokens(orgId: string): Promise<number>
  /** Revokes a token of this org; refuses to revoke the org's last active admin token. */
  revokeToken(orgId: string, id: string, nowMs: number): Promise<RevokeOutcome>
  touchToken(id: string, nowMs: number): Promise<void>

  activeKey(orgId: string): Promise<KeyRecord>
  /** Active key first, then retired keys newest first. */
  listKeys(orgId: string): Promise<KeyRecord[]>
  /** Retires the active key and makes `key` active, in one transaction. */
  rotateKey(orgId: string, key: KeyRecord, nowMs: number): Promise<void>

  /**
   * Commits the drafts in order with consecutive, gap-free sequences under the org's lock, with
   * rt = max(nowMs, the org's last rt), all or none.
   */
  appendEvents(orgId: string, nowMs: number, drafts: readonly EventDraft[]): Promise<CommittedEvent[]>
  readEvents(query: EventQuery): Promise<StoredEvent[]>
  /** The highest committed sequence of the org (0 when it has none). */
  headSequence(orgId: string): Promise<number>
  /** Per-bucket counts of the org's matching events, ascending by bucket; empty buckets are absent. */
  countEvents(query: EventCountQuery): Promise<BucketCount[]>

  /** The org's response for an Idempotency-Key created after `expiredAtOrBeforeMs`, or null. */
  findIdempotentResponse(orgId: string, key: string, expiredAtOrBeforeMs: number): Promise<IdempotentResponse | null>
  /**
   * appendEvents guarded by an Idempotency-Key, in one transaction: when the org holds an
   * unexpired record for the key, nothing is stored and that record is returned; otherwise the
   * drafts are appended and the record (with the rendered response) is written with them, so no
   * commit ever has its events without its key. An expired record for the key is replaced.
   */
  appendEventsOnce(
    orgId: string,
    nowMs: number,
    drafts: readonly EventDraft[],
    claim: IdempotencyClaim,
  ): Promise<IdempotentAppendOutcome>
  /** Deletes at most `maxKeys` idempotency records created at or before the time; returns how many. */
  pruneIdempotencyKeys(expiredAtOrBeforeMs: number, maxKeys: number): Promise<number>

  /**
   * Deletes, in one transaction, the org's contiguous prefix of events (lowest sequences first)
   * whose rt is before `rtBeforeMs`, at most `maxEvents`. If that passes the webhook's delivery
   * cursor, the undelivered count is added to undelivered_pruned and the cursor moves to the last
   * deleted sequence, in the same transaction. The org's last sequence and rt stay as they are.
   */
  pruneEvents(orgId: string, rtBeforeMs: number, maxEvents: number): Promise<PruneOutcome>

  /** The org's webhook with its target resolved and its delivery state, or null when unconfigured. */
  getWebhook(orgId: string): Promise<ConfiguredWebhook | null>
  /**
   * Applies the change `decide` returns, in one transaction (see WebhookChange for what a target
   * change resets). A destination target of another org or none is `unknown_destination`.
   */
  updateWebhook(orgId: string, nowMs: number, decide: DecideWebhookChange): Promise<WebhookUpdate>
  /** Unconfigures the webhook, discarding its delivery state; its destination is kept. */
  deleteWebhook(orgId: string): Promise<void>
  /**
   * After a 2xx: moves the delivery cursor forward to `throughSequence` (never back, so a cursor
   * that pruning moved further stays), sets status active, clears consecutive failures and the
   * scheduled attempt, and records the attempt as the last one and the last success. Nothing
   * happens while the webhook is unconfigured.
   */
  recordDeliverySuccess(orgId: string, throughSequence: number, attempt: DeliveryAttempt): Promise<void>
  /**
   * Records a failed attempt (consecutive failures + 1, status, next attempt, last attempt), the
   * cursor kept, only while the webhook's configRevision is the failure's: a configuration change
   * made during the attempt has reset the status, and that reset wins. Returns whether it recorded.
   */
  recordDeliveryFailure(orgId: string, failure: DeliveryFailure): Promise<boolean>
  /**
   * Subscribes to committed webhook and destination changes (updateWebhook, deleteWebhook,
   * updateDestination) made through this store and, on PostgreSQL, by other replicas; returns the
   * unsubscribe function. Delivery uses it to react to a configuration change at once; the
   * operator subcommands' changes on SQLite are only seen by polling.
   */
  onWebhookChange(listener: WebhookChangeListener): () => void

  /** Inserts unless the org already has `maxPerOrg` destinations (StoreError conflict on a duplicate name). */
  insertDestination(destination: DestinationRecord, maxPerOrg: number): Promise<DestinationInsertOutcome>
  findDestination(orgId: string, id: string): Promise<DestinationRecord | null>
  /** The org's destinations ordered by created_at then id, filtered and bounded by the query. */
  listDestinations(query: DestinationQuery): Promise<DestinationRecord[]>
  /**
   * Applies the change (null = not found; StoreError conflict on a duplicate name). A change of
   * endpoint, authorization, format or TLS flag to the webhook's destination resets its delivery
   * status as a webhook target change does, in the same transaction.
   */
  updateDestination(
    orgId: string,
    id: string,
    change: DestinationChange,
    nowMs: number,
  ): Promise<DestinationRecord | null>
  /** Deletes a destination unless the webhook references it. */
  deleteDestination(orgId: string, id: string): Promise<DestinationDeleteOutcome>

  /** The org's replay job, or null before its first one. */
  getReplayJob(orgId: string): Promise<ReplayJob | null>
  /**
   * Stores a new job in `accepted`, replacing a completed or failed one, in one transaction that
   * first checks the webhook is configured and enabled, then that no job is accepted, pending or
   * running (the order of SPEC.md §5.6).
   */
  submitReplayJob(job: NewReplayJob, nowMs: number): Promise<ReplaySubmitOutcome>
  /** accepted → pending; null (nothing changed) unless the org's job is this one and accepted. */
  queueReplayJob(orgId: string, id: string, nowMs: number): Promise<ReplayJob | null>
  /**
   * pending → running, fixing the selection in the same transaction: throughSequence = the org's
   * head and total = the events of the window up to it. Null unless the job is this one and pending.
   */
  startReplayJob(orgId: string, id: string, nowMs: number): Promise<ReplayJob | null>
  /**
   * After a 2xx for a batch: the job's cursor moves to `throughSequence` (never back), `sent` grows
   * by `events` and batchesSent by one, only while this job is running. Returns whether it recorded.
   */
  recordReplayProgress(
    orgId: string,
    id: string,
    batch: { readonly throughSequence: number; readonly events: number },
    nowMs: number,
  ): Promise<boolean>
  /** Ends this job (accepted, pending or running) as completed or failed; false if it had already ended. */
  finishReplayJob(orgId: string, id: string, end: ReplayJobEnd, nowMs: number): Promise<boolean>
  /** Counts the retained events a selection still holds (pruning may have removed some). */
  countReplaySelection(selection: ReplaySelection): Promise<number>
  /**
   * Subscribes to replay jobs submitted through this store and, on PostgreSQL, by other replicas,
   * so the replay worker starts one at once; returns the unsubscribe function.
   */
  onReplayJobSubmitted(listener: ReplayJobListener): () => void

  /**
   * Subscribes to events committed by other processes sharing the store (PostgreSQL replicas,
   * through LISTEN/NOTIFY); this process's own commits are announced by its event writer. A lost
   * notification only delays the listeners until their next poll.
   */
  onEventsCommittedElsewhere(listener: HeadListener): () => void
  /**
   * Subscribes to key rotations committed by other processes sharing the store (PostgreSQL
   * replicas), so that their cached signers give way to the new active key. Nothing else rotates
   * keys beside a SQLite server.
   */
  onKeysRotatedElsewhere(listener: (orgId: string) => void): () => void

  /**
   * Takes the lease when no holder has it or its holder let it pass, or renews it for its holder,
   * until nowMs + leaseMs. False while another holder's lease runs or another replica is claiming
   * it at this moment (the claim never waits for a lock).
   */
  claimLease(claim: LeaseClaim): Promise<boolean>
  /** Gives the lease up if this holder has it, so another replica may take it at once. */
  releaseLease(orgId: string, work: LeasedWork, holder: string): Promise<void>

  /**
   * True, and the holder's count set to openHere + 1, if the org's streams on every server (other
   * holders while their lease holds, plus openHere) stay below maxPerOrg; false leaves all as it was.
   */
  claimStreamSlot(claim: StreamSlotClaim): Promise<boolean>
  /** Sets the holder's stream counts per org and renews their lease (a heartbeat, and after a close). */
  recordStreamCounts(
    holder: string,
    counts: ReadonlyArray<readonly [orgId: string, openStreams: number]>,
    nowMs: number,
    leaseMs: number,
  ): Promise<void>

  /** Throws StoreError unavailable when the store cannot serve. */
  ping(): Promise<void>
  close(): Promise<void>
}
