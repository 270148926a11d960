// Owns verify's running totals (SPEC.md §9.7 summary): counts by status, blank lines,
// duplicates, per-kid counts and the event_ts range of valid lines.

import { SignatureIndex } from './signature-index.js'
import type { LineStatus } from './verify.js'
import type { TimestampPoint } from './verify-chunk.js'

export interface VerifySummary {
  readonly type: 'summary'
  readonly files: number
  readonly lines: number
  readonly valid: number
  readonly invalid: number
  readonly unsigned: number
  readonly malformed: number
  readonly blank: number
  readonly duplicates: number
  readonly file_errors: number
  readonly by_kid: Record<string, number>
  readonly first_event_ts: string | null
  readonly last_event_ts: string | null
  readonly jwks_source: 'file' | 'url' | 'network'
  readonly ok: boolean
}

export class VerifyTally {
  private readonly counts: Record<LineStatus, number> = { valid: 0, invalid: 0, unsigned: 0, malformed: 0 }
  private readonly byKid = new Map<string, number>()
  private readonly signatures = new SignatureIndex()
  private earliest: TimestampPoint | null = null
  private latest: TimestampPoint | null = null
  private blank = 0
  private duplicates = 0
  private fileErrors = 0

  countLine(status: LineStatus, kid: string | null): void {
    this.counts[status]++
    if (kid !== null) this.byKid.set(kid, (this.byKid.get(kid) ?? 0) + 1)
  }

  countBlank(): void {
    this.blank++
  }

  countFileError(): void {
    this.fileErrors++
  }

  /** The position of the first line with this signature when it repeats (counted), else null. */
  duplicateOf(keyA: number, keyB: number, position: number): number | null {
    const first = this.signatures.firstSeen(keyA, keyB, position)
    if (first !== null) this.duplicates++
    return first
  }

  widenEventTs(earliest: TimestampPoint | null, latest: TimestampPoint | null): void {
    if (earliest && (!this.earliest || earliest.ms < this.earliest.ms)) this.earliest = earliest
    if (latest && (!this.latest || latest.ms > this.latest.ms)) this.latest = latest
  }

  get failed(): boolean {
    return this.counts.invalid + this.counts.unsigned + this.counts.malformed > 0
  }

  summary(files: number, jwksSource: VerifySummary['jwks_source']): VerifySummary {
    const { valid, invalid, unsigned, malformed } = this.counts
    return {
      type: 'summary',
      files,
      lines: valid + invalid + unsigned + malformed,
      valid,
      invalid,
      unsigned,
      malformed,
      blank: this.blank,
      duplicates: this.duplicates,
      file_errors: this.fileErrors,
      by_kid: Object.fromEntries(this.byKid),
      first_event_ts: this.earliest?.text ?? null,
      last_event_ts: this.latest?.text ?? null,
      jwks_source: jwksSource,
      ok: !this.failed && this.fileErrors === 0,
    }
  }
}
