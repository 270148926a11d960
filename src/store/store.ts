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
  readonly limit: number
}

export type RevokeOutcome = 'revoked' | 'already_revoked' | 'not_found' | 'last_admin'

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
  /** The org's tokens ordered by created_at then id, after the given id (cursor), at most `limit`. */
  listTokens(orgId: string, afterId: string | null, limit: number): Promise<TokenRecord[]>
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

  /** Throws StoreError unavailable when the store cannot serve. */
  ping(): Promise<void>
  close(): Promise<void>
}
