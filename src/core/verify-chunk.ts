// Owns the compact, transferable form of verify's work unit: a chunk of lines in one buffer and
// its verdicts in typed arrays, so worker threads exchange few objects per ~1 MiB of input.

import { parseRfc3339Ms } from '../util/rfc3339.js'
import type { Extraction, LineFormat } from './extract.js'
import { LINE_FORMATS, MALFORMED_REASONS } from './extract.js'
import { signatureKey } from './signature-index.js'
import type { LineReason, LineStatus, LineVerdict, LineVerifier } from './verify.js'
import { TOO_LONG } from './verify.js'

export const LINE_STATUSES: readonly LineStatus[] = ['valid', 'invalid', 'unsigned', 'malformed']
export const LINE_REASONS: readonly LineReason[] = ['no_matching_key', 'no_sig', ...MALFORMED_REASONS]
const NONE = 255

export interface LineChunk {
  /** The lines' bytes, back to back. */
  readonly data: Uint8Array<ArrayBuffer>
  /** Exclusive end offset of each line in `data`; a line starts where the previous one ends. */
  readonly ends: Uint32Array<ArrayBuffer>
  /** 1 for a line that was over the size limit (its bytes are not in `data`). */
  readonly tooLong: Uint8Array<ArrayBuffer>
}

export interface TimestampPoint {
  readonly ms: number
  readonly text: string
}

export interface ChunkVerdicts {
  readonly status: Uint8Array<ArrayBuffer>
  readonly format: Uint8Array<ArrayBuffer>
  readonly reason: Uint8Array<ArrayBuffer>
  readonly keyIndex: Int16Array<ArrayBuffer>
  /** Two words per line: the signature key of lines whose signature decoded, else zeros. */
  readonly signatureKeys: Uint32Array<ArrayBuffer>
  readonly hasSignature: Uint8Array<ArrayBuffer>
  readonly earliest: TimestampPoint | null
  readonly latest: TimestampPoint | null
}

/** One line's verdict as read back from a chunk's arrays. */
export interface DecodedVerdict {
  readonly status: LineStatus
  readonly format: LineFormat | null
  readonly reason: LineReason | null
  readonly keyIndex: number
}

export function verifyChunk(verifier: LineVerifier, chunk: LineChunk): ChunkVerdicts {
  const count = chunk.ends.length
  const result = {
    status: new Uint8Array(count),
    format: new Uint8Array(count),
    reason: new Uint8Array(count),
    keyIndex: new Int16Array(count),
    signatureKeys: new Uint32Array(count * 2),
    hasSignature: new Uint8Array(count),
    earliest: null as TimestampPoint | null,
    latest: null as TimestampPoint | null,
  }
  let lastTsText: string | null = null
  let lastTsMs: number | null = null
  const extractions: Extraction[] = new Array(count)
  let start = 0
  for (let i = 0; i < count; i++) {
    const end = chunk.ends[i] as number
    extractions[i] = chunk.tooLong[i] === 1 ? TOO_LONG : verifier.extract(chunk.data.subarray(start, end))
    start = end
  }
  const verdicts = extractions.map((extraction) => verifier.verdict(extraction))
  for (let i = 0; i < count; i++) {
    const verdict = verdicts[i] as LineVerdict
    result.status[i] = LINE_STATUSES.indexOf(verdict.status)
    result.format[i] = verdict.format === null ? NONE : LINE_FORMATS.indexOf(verdict.format)
    result.reason[i] = verdict.reason === null ? NONE : LINE_REASONS.indexOf(verdict.reason)
    result.keyIndex[i] = verdict.keyIndex
    if (verdict.signature) {
      const [a, b] = signatureKey(verdict.signature)
      result.signatureKeys[i * 2] = a
      result.signatureKeys[i * 2 + 1] = b
      result.hasSignature[i] = 1
    }
    if (verdict.eventTs !== null && verdict.eventTs !== lastTsText) {
      lastTsText = verdict.eventTs
      lastTsMs = parseRfc3339Ms(verdict.eventTs)
    }
    const ms = verdict.eventTs === null ? null : lastTsMs
    if (ms !== null && verdict.eventTs !== null) {
      if (!result.earliest || ms < result.earliest.ms) result.earliest = { ms, text: verdict.eventTs }
      if (!result.latest || ms > result.latest.ms) result.latest = { ms, text: verdict.eventTs }
    }
  }
  return result
}

export function decodeVerdict(verdicts: ChunkVerdicts, i: number): DecodedVerdict {
  const format = verdicts.format[i] as number
  const reason = verdicts.reason[i] as number
  return {
    status: LINE_STATUSES[verdicts.status[i] as number] as LineStatus,
    format: format === NONE ? null : (LINE_FORMATS[format] as LineFormat),
    reason: reason === NONE ? null : (LINE_REASONS[reason] as LineReason),
    keyIndex: verdicts.keyIndex[i] as number,
  }
}
