// Owns the pure decisions of live delivery (SPEC.md §6.1–§6.3): batch limits, when a batch is due,
// how an attempt is judged, and the quick-retry and probe schedules with injected jitter. It never
// reads the clock or performs I/O: times and randomness come in as arguments.

export const MAX_BATCH_EVENTS = 1000
export const MAX_BATCH_BYTES = 1_048_576
/** A batch that is not full goes out this long after its oldest event was committed (decision). */
export const BATCH_WINDOW_MS = 1000
const MAX_QUICK_RETRIES = 4

const QUICK_RETRY_MIN_MS = 1000
const QUICK_RETRY_MAX_MS = 30_000
const FIRST_PROBE_MS = 30_000
const MAX_PROBE_MS = 300_000
const MAX_RETRY_AFTER_MS = 600_000
/** Delays are multiplied by a factor in [1 − JITTER, 1 + JITTER]. */
const JITTER = 0.2

/** A random number in [0, 1), e.g. Math.random; tests pass a fixed one. */
export type Random = () => number

/**
 * How many of the rendered lines (byte lengths without the newline) make the batch: at most
 * `maxEvents`, and at most MAX_BATCH_BYTES counting one newline per line, but never fewer than one
 * line, so an oversized single line still goes out alone.
 */
export function batchLineCount(lineBytes: readonly number[], maxEvents: number): number {
  let bytes = 0
  let count = 0
  for (const length of lineBytes) {
    if (count === maxEvents) break
    bytes += length + 1
    if (bytes > MAX_BATCH_BYTES && count > 0) break
    count += 1
  }
  return count
}

export interface PendingEvents {
  /** Events after the cursor that were read (at most the batch limit). */
  readonly eventCount: number
  /** Their stored line bytes, an estimate of the rendered size that needs no rendering. */
  readonly storedBytes: number
  /** Commit time (rt) of the oldest of them. */
  readonly oldestRtMs: number
}

/** When the batch may go: at once if it is full, else one window after its oldest commit. */
export function batchDueAtMs(pending: PendingEvents, maxEvents: number): number {
  const full = pending.eventCount >= maxEvents || pending.storedBytes + pending.eventCount >= MAX_BATCH_BYTES
  return full ? Number.NEGATIVE_INFINITY : pending.oldestRtMs + BATCH_WINDOW_MS
}

/** What an attempt produced, as far as the plan cares. */
export interface AttemptOutcome {
  /** HTTP status, or 0 when no response arrived. */
  readonly statusCode: number
  /** The address or URL policy refused the endpoint: never retried quickly (SPEC.md §6.3). */
  readonly refusedByPolicy: boolean
  /** The Retry-After header as received, if any. */
  readonly retryAfter: string | null
}

export type AttemptVerdict =
  | { readonly kind: 'delivered' }
  /** 413 for more than one event: re-send the same events at once in half-size batches. */
  | { readonly kind: 'too_large' }
  | { readonly kind: 'failed'; readonly retryable: boolean; readonly retryAfterMs: number | null }

/** SPEC.md §6.2–§6.3: any 2xx succeeds; connection errors, 5xx and 429 are retryable; the rest are not. */
export function judgeAttempt(outcome: AttemptOutcome, batchEvents: number, nowMs: number): AttemptVerdict {
  const { statusCode } = outcome
  if (statusCode >= 200 && statusCode < 300) return { kind: 'delivered' }
  if (statusCode === 413 && batchEvents > 1) return { kind: 'too_large' }
  const honoursRetryAfter = statusCode === 429 || statusCode === 503
  const retryAfterMs =
    honoursRetryAfter && outcome.retryAfter !== null ? parseRetryAfterMs(outcome.retryAfter, nowMs) : null
  const retryable = statusCode === 0 ? !outcome.refusedByPolicy : statusCode >= 500 || statusCode === 429
  return { kind: 'failed', retryable, retryAfterMs }
}

/** The next batch limit after a 413 for `batchEvents` events (never below one). */
export function halvedBatchLimit(batchEvents: number): number {
  return Math.max(1, Math.ceil(batchEvents / 2))
}

/**
 * Where a batch stands: quick retries (failed attempts so far, at most MAX_QUICK_RETRIES retried)
 * or probing (probes scheduled so far) once the webhook is inactive.
 */
export type RetryState =
  | { readonly phase: 'quick'; readonly failedAttempts: number }
  | { readonly phase: 'probing'; readonly probes: number }

export const FRESH_RETRY_STATE: RetryState = { phase: 'quick', failedAttempts: 0 }

/**
 * The state to continue from when only the durable status is known (after a restart or a
 * configuration change): the probe count is not stored, so probing restarts at its first delay.
 */
export function retryStateOf(status: 'active' | 'inactive', consecutiveFailures: number): RetryState {
  if (status === 'inactive') return { phase: 'probing', probes: 1 }
  return { phase: 'quick', failedAttempts: Math.min(consecutiveFailures, MAX_QUICK_RETRIES) }
}

export interface FailurePlan {
  readonly state: RetryState
  readonly delayMs: number
  /** The webhook is (or stays) inactive: retries are exhausted or the answer was not retryable. */
  readonly inactive: boolean
}

/** SPEC.md §6.3: what follows a failed attempt. */
export function planAfterFailure(
  state: RetryState,
  failure: { readonly retryable: boolean; readonly retryAfterMs: number | null },
  random: Random,
): FailurePlan {
  if (state.phase === 'quick' && failure.retryable && state.failedAttempts < MAX_QUICK_RETRIES) {
    const retry = state.failedAttempts + 1
    return {
      state: { phase: 'quick', failedAttempts: retry },
      delayMs: raisedByRetryAfter(quickRetryDelayMs(retry, random), failure.retryAfterMs),
      inactive: false,
    }
  }
  const probe = state.phase === 'probing' ? state.probes + 1 : 1
  return {
    state: { phase: 'probing', probes: probe },
    delayMs: raisedByRetryAfter(probeDelayMs(probe, random), failure.retryAfterMs),
    inactive: true,
  }
}

function jittered(delayMs: number, random: Random): number {
  return Math.round(delayMs * (1 - JITTER + 2 * JITTER * random()))
}

/** Retry n (from 1) waits min(30 s, 1 s·2^(n−1)) × [0.8, 1.2], clamped to [1 s, 30 s]: nominally 1, 2, 4, 8 s. */
export function quickRetryDelayMs(retry: number, random: Random): number {
  const nominalMs = Math.min(QUICK_RETRY_MAX_MS, QUICK_RETRY_MIN_MS * 2 ** (retry - 1))
  return Math.min(QUICK_RETRY_MAX_MS, Math.max(QUICK_RETRY_MIN_MS, jittered(nominalMs, random)))
}

/** Probe n (from 1) waits 30 s doubling per failure up to 5 min, ±20 % (decision). */
function probeDelayMs(probe: number, random: Random): number {
  return jittered(Math.min(MAX_PROBE_MS, FIRST_PROBE_MS * 2 ** (probe - 1)), random)
}

/** Retry-After only ever lengthens the wait, and never beyond 10 minutes (decision). */
function raisedByRetryAfter(delayMs: number, retryAfterMs: number | null): number {
  return retryAfterMs === null ? delayMs : Math.max(delayMs, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS))
}

/**
 * Retry-After (RFC 9110 §10.2.3) as a wait from `nowMs`: delay-seconds or an HTTP-date (a past
 * date is 0), capped at 10 minutes; null when the value is neither.
 */
export function parseRetryAfterMs(value: string, nowMs: number): number | null {
  const text = value.trim()
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS)
  const dateMs = parseHttpDateMs(text, nowMs)
  return dateMs === null ? null : Math.min(Math.max(0, dateMs - nowMs), MAX_RETRY_AFTER_MS)
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const MONTH = MONTHS.join('|')
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})'
/** `Sun, 06 Nov 1994 08:49:37 GMT` */
const IMF_FIXDATE = new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\\d{2}) (${MONTH}) (\\d{4}) ${TIME} GMT$`)
/** `Sunday, 06-Nov-94 08:49:37 GMT` (obsolete, two-digit year) */
const RFC850_DATE = new RegExp(
  `^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d{2})-(${MONTH})-(\\d{2}) ${TIME} GMT$`,
)
/** `Sun Nov  6 08:49:37 1994` (obsolete, asctime) */
const ASCTIME_DATE = new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (${MONTH}) ([ \\d]\\d) ${TIME} (\\d{4})$`)

const DAY_MS = 86_400_000

/**
 * Epoch ms of an HTTP-date in any of the three forms recipients must accept (RFC 9110 §5.6.7),
 * computed without the Date global, which core may not use.
 */
function parseHttpDateMs(text: string, nowMs: number): number | null {
  const imf = IMF_FIXDATE.exec(text)
  if (imf) return utcMs(Number(imf[3]), imf[2], Number(imf[1]), imf.slice(4))
  const rfc850 = RFC850_DATE.exec(text)
  if (rfc850) return utcMs(fullYear(Number(rfc850[3]), nowMs), rfc850[2], Number(rfc850[1]), rfc850.slice(4))
  const asctime = ASCTIME_DATE.exec(text)
  if (asctime) return utcMs(Number(asctime[6]), asctime[1], Number(asctime[2]), asctime.slice(3, 6))
  return null
}

/** RFC 9110: a two-digit year more than 50 years ahead means the most recent past such year. */
function fullYear(twoDigits: number, nowMs: number): number {
  const currentYear = yearOfDays(Math.floor(nowMs / DAY_MS))
  const year = Math.floor(currentYear / 100) * 100 + twoDigits
  return year > currentYear + 50 ? year - 100 : year
}

function utcMs(
  year: number,
  monthName: string | undefined,
  day: number,
  time: readonly (string | undefined)[],
): number | null {
  const month = MONTHS.indexOf(monthName ?? '') + 1
  const [hours, minutes, seconds] = time.map(Number)
  if (hours === undefined || minutes === undefined || seconds === undefined) return null
  if (day < 1 || day > daysInMonth(year, month) || hours > 23 || minutes > 59 || seconds > 60) return null
  const secondsOfDay = hours * 3600 + minutes * 60 + Math.min(seconds, 59)
  return daysFromCivil(year, month, day) * DAY_MS + secondsOfDay * 1000
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28
  return [4, 6, 9, 11].includes(month) ? 30 : 31
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yearOfEra = y - era * 400
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear
  return era * 146_097 + dayOfEra - 719_468
}

/** The year a day count (since 1970-01-01) falls in (H. Hinnant's civil_from_days, year only). */
function yearOfDays(days: number): number {
  const shifted = days + 719_468
  const era = Math.floor(shifted / 146_097)
  const dayOfEra = shifted - era * 146_097
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  )
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100))
  const monthIndex = Math.floor((5 * dayOfYear + 2) / 153)
  const month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
  return yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
}
