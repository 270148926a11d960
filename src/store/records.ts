// Owns the dialect-neutral pieces of the adapters: records built from rows whose columns both
// schemas share, the decisions taken between two statements, and the errors both raise the same way.

import type {
  DeliveryAttempt,
  DestinationChange,
  EventQuery,
  ReplayJob,
  ReplaySubmitOutcome,
  WebhookDelivery,
  WebhookStatus,
} from './store.js'
import { ACTIVE_REPLAY_STATUSES, StoreError } from './store.js'

export function orgNotFound(orgId: string): StoreError {
  return new StoreError('not_found', `Unknown org ${orgId}`)
}

/** The schema's CHECK constraints make this unreachable; it narrows a webhook row's nullable columns. */
export function inconsistentWebhook(orgId: string): Error {
  return new Error(`The webhook row of org ${orgId} breaks its mode's constraints`)
}

/** A webhook row's delivery-state columns, named as the records name them. */
export interface DeliveryColumns {
  readonly deliveredSequence: number
  readonly status: WebhookStatus
  readonly lastAttemptAt: number | null
  readonly lastResponseCode: number | null
  readonly lastResponseMessage: string | null
  readonly lastSuccessAt: number | null
  readonly nextAttemptAt: number | null
  readonly consecutiveFailures: number
  readonly undeliveredPruned: number
  readonly configRevision: number
}

export function deliveryOf(row: DeliveryColumns): WebhookDelivery {
  const { lastAttemptAt, lastResponseCode, lastResponseMessage } = row
  const attempted = lastAttemptAt !== null && lastResponseCode !== null && lastResponseMessage !== null
  const lastAttempt: DeliveryAttempt | null = attempted
    ? { atMs: lastAttemptAt, responseCode: lastResponseCode, responseMessage: lastResponseMessage }
    : null
  return {
    deliveredSequence: row.deliveredSequence,
    status: row.status,
    lastAttempt,
    lastSuccessAt: row.lastSuccessAt,
    nextAttemptAt: row.nextAttemptAt,
    consecutiveFailures: row.consecutiveFailures,
    undeliveredPruned: row.undeliveredPruned,
    configRevision: row.configRevision,
  }
}

/** Whether a destination change alters what the webhook sends or where, as opposed to only its name. */
export function changesDelivery(change: DestinationChange): boolean {
  const { endpoint, authorization, logFormat, skipSslVerification } = change
  return [endpoint, authorization, logFormat, skipSslVerification].some((value) => value !== undefined)
}

/**
 * The highest sequence a read may return. The "before" bound goes into the range the primary key
 * is searched with: left as its own optional condition, a backward read would walk down from the
 * head to it (O(store) per page).
 */
export function readThroughSequence(query: EventQuery): number {
  return query.beforeSequence === undefined
    ? query.throughSequence
    : Math.min(query.throughSequence, query.beforeSequence - 1)
}

/**
 * SPEC.md §5.6's order for a new replay job: the webhook must be configured and enabled, then no
 * job may be active. Null = the job may be stored.
 */
export function replaySubmitRefusal(webhookEnabled: boolean, current: ReplayJob | null): ReplaySubmitOutcome | null {
  if (!webhookEnabled) return { outcome: 'webhook_unavailable' }
  if (current !== null && ACTIVE_REPLAY_STATUSES.includes(current.status))
    return { outcome: 'job_active', job: current }
  return null
}

/** Whether revoking the token could leave the org without an admin able to sign in. */
export function isActiveAdmin(
  token: { readonly role: string; readonly expiresAt: number | null },
  nowMs: number,
): boolean {
  return token.role === 'admin' && (token.expiresAt === null || token.expiresAt > nowMs)
}
