// Owns the `user_agent` of the core's own events (SPEC.md §3.4): the User-Agent header bytes as
// UTF-8, forbidden control characters replaced, cut to 1024 bytes on a character boundary.

import { isForbiddenControl } from './ingest-item.js'

const MAX_USER_AGENT_BYTES = 1024
const REPLACEMENT = '\uFFFD'
// Replaces every invalid sequence with U+FFFD (WHATWG) and keeps a leading BOM as a character.
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true })

/**
 * `header` is the raw bytes, or the string Node gives for a header: one character per byte
 * (latin1), so it is turned back into those bytes before decoding. Absent → `""`.
 */
export function sanitizeUserAgent(header: Buffer | string | undefined): string {
  if (header === undefined) return ''
  const bytes = typeof header === 'string' ? Buffer.from(header, 'latin1') : header
  let sanitized = ''
  let byteCount = 0
  for (const character of utf8Decoder.decode(bytes)) {
    const kept = isForbiddenControl(character.codePointAt(0) ?? 0) ? REPLACEMENT : character
    byteCount += Buffer.byteLength(kept, 'utf8')
    if (byteCount > MAX_USER_AGENT_BYTES) break
    sanitized += kept
  }
  return sanitized
}
