// Owns the request and response bodies of the webhook routes (SPEC.md §5.5, §5.8). Response
// schemas list every member, so the serializer drops anything else: `authorization` cannot leak.

import { Type } from 'typebox'
import { ServerTime, Uuid } from './common.js'

export const LogFormatField = Type.Enum(['cef', 'json', 'cps'])

/** One `type` keyword rather than anyOf, so a wrong value is one `invalid_parameters` entry. */
export const NullableString = Type.Unsafe<string | null>({ type: ['string', 'null'] })

export const PatchWebhookBody = Type.Object(
  {
    endpoint: Type.Optional(Type.String()),
    /** null removes it. Checked by the service, whose reasons name the rule broken. */
    authorization: Type.Optional(NullableString),
    enabled: Type.Optional(Type.Boolean()),
    log_format: Type.Optional(LogFormatField),
    skip_ssl_verification: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
)

export const WebhookBody = Type.Object(
  {
    endpoint: Type.String(),
    enabled: Type.Boolean(),
    log_format: LogFormatField,
    skip_ssl_verification: Type.Boolean(),
    updated_at: ServerTime,
    authorization_configured: Type.Boolean(),
    audit_log_destination_id: Type.Optional(Uuid),
  },
  { additionalProperties: false },
)

export const WebhookStatusBody = Type.Object(
  {
    webhook_enabled: Type.Boolean(),
    webhook_status: Type.Enum(['unconfigured', 'active', 'inactive']),
    last_attempt_at: Type.Optional(ServerTime),
    last_response_code: Type.Optional(Type.Integer()),
    last_response_message: Type.Optional(Type.String()),
    last_success_at: Type.Optional(ServerTime),
    next_attempt_at: NullableString,
    consecutive_failures: Type.Integer(),
    delivered_sequence: Type.Integer(),
    head_sequence: Type.Integer(),
    lag_events: Type.Integer(),
    lag_seconds: Type.Integer(),
    undelivered_pruned: Type.Integer(),
  },
  { additionalProperties: false },
)

export const PatchV3WebhookBody = Type.Object(
  {
    /** A plain string: the service answers a malformed id with Konnect's own reason. */
    audit_log_destination_id: Type.Optional(Type.String()),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
)

export const V3WebhookBody = Type.Object(
  {
    audit_log_destination_id: Type.Optional(Uuid),
    enabled: Type.Boolean(),
  },
  { additionalProperties: false },
)

const WebhookCandidate = {
  type: ['object', 'null'],
  properties: {
    endpoint: { type: 'string' },
    authorization: { type: ['string', 'null'] },
    log_format: LogFormatField,
    skip_ssl_verification: { type: 'boolean' },
  },
  additionalProperties: false,
} as const

/**
 * POST /v2/audit-log-webhook/test: a candidate to test, or no body (or `{}`) for the stored
 * configuration (SPEC.md §5.5). `null` is what Fastify validates when no body was sent.
 */
export const TestWebhookBody = Type.Unsafe<{
  endpoint?: string
  authorization?: string | null
  log_format?: 'cef' | 'json' | 'cps'
  skip_ssl_verification?: boolean
} | null>(WebhookCandidate)

const TestCertificate = Type.Object(
  { subject: Type.String(), issuer: Type.String(), not_after: NullableString },
  { additionalProperties: false },
)

const TestTls = Type.Object(
  {
    protocol: NullableString,
    verified: Type.Boolean(),
    skipped: Type.Boolean(),
    error: NullableString,
    certificate: Type.Union([TestCertificate, Type.Null()]),
  },
  { additionalProperties: false },
)

/** The outcome of the one test attempt, whatever the receiver said (SPEC.md §5.5). */
export const WebhookTestResultBody = Type.Object(
  {
    ok: Type.Boolean(),
    endpoint: Type.String(),
    log_format: LogFormatField,
    trace_id: Type.String(),
    response_code: Type.Integer(),
    response_message: Type.String(),
    latency_ms: Type.Integer(),
    tls: Type.Union([TestTls, Type.Null()]),
    error: NullableString,
  },
  { additionalProperties: false },
)
