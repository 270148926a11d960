// Owns the webhook configuration rules (SPEC.md §5.5, §5.8): the v2 and v3 views, the PATCH
// decisions (made against the current webhook inside the store's transaction), the status with
// its lag, and the endpoint and authorization checks destinations share. No view carries an
// authorization, and none is ever logged.

import type { Static } from 'typebox'
import { serverTime } from '../../contract/common.js'
import type { PatchV3WebhookBody, PatchWebhookBody } from '../../contract/webhook.js'
import type { Rule } from '../../core/problem-fields.js'
import type {
  ConfiguredWebhook,
  DecideWebhookChange,
  EndpointSettings,
  Store,
  WebhookChange,
  WebhookDelivery,
} from '../../store/store.js'
import { addressNotAllowedReason, checkEndpointAtConfigTime, checkEndpointUrl } from '../outbound/endpoint-policy.js'
import type { InvalidParameter } from '../problem.js'
import { badRequest, ProblemError } from '../problem.js'

type WebhookPatch = Static<typeof PatchWebhookBody>
type V3WebhookPatch = Static<typeof PatchV3WebhookBody>

/** What a PATCH needs besides its body: the endpoint policy switch and the request time. */
export interface PatchContext {
  readonly allowInsecureEndpoints: boolean
  readonly nowMs: number
}

const AUTHORIZATION_MAX_BYTES = 4096
const PRINTABLE_ASCII_SPACE_TAB = /^[\t\x20-\x7e]*$/
/** Any-case UUID text; ids are stored lower-case, so callers lower-case before looking one up. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Where a v2 PATCH that switches to inline mode starts: Konnect's defaults (SPEC.md §5.5). */
const DEFAULT_INLINE: Omit<EndpointSettings, 'endpoint'> = {
  authorization: null,
  logFormat: 'cef',
  skipSslVerification: false,
}

const UNCONFIGURED_VIEW = {
  endpoint: 'unconfigured',
  enabled: false,
  log_format: 'cef',
  skip_ssl_verification: false,
  updated_at: serverTime(null),
  authorization_configured: false,
} as const

function invalid(field: string, reason: string, rule: Rule = 'invalid'): InvalidParameter {
  return { field, rule, reason, source: 'body' }
}

function blank(field: string): InvalidParameter {
  return invalid(field, 'cannot be blank', 'required')
}

/** SPEC.md §6.6 at configuration time: URL rules, then the address rules (a DNS failure passes). */
async function endpointProblem(text: string, allowInsecure: boolean): Promise<InvalidParameter | null> {
  if (text.trim() === '') return blank('endpoint')
  const urlCheck = checkEndpointUrl(text, { allowInsecure })
  if (!urlCheck.ok) {
    const { reason, maximumBytes } = urlCheck
    if (maximumBytes === undefined) return invalid('endpoint', reason)
    return { ...invalid('endpoint', reason, 'max_length'), maximum: maximumBytes }
  }
  const addressCheck = await checkEndpointAtConfigTime(urlCheck.url, { allowInsecure })
  return addressCheck.ok ? null : invalid('endpoint', addressNotAllowedReason(addressCheck.refused))
}

/** SPEC.md §5.1: 1–4096 B of printable ASCII, space or tab, not only spaces and tabs. */
function authorizationProblem(value: string): InvalidParameter | null {
  if (!PRINTABLE_ASCII_SPACE_TAB.test(value)) {
    return invalid('authorization', 'must contain only printable ASCII characters, spaces and tabs')
  }
  if (value.trim() === '') return blank('authorization')
  if (value.length > AUTHORIZATION_MAX_BYTES) {
    return {
      ...invalid('authorization', `must be at most ${AUTHORIZATION_MAX_BYTES} bytes`, 'max_length'),
      maximum: AUTHORIZATION_MAX_BYTES,
    }
  }
  return null
}

/** The problems of whichever endpoint settings are given; a null authorization (removal) has none. */
export async function endpointSettingsProblems(
  fields: { readonly endpoint?: string; readonly authorization?: string | null },
  allowInsecure: boolean,
): Promise<InvalidParameter[]> {
  const endpoint = fields.endpoint === undefined ? null : await endpointProblem(fields.endpoint, allowInsecure)
  const authorization =
    fields.authorization === undefined || fields.authorization === null
      ? null
      : authorizationProblem(fields.authorization)
  return [endpoint, authorization].filter((problem) => problem !== null)
}

function effectiveSettings(webhook: ConfiguredWebhook): EndpointSettings {
  return webhook.target.mode === 'inline' ? webhook.target.settings : webhook.target.destination
}

/** GET /v2/audit-log-webhook. In destination mode the destination's settings, and its time if newer. */
export function webhookView(webhook: ConfiguredWebhook | null) {
  if (webhook === null) return UNCONFIGURED_VIEW
  const { target } = webhook
  const settings = effectiveSettings(webhook)
  const updatedAt =
    target.mode === 'destination' ? Math.max(webhook.updatedAt, target.destination.updatedAt) : webhook.updatedAt
  return {
    endpoint: settings.endpoint,
    enabled: webhook.enabled,
    log_format: settings.logFormat,
    skip_ssl_verification: settings.skipSslVerification,
    updated_at: serverTime(updatedAt),
    authorization_configured: settings.authorization !== null,
    ...(target.mode === 'destination' ? { audit_log_destination_id: target.destination.id } : {}),
  }
}

/** The v3 view: the destination reference only in destination mode (SPEC.md §5.8). */
function v3WebhookView(webhook: ConfiguredWebhook | null) {
  const enabled = webhook?.enabled ?? false
  if (webhook?.target.mode !== 'destination') return { enabled }
  return { audit_log_destination_id: webhook.target.destination.id, enabled }
}

export async function v3Webhook(store: Store, orgId: string) {
  const webhook = await store.getWebhook(orgId)
  if (webhook?.target.mode !== 'destination') {
    throw new ProblemError(404, 'The audit log webhook is not configured with a destination')
  }
  return v3WebhookView(webhook)
}

function enabledOf(patch: { readonly enabled?: boolean }): { enabled?: boolean } {
  return patch.enabled === undefined ? {} : { enabled: patch.enabled }
}

/** Inline settings after a v2 PATCH: given fields over the current inline ones, else over the defaults. */
function mergedInline(current: ConfiguredWebhook | null, patch: WebhookPatch, endpoint: string): EndpointSettings {
  const base = current?.target.mode === 'inline' ? current.target.settings : { endpoint, ...DEFAULT_INLINE }
  return {
    endpoint,
    authorization: patch.authorization === undefined ? base.authorization : patch.authorization,
    logFormat: patch.log_format ?? base.logFormat,
    skipSslVerification: patch.skip_ssl_verification ?? base.skipSslVerification,
  }
}

const DESTINATION_OWNED_FIELDS = ['authorization', 'log_format', 'skip_ssl_verification'] as const

function useDestinationInstead(field: string, destinationId: string): InvalidParameter {
  return invalid(
    field,
    `cannot be changed while the webhook uses destination ${destinationId}; update the destination instead (PATCH /v3/audit-log-destinations/${destinationId}), or give endpoint to switch to an inline webhook`,
  )
}

function enabledChange(patch: { readonly enabled?: boolean }): WebhookChange | null {
  return patch.enabled === undefined ? null : { enabled: patch.enabled }
}

/** The SPEC.md §5.5 PATCH rules; throws the 400s that depend on the current mode. */
function decideV2Change(current: ConfiguredWebhook | null, patch: WebhookPatch): WebhookChange | null {
  const settingFields = DESTINATION_OWNED_FIELDS.filter((field) => patch[field] !== undefined)
  if (patch.endpoint !== undefined) {
    return { target: { mode: 'inline', settings: mergedInline(current, patch, patch.endpoint) }, ...enabledOf(patch) }
  }
  if (current === null) {
    // `{}` and `{"enabled":false}` leave an unconfigured webhook as it is.
    if (settingFields.length === 0 && patch.enabled !== true) return null
    throw badRequest([blank('endpoint')])
  }
  if (current.target.mode === 'destination') {
    const destinationId = current.target.destination.id
    if (settingFields.length > 0) {
      throw badRequest(settingFields.map((field) => useDestinationInstead(field, destinationId)))
    }
    return enabledChange(patch)
  }
  if (settingFields.length === 0) return enabledChange(patch)
  const settings = mergedInline(current, patch, current.target.settings.endpoint)
  return { target: { mode: 'inline', settings }, ...enabledOf(patch) }
}

/** Runs `decide` in the store's transaction; a reference to a destination the org lacks is a 400. */
async function applyChange(
  store: Store,
  orgId: string,
  nowMs: number,
  decide: DecideWebhookChange,
): Promise<ConfiguredWebhook | null> {
  const update = await store.updateWebhook(orgId, nowMs, decide)
  if (update.outcome === 'unknown_destination') throw badRequest([missingDestination()])
  return update.webhook
}

export async function patchV2Webhook(store: Store, orgId: string, patch: WebhookPatch, context: PatchContext) {
  const problems = await endpointSettingsProblems(patch, context.allowInsecureEndpoints)
  if (problems.length > 0) throw badRequest(problems)
  return webhookView(await applyChange(store, orgId, context.nowMs, (current) => decideV2Change(current, patch)))
}

/** SPEC.md §5.8: an id selects destination mode; `enabled` alone toggles the flag in any mode. */
function decideV3Change(current: ConfiguredWebhook | null, patch: V3WebhookPatch): WebhookChange | null {
  const destinationId = patch.audit_log_destination_id?.toLowerCase()
  if (destinationId !== undefined) return { target: { mode: 'destination', destinationId }, ...enabledOf(patch) }
  if (current === null && patch.enabled === true) throw badRequest([blank('audit_log_destination_id')])
  return current === null || patch.enabled === undefined ? null : { enabled: patch.enabled }
}

function missingDestination(): InvalidParameter {
  return {
    field: 'audit_log_destination_id',
    rule: 'missing_reference',
    reason: 'does not reference an existing destination',
    source: 'body',
  }
}

export async function patchV3Webhook(store: Store, orgId: string, patch: V3WebhookPatch, nowMs: number) {
  const id = patch.audit_log_destination_id
  if (id !== undefined && !UUID_PATTERN.test(id)) {
    throw badRequest([invalid('audit_log_destination_id', 'destination id format is invalid', 'is_uuid')])
  }
  return v3WebhookView(await applyChange(store, orgId, nowMs, (current) => decideV3Change(current, patch)))
}

/** The `last_*` members, omitted before the first attempt (SPEC.md §5.5). */
function lastAttemptView(delivery: WebhookDelivery) {
  const { lastAttempt } = delivery
  if (lastAttempt === null) return {}
  return {
    last_attempt_at: serverTime(lastAttempt.atMs),
    last_response_code: lastAttempt.responseCode,
    last_response_message: lastAttempt.responseMessage,
    last_success_at: serverTime(delivery.lastSuccessAt),
  }
}

/** Whole seconds since the commit (rt) of the oldest undelivered event; 0 when there is none. */
async function lagSeconds(store: Store, orgId: string, deliveredSequence: number, head: number, nowMs: number) {
  if (head <= deliveredSequence) return 0
  const [oldest] = await store.readEvents({ orgId, afterSequence: deliveredSequence, throughSequence: head, limit: 1 })
  return oldest === undefined ? 0 : Math.max(0, Math.floor((nowMs - oldest.rt) / 1000))
}

/** GET /v{2,3}/audit-log-webhook/status. The webhook is read first, so head ≥ the cursor read. */
export async function webhookStatus(store: Store, orgId: string, nowMs: number) {
  const webhook = await store.getWebhook(orgId)
  const head = await store.headSequence(orgId)
  if (webhook === null) {
    return {
      webhook_enabled: false,
      webhook_status: 'unconfigured',
      next_attempt_at: null,
      consecutive_failures: 0,
      delivered_sequence: 0,
      head_sequence: head,
      lag_events: 0,
      lag_seconds: 0,
      undelivered_pruned: 0,
    } as const
  }
  const { delivery } = webhook
  const delivered = delivery.deliveredSequence
  return {
    webhook_enabled: webhook.enabled,
    webhook_status: delivery.status,
    ...lastAttemptView(delivery),
    // Paused, nothing is scheduled, whatever was planned before the pause (SPEC.md §5.5).
    next_attempt_at: webhook.enabled && delivery.nextAttemptAt !== null ? serverTime(delivery.nextAttemptAt) : null,
    consecutive_failures: delivery.consecutiveFailures,
    delivered_sequence: delivered,
    head_sequence: head,
    lag_events: Math.max(0, head - delivered),
    lag_seconds: await lagSeconds(store, orgId, delivered, head, nowMs),
    undelivered_pruned: delivery.undeliveredPruned,
  }
}
