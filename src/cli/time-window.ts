// Owns the time-window flags shared by `logs pull` and `replay start` (SPEC.md §9.5, §9.9):
// either --since D, or --start T with --end T, never both; each command then checks its own bounds.

import { parseDurationMs } from '../util/duration.js'
import { parseRfc3339Ms } from '../util/rfc3339.js'
import { UsageError } from './errors.js'

export interface WindowFlags {
  readonly since?: string
  readonly start?: string
  readonly end?: string
}

export type WindowChoice =
  | { readonly kind: 'since'; readonly since: string; readonly sinceMs: number }
  | { readonly kind: 'range'; readonly startMs: number; readonly endMs: number }

export function timestampFlagMs(text: string, flag: string): number {
  const ms = parseRfc3339Ms(text)
  if (ms === null) throw new UsageError(`${flag} ${text} is not an RFC 3339 timestamp, e.g. 2026-11-26T09:00:00Z`)
  return ms
}

export function windowChoiceOf(flags: WindowFlags): WindowChoice {
  if (flags.since !== undefined) {
    if (flags.start !== undefined || flags.end !== undefined) {
      throw new UsageError('give either --since D or --start T --end T, not both')
    }
    const sinceMs = parseDurationMs(flags.since)
    if (sinceMs === null) throw new UsageError(`--since ${flags.since} is not a duration: use e.g. 90m, 24h or 1d12h`)
    return { kind: 'since', since: flags.since, sinceMs }
  }
  if (flags.start === undefined || flags.end === undefined) {
    throw new UsageError(
      flags.start === undefined && flags.end === undefined
        ? 'no time window: give --since D (e.g. 24h), or --start T --end T'
        : `--${flags.start === undefined ? 'end' : 'start'} needs --${flags.start === undefined ? 'start' : 'end'} too`,
    )
  }
  return { kind: 'range', startMs: timestampFlagMs(flags.start, '--start'), endMs: timestampFlagMs(flags.end, '--end') }
}
