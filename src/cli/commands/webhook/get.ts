// Owns `webhook get` and how a webhook configuration is printed (SPEC.md §5.5). The server never
// returns the authorization, so only whether one is configured can be shown.

import { relativeTime, writeFields, writeJson } from '../../../io/output.js'
import type { OptionsOf } from '../../define-command.js'
import { defineCommand } from '../../define-command.js'
import type { Factory } from '../../factory.js'

export const definition = defineCommand({
  name: 'webhook get',
  summary: 'Show the webhook configuration (never its Authorization value)',
  args: [],
  flags: {},
  examples: ['konnect-audit webhook get', 'konnect-audit webhook get --json'],
})

/** GET /v2/audit-log-webhook; `authorization_configured` is ours, so Konnect leaves it out. */
export interface WebhookView {
  readonly endpoint: string
  readonly enabled: boolean
  readonly log_format: string
  readonly skip_ssl_verification: boolean
  readonly updated_at: string
  readonly authorization_configured?: boolean
  readonly audit_log_destination_id?: string
}

export const WEBHOOK_PATH = '/v2/audit-log-webhook'

/** The `endpoint` of an unconfigured webhook (SPEC.md §5.5). */
export const UNCONFIGURED = 'unconfigured'

const yesNo = (value: boolean) => (value ? 'yes' : 'no')

function authorizationText(configured: boolean | undefined): string {
  if (configured === undefined) return 'not reported by this server'
  return configured ? 'configured' : 'none'
}

/** The body unchanged with --json; else one field per line. */
export async function writeWebhook(f: Factory, webhook: WebhookView): Promise<void> {
  if (f.globals.json) return writeJson(f.io, webhook)
  const updated = f.io.stdoutIsTTY ? relativeTime(webhook.updated_at, Date.now()) : webhook.updated_at
  await writeFields(f.io, [
    ['Endpoint', webhook.endpoint],
    ...(webhook.audit_log_destination_id === undefined
      ? []
      : [['Destination', webhook.audit_log_destination_id] as const]),
    ['Enabled', yesNo(webhook.enabled)],
    ['Format', webhook.log_format],
    ['Skip TLS verify', yesNo(webhook.skip_ssl_verification)],
    ['Authorization', authorizationText(webhook.authorization_configured)],
    ['Updated', updated],
  ])
}

/** A next step on a terminal, never with -q. */
export function hint(f: Factory, text: string): void {
  if (f.io.stderrIsTTY && !f.globals.quiet) f.io.err(text)
}

export async function run(_options: OptionsOf<typeof definition>, f: Factory): Promise<void> {
  const api = await f.api()
  const webhook = (await api.send('GET', WEBHOOK_PATH)).json<WebhookView>()
  await writeWebhook(f, webhook)
  if (webhook.endpoint === UNCONFIGURED && webhook.audit_log_destination_id === undefined) {
    hint(f, 'The webhook is not configured: run konnect-audit webhook set --endpoint URL')
  }
}
