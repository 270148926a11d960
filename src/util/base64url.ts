// Owns base64url (RFC 4648 §5, no padding) encoding and the strict decoding SPEC.md §4.5 demands.
// Node's own decoder is lenient (skips bad characters, ignores unused bits), so it is never trusted alone.

const ALPHABET = /^[A-Za-z0-9_-]*$/

export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

/** Length in characters of the unpadded base64url form of `byteCount` bytes. */
export function base64UrlLength(byteCount: number): number {
  return Math.ceil((byteCount * 8) / 6)
}

/** Whether `char` (a base64url character code) is one of the 64 alphabet characters. */
export function isBase64UrlChar(code: number): boolean {
  return (
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x30 && code <= 0x39) || // 0-9
    code === 0x2d || // -
    code === 0x5f // _
  )
}

function sextetOf(code: number): number {
  if (code >= 0x41 && code <= 0x5a) return code - 0x41
  if (code >= 0x61 && code <= 0x7a) return code - 0x61 + 26
  if (code >= 0x30 && code <= 0x39) return code - 0x30 + 52
  return code === 0x2d ? 62 : 63
}

/**
 * Decodes `text` to exactly `byteCount` bytes, or returns null when it is not the canonical
 * encoding: wrong length, a character outside the alphabet, or non-zero unused low bits.
 */
export function decodeBase64UrlStrict(text: string, byteCount: number): Buffer | null {
  const length = base64UrlLength(byteCount)
  if (text.length !== length || !ALPHABET.test(text)) return null
  const unusedBits = length * 6 - byteCount * 8
  if (unusedBits > 0 && (sextetOf(text.charCodeAt(length - 1)) & ((1 << unusedBits) - 1)) !== 0) {
    return null
  }
  return Buffer.from(text, 'base64url')
}
