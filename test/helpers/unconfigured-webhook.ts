// The exact body of GET /v2|v3/audit-log-webhook before any configuration (SPEC.md §5.5), as the
// server writes it and as a parsed object, for the tests that expect it.

export const UNCONFIGURED_WEBHOOK_BODY =
  '{"endpoint":"unconfigured","enabled":false,"log_format":"cef","skip_ssl_verification":false,"updated_at":"0001-01-01T00:00:00Z","authorization_configured":false}'

export const UNCONFIGURED_WEBHOOK: Readonly<Record<string, unknown>> = JSON.parse(UNCONFIGURED_WEBHOOK_BODY)
