// Owns `replay status` (SPEC.md §5.6, §9.5): the org's replay job as fields, or the API body with
// --json; --watch re-polls every 2 s until the job ends (a progress bar on a terminal's stderr, one
// tab-separated line per change otherwise). `replay start --wait` follows a job the same way.

import { setTimeout as delay } from 'node:timers/promises'
import { Chalk } from 'chalk'
import type { ApiClient } from '../../../api/client.js'
import { ApiError, NetworkError } from '../../../api/errors.js'
import { relativeTime, writeFields, writeJson } from '../../../io/output.js'
import type { OptionsOf } from '../../define-command.js'
import { defineCommand } from '../../define-command.js'
import type { Factory } from '../../factory.js'

export const definition = defineCommand({
  name: 'replay status',
  summary: 'Show the replay job: state, window and progress',
  args: [],
  flags: {
    watch: { kind: 'boolean', help: 'Re-poll every 2 s until the job completes or fails' },
  },
  examples: [
    'konnect-audit replay status',
    'konnect-audit replay status --watch',
    'konnect-audit replay status --json',
  ],
})

/** GET /v2/audit-log-replay-job; `progress` and `error` are ours, not Konnect's. */
export interface ReplayJob {
  readonly start_at: string
  readonly end_at: string
  readonly status: string
  readonly updated_at: string
  readonly progress?: { readonly total: number; readonly sent: number }
  readonly error?: string | null
}

/** Time as the replay commands see it; tests pass one whose sleep drives the server instead of waiting. */
export interface ReplayTiming {
  sleep(ms: number): Promise<void>
  now(): number
}

export const SYSTEM_TIMING: ReplayTiming = {
  sleep: (ms) => delay(ms),
  now: () => Date.now(),
}

export const REPLAY_JOB_PATH = '/v2/audit-log-replay-job'
const POLL_INTERVAL_MS = 2000
const BAR_WIDTH = 24

/** States after which nothing changes until a new PUT; `unconfigured` = there is no job to follow. */
const TERMINAL = new Set(['completed', 'failed', 'unconfigured'])

export async function fetchJob(api: ApiClient): Promise<ReplayJob> {
  return (await api.send('GET', REPLAY_JOB_PATH)).json<ReplayJob>()
}

const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`

function percentOf(progress: { total: number; sent: number }): number {
  return progress.total === 0 ? 100 : Math.floor((progress.sent / progress.total) * 100)
}

function progressText(job: ReplayJob): string {
  const { progress } = job
  if (progress === undefined) return 'not reported by this server'
  if (job.status === 'accepted' || job.status === 'pending') return 'not started yet'
  return `${progress.sent} of ${plural(progress.total, 'event')} sent (${percentOf(progress)}%)`
}

function meaning(job: ReplayJob): string {
  switch (job.status) {
    case 'unconfigured':
      return 'no replay job has run yet'
    case 'accepted':
      return 'accepted: waiting for the server to queue it'
    case 'pending':
      return 'queued: starting shortly'
    case 'running':
      return 'sending the selected events to the webhook'
    case 'completed':
      return 'every selected event was acknowledged by the webhook'
    case 'failed':
      return 'stopped before every selected event was acknowledged'
    default:
      return job.status
  }
}

function statusColor(status: string, chalk: InstanceType<typeof Chalk>): (text: string) => string {
  if (status === 'completed') return chalk.green
  if (status === 'failed') return chalk.red
  return status === 'unconfigured' ? chalk.dim : chalk.yellow
}

/** The job as `key: value` lines (tab-separated without a terminal). */
export async function writeJob(f: Factory, job: ReplayJob): Promise<void> {
  const time = (iso: string) => (f.io.stdoutIsTTY ? relativeTime(iso, Date.now()) : iso)
  const chalk = new Chalk({ level: f.io.stdoutIsTTY && f.globals.color ? 1 : 0 })
  const fields: Array<readonly [string, string]> = [
    ['Status', statusColor(job.status, chalk)(job.status)],
    ['Meaning', meaning(job)],
  ]
  if (job.status !== 'unconfigured') {
    fields.push(
      ['Start', job.start_at],
      ['End', job.end_at],
      ['Progress', progressText(job)],
      ['Updated', time(job.updated_at)],
    )
  }
  if (typeof job.error === 'string') fields.push(['Error', job.error])
  await writeFields(f.io, fields)
}

/** `updated_at status sent total error`, tab-separated: one line per change for scripts. */
function changeLine(job: ReplayJob): string {
  const { progress } = job
  return `${[job.updated_at, job.status, progress?.sent ?? '', progress?.total ?? '', job.error ?? ''].join('\t')}\n`
}

/** A one-line progress bar on a terminal's stderr; nothing otherwise, with -q or with --json. */
function progressBar(f: Factory): { update(job: ReplayJob): void; clear(): void } {
  const shown = f.io.stderrIsTTY && !f.globals.quiet && !f.globals.json
  let drawn = false
  return {
    update: (job) => {
      if (!shown) return
      drawn = true
      const { progress } = job
      let text = `Replay ${job.status}`
      if (progress !== undefined && job.status === 'running') {
        const filled = Math.round((percentOf(progress) / 100) * BAR_WIDTH)
        text = `Replaying [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${progress.sent}/${progress.total} events (${percentOf(progress)}%)`
      }
      f.io.errStream.write(`\r\x1b[K${text}`)
    },
    clear: () => {
      if (drawn) f.io.errStream.write('\r\x1b[K')
      drawn = false
    },
  }
}

export interface FollowOptions {
  /** Print one line per change on stdout (status --watch without a terminal). */
  readonly changeLines: boolean
}

/** How long a follow keeps polling a server that cannot be reached or answers 502–504 (a restart). */
const OUTAGE_TOLERANCE_MS = 60_000

function isOutage(error: unknown): boolean {
  return error instanceof NetworkError || (error instanceof ApiError && error.status >= 502 && error.status <= 504)
}

/**
 * Polls every 2 s from `job` until it is completed or failed (or there is none); returns the last
 * state. A server that restarts meanwhile does not end the wait: polls go on for up to a minute.
 */
export async function followJob(
  api: ApiClient,
  f: Factory,
  timing: ReplayTiming,
  first: ReplayJob,
  options: FollowOptions,
): Promise<ReplayJob> {
  const bar = progressBar(f)
  let job = first
  let lastLine: string | null = null
  let lostAtMs: number | null = null
  const poll = async (): Promise<void> => {
    try {
      job = await fetchJob(api)
      lostAtMs = null
    } catch (error) {
      if (!isOutage(error) || (lostAtMs !== null && timing.now() - lostAtMs >= OUTAGE_TOLERANCE_MS)) throw error
      if (lostAtMs === null && !f.globals.quiet) {
        bar.clear()
        f.io.err(`Warning: ${(error as Error).message}; still following the job for up to a minute`)
      }
      lostAtMs ??= timing.now()
    }
  }
  try {
    for (;;) {
      bar.update(job)
      const line = changeLine(job)
      // updated_at changes with every commit, so a line is printed only when what it shows changed.
      const shown = line.slice(line.indexOf('\t'))
      if (options.changeLines && shown !== lastLine) await f.io.out(line)
      lastLine = shown
      if (TERMINAL.has(job.status)) return job
      await timing.sleep(POLL_INTERVAL_MS)
      await poll()
    }
  } finally {
    bar.clear()
  }
}

export async function run(
  options: OptionsOf<typeof definition>,
  f: Factory,
  timing: ReplayTiming = SYSTEM_TIMING,
): Promise<void> {
  const api = await f.api()
  let job = await fetchJob(api)
  if (options.watch === true) {
    const changeLines = !f.io.stdoutIsTTY && !f.globals.json
    job = await followJob(api, f, timing, job, { changeLines })
    if (changeLines) return
  }
  if (f.globals.json) return writeJson(f.io, job)
  await writeJob(f, job)
}
