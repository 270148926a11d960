// Owns splitting a byte stream into numbered physical lines (SPEC.md §4.5 step 1): one trailing
// `\n` or `\r\n` trimmed, a BOM at the start skipped, and over-long lines dropped, never buffered.

export interface NumberedLine {
  /** 1-based physical line number. */
  readonly number: number
  /** The line without its newline (empty for a blank line), or null when it exceeded the limit. */
  readonly bytes: Uint8Array | null
}

const LF = 0x0a
const CR = 0x0d

function concat(parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array
  const joined = new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    joined.set(part, offset)
    offset += part.length
  }
  return joined
}

function hasBom(bytes: Uint8Array): boolean {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf
}

/**
 * Yields the lines of `chunks` in batches (one batch per input chunk that completes a line).
 * A line longer than `maxLineBytes` is yielded with `bytes: null`; its bytes are discarded as
 * they arrive, so memory stays bounded whatever the input.
 */
export async function* numberedLines(
  chunks: AsyncIterable<Uint8Array>,
  maxLineBytes: number,
): AsyncGenerator<NumberedLine[]> {
  let number = 0
  let parts: Uint8Array[] = []
  let pending = 0
  let tooLong = false

  const finish = (last: Uint8Array, endedByNewline: boolean): NumberedLine => {
    number++
    const length = pending + last.length
    let bytes: Uint8Array | null = null
    if (!tooLong && length <= maxLineBytes + 2) {
      bytes = concat(last.length > 0 || parts.length === 0 ? [...parts, last] : parts, length)
      if (endedByNewline && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1)
      if (number === 1 && hasBom(bytes)) bytes = bytes.subarray(3)
      if (bytes.length > maxLineBytes) bytes = null
    }
    parts = []
    pending = 0
    tooLong = false
    return { number, bytes }
  }

  for await (const chunk of chunks) {
    const batch: NumberedLine[] = []
    let start = 0
    for (;;) {
      const newline = chunk.indexOf(LF, start)
      if (newline < 0) {
        const rest = chunk.subarray(start)
        if (!tooLong && rest.length > 0) {
          parts.push(rest)
          pending += rest.length
          if (pending > maxLineBytes + 2) {
            tooLong = true
            parts = []
          }
        }
        break
      }
      batch.push(finish(chunk.subarray(start, newline), true))
      start = newline + 1
    }
    if (batch.length > 0) yield batch
  }
  if (pending > 0 || tooLong) yield [finish(new Uint8Array(0), false)]
}
