// Owns the replay-job API rules (SPEC.md §5.6): the PUT checks in their documented order, the
// window truncated to whole seconds, and the job as GET shows it (the exact pre-job body included).
// Running a job belongs to the replay worker, which the store wakes when a job is accepted.

import { randomUUID } from 'node:crypto'
import { serverTime } from '../../contract/common.js'
import type { PutReplayJobRequest, ReplayJobResponse } from '../../contract/replay.js'
import type { ReplayJob } from '../../store/store.js'
import { formatUtcSeconds, parseRfc3339Ms } from '../../util/rfc3339.js'
import type { InvalidParameter } from '../problem.js'
import { badRequest, ProblemError } from '../problem.js'
import type { Services } from './services.js'

/** How far end_at may lie ahead of the server's clock (clock-skew allowance, SPEC.md §5.6). */
const FUTURE_ALLOWANCE_MS = 60_000

const NO_JOB: ReplayJobResponse = {
  start_at: serverTime(null),
  end_at: serverTime(null),
  status: 'unconfigured',
  updated_at: serverTime(null),
  progress: { total: 0, sent: 0 },
  error: null,
}

export function replayJobView(job: ReplayJob | null): ReplayJobResponse {
  if (job === null) return NO_JOB
  return {
    start_at: formatUtcSeconds(job.startAtMs),
    end_at: formatUtcSeconds(job.endAtMs),
    status: job.status,
    updated_at: serverTime(job.updatedAt),
    progress: { total: job.total, sent: job.sent },
    error: job.error,
  }
}

/** GET /v{2,3}/audit-log-replay-job. */
export async function getReplayJob(services: Services, orgId: string): Promise<ReplayJobResponse> {
  return replayJobView(await services.store.getReplayJob(orgId))
}

function invalid(field: 'start_at' | 'end_at', reason: string, rule: 'invalid' | 'is_date_time' = 'invalid') {
  const parameter: InvalidParameter = { field, rule, reason, source: 'body' }
  return badRequest([parameter])
}

/** Epoch ms of a bound, its fraction of a second dropped; the schema has already checked the format. */
function wholeSecondsMs(text: string, field: 'start_at' | 'end_at'): number {
  const ms = parseRfc3339Ms(text)
  if (ms === null) throw invalid(field, 'must be an RFC 3339 timestamp', 'is_date_time')
  return Math.floor(ms / 1000) * 1000
}

const DURATION_UNITS: ReadonlyArray<readonly [string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
]

/** The retention in duration syntax (`7d`, `1d12h`), as the 400 reason names it. */
function durationText(ms: number): string {
  let rest = ms
  const parts: string[] = []
  for (const [unit, size] of DURATION_UNITS) {
    const amount = Math.floor(rest / size)
    if (amount > 0) parts.push(`${amount}${unit}`)
    rest -= amount * size
  }
  return parts.length === 0 ? '0s' : parts.join('')
}

/**
 * PUT /v{2,3}/audit-log-replay-job: the window checks (400s), then the webhook and a job still
 * active (409s), the last two inside the store's transaction. Returns the accepted job.
 */
export async function submitReplayJob(
  services: Services,
  orgId: string,
  body: PutReplayJobRequest,
): Promise<ReplayJobResponse> {
  const { store, clock, config } = services
  const startAtMs = wholeSecondsMs(body.start_at, 'start_at')
  const endAtMs = wholeSecondsMs(body.end_at, 'end_at')
  const nowMs = clock.now()
  if (startAtMs >= endAtMs) throw invalid('end_at', 'must be after start_at')
  if (endAtMs > nowMs + FUTURE_ALLOWANCE_MS) throw invalid('end_at', 'must not be in the future')
  if (startAtMs < nowMs - config.retentionMs) {
    throw invalid('start_at', `must be within the retention period (${durationText(config.retentionMs)})`)
  }
  const submitted = await store.submitReplayJob({ id: randomUUID(), orgId, startAtMs, endAtMs }, nowMs)
  if (submitted.outcome === 'webhook_unavailable') {
    throw new ProblemError(409, 'The audit log webhook is not configured or not enabled')
  }
  if (submitted.outcome === 'job_active') throw new ProblemError(409, 'A replay job is currently running')
  return replayJobView(submitted.job)
}
