// Owns `replay start` (SPEC.md §9.5): turns --since or --start/--end into a window, checks
// start < end ≤ now locally, then PUTs the replay job (409 exits 5). --wait follows the job to its
// end (exit 1 if it failed); --dry-run only shows how many events the window holds per hour.

import type { ApiClient } from '../../../api/client.js'
import { ApiError } from '../../../api/errors.js'
import type { Column } from '../../../io/output.js'
import { writeJson, writeRows } from '../../../io/output.js'
import { formatUtcSeconds } from '../../../util/rfc3339.js'
import type { OptionsOf } from '../../define-command.js'
import { defineCommand } from '../../define-command.js'
import { CliError, UsageError } from '../../errors.js'
import type { Factory } from '../../factory.js'
import { windowChoiceOf } from '../../time-window.js'
import type { ReplayJob, ReplayTiming } from './status.js'
import { followJob, REPLAY_JOB_PATH, SYSTEM_TIMING, writeJob } from './status.js'

export const definition = defineCommand({
  name: 'replay start',
  summary: 'Re-send stored events from a time window to the webhook',
  args: [],
  flags: {
    since: { kind: 'string', placeholder: 'duration', help: 'Window ending now, e.g. 24h' },
    start: { kind: 'string', placeholder: 'time', help: 'Window start (RFC 3339); needs --end' },
    end: { kind: 'string', placeholder: 'time', help: 'Window end (RFC 3339, not in the future); needs --start' },
    wait: { kind: 'boolean', help: 'Block until the job completes (exit 0) or fails (exit 1)' },
    dryRun: { kind: 'boolean', help: 'Only show the event count per hour of the window; start nothing' },
  },
  examples: [
    'konnect-audit replay start --since 24h --wait',
    'konnect-audit replay start --start 2026-11-25T09:00:00Z --end 2026-11-26T09:00:00Z',
    'konnect-audit replay start --since 7d --dry-run',
  ],
})

type Options = OptionsOf<typeof definition>

interface Window {
  readonly startMs: number
  readonly endMs: number
}

const COUNTS_PATH = '/v3/audit-logs/counts'
const HOUR_MS = 3_600_000
/** The server counts at most this many buckets per request (SPEC.md §5.9a). */
const MAX_BUCKETS = 10_000

/** UTC, whole seconds: what the server stores and echoes (it truncates a fraction anyway). */

/** The window of --since (ending now) or --start/--end, checked as start < end ≤ now. */
function windowOf(options: Options, nowMs: number): Window {
  const nowSecondsMs = Math.floor(nowMs / 1000) * 1000
  const choice = windowChoiceOf(options)
  const toSeconds = (ms: number) => Math.floor(ms / 1000) * 1000
  const window: Window =
    choice.kind === 'since'
      ? { startMs: nowSecondsMs - choice.sinceMs, endMs: nowSecondsMs }
      : { startMs: toSeconds(choice.startMs), endMs: toSeconds(choice.endMs) }
  if (window.startMs >= window.endMs) {
    throw new UsageError(
      `the window start ${formatUtcSeconds(window.startMs)} must be before its end ${formatUtcSeconds(window.endMs)}`,
    )
  }
  if (window.endMs > nowMs) {
    throw new UsageError(`the window end ${formatUtcSeconds(window.endMs)} is in the future; it must not be after now`)
  }
  return window
}

export async function run(options: Options, f: Factory, timing: ReplayTiming = SYSTEM_TIMING): Promise<void> {
  if (options.wait === true && options.dryRun === true) {
    throw new UsageError('--wait and --dry-run exclude each other: a dry run starts nothing to wait for')
  }
  const window = windowOf(options, timing.now())
  const api = await f.api()
  if (options.dryRun === true) return dryRun(api, window, f)
  const body = { start_at: formatUtcSeconds(window.startMs), end_at: formatUtcSeconds(window.endMs) }
  // 202 from us, 201 from some Konnect docs (SPEC.md §10 note 8): any 2xx is accepted.
  let job = (await api.send('PUT', REPLAY_JOB_PATH, { body })).json<ReplayJob>()
  if (options.wait === true) job = await followJob(api, f, timing, job, { changeLines: false })
  if (f.globals.json) await writeJson(f.io, job)
  else await writeJob(f, job)
  if (options.wait !== true && !f.globals.json && !f.globals.quiet && f.io.stderrIsTTY) {
    f.io.err('Follow it with: konnect-audit replay status --watch')
  }
  if (options.wait === true && job.status === 'failed') {
    throw new CliError(`the replay failed: ${job.error ?? 'the server gave no reason'}`)
  }
}

interface Counts {
  readonly data: ReadonlyArray<{ readonly start: string; readonly count: number }>
  readonly total: number
}

/** Hourly buckets, or daily ones when hourly would exceed the server's bucket limit. */
function intervalFor(window: Window): '1h' | '1d' {
  const hourlyBuckets = Math.floor(window.endMs / HOUR_MS) - Math.floor(window.startMs / HOUR_MS) + 1
  return hourlyBuckets > MAX_BUCKETS ? '1d' : '1h'
}

async function dryRun(api: ApiClient, window: Window, f: Factory): Promise<void> {
  const interval = intervalFor(window)
  const query = {
    'filter[ts][gte]': formatUtcSeconds(window.startMs),
    'filter[ts][lte]': formatUtcSeconds(window.endMs),
    interval,
  }
  let counts: Counts
  try {
    counts = (await api.send('GET', COUNTS_PATH, { query })).json<Counts>()
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      throw new CliError(
        `not supported by this server: --dry-run needs GET ${COUNTS_PATH}, which only a konnect-audit server has`,
      )
    }
    throw error
  }
  if (f.globals.json) return writeJson(f.io, counts)
  const unit = interval === '1h' ? 'HOUR' : 'DAY'
  const columns: Column<{ start: string; count: number }>[] = [
    { header: `${unit} (UTC)`, value: (row) => row.start },
    { header: 'EVENTS', value: (row) => row.count },
  ]
  await writeRows(f.io, counts.data, columns)
  await f.io.out(f.io.stdoutIsTTY ? `Total: ${counts.total} events\n` : `total\t${counts.total}\n`)
  if (!f.globals.quiet) {
    f.io.err(
      `Dry run: nothing was started. Without --dry-run, ${counts.total} events from ${query['filter[ts][gte]']} to ${query['filter[ts][lte]']} would be replayed.`,
    )
  }
}
