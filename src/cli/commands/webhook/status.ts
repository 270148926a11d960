// Owns `webhook status` (SPEC.md §5.5): the delivery status, what the enabled × status pair means
// in words, and the lag as "N events, T behind". --json prints the API body unchanged.

import { Chalk } from 'chalk'
import { relativeTime, writeFields, writeJson } from '../../../io/output.js'
import type { OptionsOf } from '../../define-command.js'
import { defineCommand } from '../../define-command.js'
import type { Factory } from '../../factory.js'

export const definition = defineCommand({
  name: 'webhook status',
  summary: 'Show delivery status, last attempt and lag',
  args: [],
  flags: {},
  examples: ['konnect-audit webhook status', 'konnect-audit webhook status --json'],
})

/** GET /v2/audit-log-webhook/status; the members after `last_response_message` are ours, not Konnect's. */
interface WebhookStatus {
  readonly webhook_enabled: boolean
  readonly webhook_status: string
  readonly last_attempt_at?: string
  readonly last_response_code?: number
  readonly last_response_message?: string
  readonly last_success_at?: string
  readonly next_attempt_at?: string | null
  readonly consecutive_failures?: number
  readonly delivered_sequence?: number
  readonly head_sequence?: number
  readonly lag_events?: number
  readonly lag_seconds?: number
  readonly undelivered_pruned?: number
}

const UNITS: ReadonlyArray<readonly [string, number]> = [
  ['d', 86_400],
  ['h', 3_600],
  ['m', 60],
  ['s', 1],
]

/** Whole seconds in at most two units, in duration syntax: `45s`, `19m29s`, `3h`, `2d4h`. */
function humanSeconds(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds))
  const index = UNITS.findIndex(([, size]) => total >= size)
  const major = UNITS[index]
  if (major === undefined) return '0s'
  const minor = UNITS[index + 1]
  const minorAmount = minor === undefined ? 0 : Math.floor((total % major[1]) / minor[1])
  return `${Math.floor(total / major[1])}${major[0]}${minor !== undefined && minorAmount > 0 ? `${minorAmount}${minor[0]}` : ''}`
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}

/** The SPEC.md §5.5 table, narrowed by the last attempt where the table lists several causes. */
function meaning(status: WebhookStatus): string {
  if (status.webhook_status === 'unconfigured') return 'not configured: nothing is delivered'
  if (!status.webhook_enabled) {
    return `disabled (paused): nothing is sent and the cursor is kept; the last outcome was ${status.webhook_status}`
  }
  if (status.webhook_status === 'inactive') {
    return 'failing: the last batch exhausted its retries or got a non-retryable answer; probing continues'
  }
  const failures = status.consecutive_failures ?? 0
  if (failures > 0) return `retrying: quick retries after ${plural(failures, 'failed attempt')}`
  if (status.last_attempt_at === undefined) return 'enabled: no delivery attempted yet'
  return 'delivering: the last attempt succeeded'
}

function lagText(status: WebhookStatus): string {
  if (status.lag_events === undefined || status.lag_seconds === undefined) return 'not reported by this server'
  return `${plural(status.lag_events, 'event')}, ${humanSeconds(status.lag_seconds)} behind`
}

/** Code 0 means no HTTP answer; the message then says what failed (SPEC.md §5.5). */
function outcomeText(status: WebhookStatus): string {
  const message = status.last_response_message ?? ''
  if (status.last_response_code === 0) return message
  return `HTTP ${status.last_response_code ?? '?'}${message === '' ? '' : ` ${message}`}`
}

function statusColor(status: WebhookStatus, chalk: InstanceType<typeof Chalk>): (text: string) => string {
  if (status.webhook_status === 'unconfigured') return chalk.dim
  if (!status.webhook_enabled) return chalk.yellow
  return status.webhook_status === 'active' ? chalk.green : chalk.red
}

function fieldsOf(status: WebhookStatus, f: Factory): Array<readonly [string, string]> {
  const time = (iso: string) => (f.io.stdoutIsTTY ? relativeTime(iso, Date.now()) : iso)
  const chalk = new Chalk({ level: f.io.stdoutIsTTY && f.globals.color ? 1 : 0 })
  const fields: Array<readonly [string, string]> = [
    ['Status', statusColor(status, chalk)(status.webhook_status)],
    ['Enabled', status.webhook_enabled ? 'yes' : 'no'],
    ['Meaning', meaning(status)],
    ['Lag', lagText(status)],
  ]
  if (status.delivered_sequence !== undefined && status.head_sequence !== undefined) {
    fields.push(['Delivered', `sequence ${status.delivered_sequence} of ${status.head_sequence}`])
  }
  if (status.last_attempt_at !== undefined) {
    fields.push(['Last attempt', `${time(status.last_attempt_at)}: ${outcomeText(status)}`])
  }
  if (status.last_success_at !== undefined) fields.push(['Last success', time(status.last_success_at)])
  if (status.next_attempt_at !== undefined) {
    fields.push(['Next attempt', status.next_attempt_at === null ? 'none scheduled' : time(status.next_attempt_at)])
  }
  if (status.consecutive_failures !== undefined) {
    fields.push(['Failures in a row', String(status.consecutive_failures)])
  }
  if (status.undelivered_pruned !== undefined) {
    fields.push(['Pruned before delivery', plural(status.undelivered_pruned, 'event')])
  }
  return fields
}

export async function run(_options: OptionsOf<typeof definition>, f: Factory): Promise<void> {
  const api = await f.api()
  const status = (await api.send('GET', '/v2/audit-log-webhook/status')).json<WebhookStatus>()
  if (f.globals.json) return writeJson(f.io, status)
  await writeFields(f.io, fieldsOf(status, f))
}
