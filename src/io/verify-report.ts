// Owns how verify reports (SPEC.md §9.7): human rows and summary, or streamed NDJSON records.
// Output is buffered per ~64 KiB and written with back-pressure, so a slow reader bounds memory.

import type { VerifySummary } from '../core/verify-tally.js'
import type { IOStreams } from './streams.js'
import type { LineOutcome, VerifySink } from './verify-files.js'

export interface ReportMode {
  readonly json: boolean
  /** Only non-valid lines and the summary. */
  readonly quiet: boolean
  /** Human report: one row for every line, valid ones included. */
  readonly verbose: boolean
}

const FLUSH_BYTES = 64 * 1024

function humanRow(outcome: LineOutcome): string {
  const { file, line, verdict, kid } = outcome
  const where = `${file}:${line}  `
  switch (verdict.status) {
    case 'valid':
      return `${where}${'valid'.padEnd(11)}kid ${kid}`
    case 'unsigned':
      return `${where}${'UNSIGNED'.padEnd(11)}no sig`
    default:
      return `${where}${verdict.status.toUpperCase().padEnd(11)}${verdict.reason}`
  }
}

function jsonRecord(outcome: LineOutcome): string {
  const { file, line, verdict, kid } = outcome
  const record = {
    type: 'line',
    file,
    line,
    format: verdict.format,
    status: verdict.status,
    kid,
    ...(verdict.reason === null ? {} : { reason: verdict.reason }),
  }
  return JSON.stringify(record)
}

export class VerifyReporter implements VerifySink {
  private buffered: string[] = []
  private bufferedBytes = 0

  constructor(
    private readonly io: IOStreams,
    private readonly mode: ReportMode,
  ) {}

  line(outcome: LineOutcome): void {
    const { json, quiet, verbose } = this.mode
    const valid = outcome.verdict.status === 'valid'
    if (!valid || (verbose && !quiet) || (json && !quiet)) {
      this.push(json ? jsonRecord(outcome) : humanRow(outcome))
    }
    const first = outcome.duplicateOf
    if (first && !quiet) {
      this.push(
        json
          ? JSON.stringify({
              type: 'duplicate',
              file: outcome.file,
              line: outcome.line,
              first_file: first.file,
              first_line: first.line,
            })
          : `${outcome.file}:${outcome.line}  ${'DUPLICATE'.padEnd(11)}of ${first.file}:${first.line}`,
      )
    }
  }

  /** File errors are part of the NDJSON stream; in the human report they go to stderr. */
  fileError(file: string, message: string): void {
    if (this.mode.json) this.push(JSON.stringify({ type: 'file_error', file, error: message }))
    else this.io.err(`Error: cannot read ${file}: ${message}`)
  }

  async summary(summary: VerifySummary): Promise<void> {
    if (this.mode.json) this.push(JSON.stringify(summary))
    else {
      const { lines, files, valid, invalid, unsigned, malformed, blank, duplicates } = summary
      this.push(
        `Summary: ${lines} lines in ${files} files: ${valid} valid, ${invalid} invalid, ${unsigned} unsigned, ` +
          `${malformed} malformed; ${blank} blank, ${duplicates} duplicates`,
      )
      for (const [kid, count] of Object.entries(summary.by_kid)) this.push(`  kid ${kid}: ${count} valid`)
      this.push(
        summary.first_event_ts === null
          ? '  event_ts: none'
          : `  event_ts: ${summary.first_event_ts} to ${summary.last_event_ts}`,
      )
      if (summary.file_errors > 0) this.push(`  file errors: ${summary.file_errors}`)
      this.push(`Result: ${summary.ok ? 'OK' : 'FAILED'}`)
    }
    await this.flush(true)
  }

  private push(text: string): void {
    this.buffered.push(text)
    this.bufferedBytes += text.length + 1
  }

  /** Writes what is buffered once it is worth a write (always, with `force`). */
  async flush(force = false): Promise<void> {
    if (this.buffered.length === 0 || (!force && this.bufferedBytes < FLUSH_BYTES)) return
    const text = `${this.buffered.join('\n')}\n`
    this.buffered = []
    this.bufferedBytes = 0
    await this.io.out(text)
  }
}
