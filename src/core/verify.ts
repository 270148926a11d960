// Owns the verdict on one line (SPEC.md §4.5): size check, extraction, then Ed25519 verification
// with every usable key. Callers handle blank lines and line splitting.

import { verify } from 'node:crypto'
import type { Extraction, LineFormat, MalformedReason } from './extract.js'
import { extractSigned } from './extract.js'
import type { VerificationKey } from './jwks.js'

/** Lines longer than this (after trimming the newline) are malformed, never buffered. */
export const MAX_LINE_BYTES = 1024 * 1024

export type LineStatus = 'valid' | 'invalid' | 'unsigned' | 'malformed'
export type LineReason = MalformedReason | 'no_matching_key' | 'no_sig'

export interface LineVerdict {
  readonly status: LineStatus
  readonly format: LineFormat | null
  /** Null only for valid lines. */
  readonly reason: LineReason | null
  /** Index into the verifier's keys of the key that verified, or -1. */
  readonly keyIndex: number
  /** The decoded signature of lines that passed step 5 (valid or invalid), for duplicate counting. */
  readonly signature: Buffer | null
  /** `event_ts` of a valid line, when it carries one. */
  readonly eventTs: string | null
}

/** The extraction result of a line over MAX_LINE_BYTES, whose bytes were never kept. */
export const TOO_LONG: Extraction = { kind: 'malformed', format: null, reason: 'line_too_long' }

/**
 * Verifies non-blank lines against a fixed key set, trying the last key that matched first.
 * Extraction (cheap, JS) and signature checks (OpenSSL) can run as separate passes over a batch:
 * interleaving them per line measured about 9% slower, as each evicts the other's caches.
 */
export class LineVerifier {
  private lastMatch = 0

  constructor(
    readonly keys: readonly VerificationKey[],
    private readonly forcedFormat?: LineFormat,
  ) {}

  verify(line: Uint8Array): LineVerdict {
    return this.verdict(this.extract(line))
  }

  /** Steps 1–5 of SPEC.md §4.5. */
  extract(line: Uint8Array): Extraction {
    return line.length > MAX_LINE_BYTES ? TOO_LONG : extractSigned(line, this.forcedFormat)
  }

  /** Step 6: the verdict on an extracted line. */
  verdict(extraction: Extraction): LineVerdict {
    if (extraction.kind === 'malformed') {
      const { format, reason } = extraction
      return { status: 'malformed', format, reason, keyIndex: -1, signature: null, eventTs: null }
    }
    if (extraction.kind === 'unsigned') {
      return {
        status: 'unsigned',
        format: extraction.format,
        reason: 'no_sig',
        keyIndex: -1,
        signature: null,
        eventTs: null,
      }
    }
    const keyIndex = this.matchingKey(extraction.message, extraction.signature)
    const { format, signature } = extraction
    return keyIndex < 0
      ? { status: 'invalid', format, reason: 'no_matching_key', keyIndex, signature, eventTs: null }
      : { status: 'valid', format, reason: null, keyIndex, signature, eventTs: extraction.eventTs }
  }
  private matchingKey(message: Uint8Array, signature: Uint8Array): number {
    const count = this.keys.length
    for (let attempt = 0; attempt < count; attempt++) {
      const index = (this.lastMatch + attempt) % count
      if (verify(null, message, (this.keys[index] as VerificationKey).key, signature)) {
        this.lastMatch = index
        return index
      }
    }
    return -1
  }
}
