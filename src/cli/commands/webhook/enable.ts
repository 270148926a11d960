// Owns `webhook enable` and the toggle `webhook disable` shares: one v2 PATCH of `enabled` alone,
// which keeps every other setting, in inline and destination mode alike (SPEC.md §5.5).

import { ApiError } from '../../../api/errors.js'
import type { OptionsOf } from '../../define-command.js'
import { defineCommand } from '../../define-command.js'
import { CliError } from '../../errors.js'
import type { Factory } from '../../factory.js'
import type { WebhookView } from './get.js'
import { WEBHOOK_PATH, writeWebhook } from './get.js'

export const definition = defineCommand({
  name: 'webhook enable',
  summary: 'Start (or resume) delivery to the webhook',
  args: [],
  flags: {},
  examples: ['konnect-audit webhook enable'],
})

/** The server's 400 for enabling an unconfigured webhook names `endpoint` (SPEC.md §5.5). */
function isUnconfigured(error: unknown): boolean {
  return (
    error instanceof ApiError &&
    error.status === 400 &&
    (error.problem?.invalid_parameters ?? []).some((parameter) => parameter.field === 'endpoint')
  )
}

export async function setWebhookEnabled(f: Factory, enabled: boolean): Promise<void> {
  const api = await f.api()
  let webhook: WebhookView
  try {
    webhook = (await api.send('PATCH', WEBHOOK_PATH, { body: { enabled } })).json<WebhookView>()
  } catch (error) {
    // With --json the problem body goes to stderr unchanged; people get the next step instead.
    if (!f.globals.json && isUnconfigured(error)) {
      throw new CliError(
        'the webhook is not configured yet: run konnect-audit webhook set --endpoint URL (or --destination NAME) first',
      )
    }
    throw error
  }
  await writeWebhook(f, webhook)
}

export async function run(_options: OptionsOf<typeof definition>, f: Factory): Promise<void> {
  await setWebhookEnabled(f, true)
}
