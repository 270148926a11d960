// Owns a byte-level JSON syntax check that never converts a value (numbers stay digits) and
// reports where each top-level member of an object sits, for strict signature extraction.
// Iterative, so a deeply nested line cannot overflow the stack.

export interface MemberSpan {
  /** Index of the key's opening quote. */
  readonly keyStart: number
  /** Index just past the key's closing quote. */
  readonly keyEnd: number
  readonly valueStart: number
  /** Index just past the value. */
  readonly valueEnd: number
}

export interface ObjectScan {
  readonly members: MemberSpan[]
  /** Index just past the object's closing brace. */
  readonly end: number
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OBJECT = 1
const ARRAY = 2

function isWhitespace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d
}

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x30 && byte <= 0x39
}

function isHexDigit(byte: number | undefined): boolean {
  return byte !== undefined && (isDigit(byte) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66))
}

/** Index just past the string starting at `start` (its opening quote), or -1. */
function skipString(b: Uint8Array, start: number, end: number): number {
  for (let i = start + 1; i < end; i++) {
    const byte = b[i] as number
    if (byte === QUOTE) return i + 1
    if (byte < 0x20) return -1
    if (byte === BACKSLASH) {
      const escaped = b[++i]
      if (escaped === 0x75) {
        if (!(isHexDigit(b[i + 1]) && isHexDigit(b[i + 2]) && isHexDigit(b[i + 3]) && isHexDigit(b[i + 4]))) return -1
        i += 4
      } else if (escaped === undefined || !'"\\/bfnrt'.includes(String.fromCharCode(escaped))) return -1
    }
  }
  return -1
}

function skipDigits(b: Uint8Array, start: number, end: number): number {
  let i = start
  while (i < end && isDigit(b[i])) i++
  return i
}

/** Index just past the number starting at `start`, or -1. */
function skipNumber(b: Uint8Array, start: number, end: number): number {
  let i = start
  if (b[i] === 0x2d) i++
  if (b[i] === 0x30) i++
  else if (isDigit(b[i])) i = skipDigits(b, i, end)
  else return -1
  if (b[i] === 0x2e) {
    const after = skipDigits(b, i + 1, end)
    if (after === i + 1) return -1
    i = after
  }
  if (b[i] === 0x65 || b[i] === 0x45) {
    i++
    if (b[i] === 0x2b || b[i] === 0x2d) i++
    const after = skipDigits(b, i, end)
    if (after === i) return -1
    i = after
  }
  return i
}

function skipLiteral(b: Uint8Array, start: number, end: number): number {
  for (const literal of ['true', 'false', 'null']) {
    if (start + literal.length <= end && b[start] === literal.charCodeAt(0)) {
      for (let k = 1; k < literal.length; k++) if (b[start + k] !== literal.charCodeAt(k)) return -1
      return start + literal.length
    }
  }
  return -1
}

function skipScalar(b: Uint8Array, i: number, end: number): number {
  const byte = b[i]
  if (byte === QUOTE) return skipString(b, i, end)
  if (byte === 0x2d || isDigit(byte)) return skipNumber(b, i, end)
  return skipLiteral(b, i, end)
}

/**
 * Checks that `b[start]` begins one syntactically valid JSON object within `end`, returning the
 * spans of its top-level members and where it ends, or null when it is not valid JSON.
 * Bytes after the object are left for the caller to judge.
 */
export function scanJsonObject(b: Uint8Array, start: number, end: number = b.length): ObjectScan | null {
  if (b[start] !== 0x7b) return null
  const members: MemberSpan[] = []
  const stack: number[] = []
  let i = start
  let keyStart = -1
  let keyEnd = -1
  let valueStart = -1
  let expectValue = true
  for (;;) {
    if (expectValue) {
      const byte = b[i]
      if (stack.length === 1) valueStart = i
      if (byte === 0x7b || byte === 0x5b) {
        stack.push(byte === 0x7b ? OBJECT : ARRAY)
        i++
        while (isWhitespace(b[i])) i++
        if (b[i] === (byte === 0x7b ? 0x7d : 0x5d)) {
          stack.pop()
          i++
        } else if (byte === 0x7b) {
          expectValue = false
          i = readKey()
          if (i < 0) return null
          continue
        } else continue
      } else {
        i = skipScalar(b, i, end)
        if (i < 0) return null
      }
      expectValue = false
    }
    // A value has just ended at i.
    if (stack.length === 1 && valueStart >= 0) {
      members.push({ keyStart, keyEnd, valueStart, valueEnd: i })
      valueStart = -1
    }
    if (stack.length === 0) return { members, end: i }
    while (isWhitespace(b[i])) i++
    const top = stack[stack.length - 1]
    const byte = b[i]
    if (byte === 0x2c) {
      i++
      if (top === OBJECT) {
        i = readKey()
        if (i < 0) return null
      } else {
        while (isWhitespace(b[i])) i++
        expectValue = true
      }
    } else if ((top === OBJECT && byte === 0x7d) || (top === ARRAY && byte === 0x5d)) {
      stack.pop()
      i++
    } else return null
  }

  // Reads `ws "key" ws : ws` from i; leaves i at the value and records the key at depth 1.
  function readKey(): number {
    while (isWhitespace(b[i])) i++
    if (b[i] !== QUOTE) return -1
    const afterKey = skipString(b, i, end)
    if (afterKey < 0) return -1
    if (stack.length === 1) {
      keyStart = i
      keyEnd = afterKey
    }
    let j = afterKey
    while (isWhitespace(b[j])) j++
    if (b[j] !== 0x3a) return -1
    j++
    while (isWhitespace(b[j])) j++
    expectValue = true
    return j
  }
}

/** Whether a member's key is `name` (ASCII), decoding the key only when it holds an escape. */
export function memberNameIs(b: Uint8Array, span: MemberSpan, name: string): boolean {
  const rawLength = span.keyEnd - span.keyStart
  let escaped = false
  for (let i = span.keyStart + 1; i < span.keyEnd - 1; i++) if (b[i] === BACKSLASH) escaped = true
  if (escaped) {
    const raw = Buffer.from(b.buffer, b.byteOffset + span.keyStart, rawLength).toString('utf8')
    return (JSON.parse(raw) as string) === name
  }
  if (rawLength !== name.length + 2) return false
  for (let i = 0; i < name.length; i++) if (b[span.keyStart + 1 + i] !== name.charCodeAt(i)) return false
  return true
}
