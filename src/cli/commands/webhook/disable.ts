// Owns `webhook disable`: pauses delivery; the cursor is kept, so enabling resumes where it
// stopped (SPEC.md §6.4).

import type { OptionsOf } from '../../define-command.js'
import { defineCommand } from '../../define-command.js'
import type { Factory } from '../../factory.js'
import { setWebhookEnabled } from './enable.js'

export const definition = defineCommand({
  name: 'webhook disable',
  summary: 'Pause delivery to the webhook (nothing is lost; enable resumes)',
  args: [],
  flags: {},
  examples: ['konnect-audit webhook disable'],
})

export async function run(_options: OptionsOf<typeof definition>, f: Factory): Promise<void> {
  await setWebhookEnabled(f, false)
}
