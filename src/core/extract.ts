// Owns steps 2–5 of SPEC.md §4.5: format detection and strict extraction of the signed bytes and
// the 64-byte signature from one raw line, by byte position. Nothing is parsed and re-serialised.

import { isUtf8 } from 'node:buffer'
import { decodeBase64UrlStrict } from '../util/base64url.js'
import { cefExtensionStart } from './cef.js'
import { CPS_PREFIX } from './cps.js'
import type { MemberSpan } from './json-scan.js'
import { memberNameIs, scanJsonObject } from './json-scan.js'

export const LINE_FORMATS = ['json', 'cef', 'cps'] as const
export type LineFormat = (typeof LINE_FORMATS)[number]

export const MALFORMED_REASONS = [
  'line_too_long',
  'bad_utf8',
  'unknown_format',
  'parse_error',
  'sig_not_last',
  'bad_sig_encoding',
] as const
export type MalformedReason = (typeof MALFORMED_REASONS)[number]

export type Extraction =
  | {
      readonly kind: 'signed'
      readonly format: LineFormat
      /** The exact bytes the signature covers. */
      readonly message: Uint8Array
      readonly signature: Buffer
      /** The line's own `event_ts` (JSON/CPS member or RFC 3339 CEF prefix), if it has one. */
      readonly eventTs: string | null
    }
  | { readonly kind: 'unsigned'; readonly format: LineFormat }
  | { readonly kind: 'malformed'; readonly format: LineFormat | null; readonly reason: MalformedReason }

const SIG_LENGTH = 86
const SIGNATURE_BYTES = 64
const CPS_PREFIX_BYTES = Buffer.from(CPS_PREFIX)
const CEF_MARKER = Buffer.from('CEF:')
const SIG_KEY = Buffer.from(' sig=')
/** An RFC 3339 timestamp as a CEF prefix's first word; verify-chunk parses it when it counts. */
const RFC3339_PREFIX = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/
/** `,"sig":"` + 86 characters + `"}`. */
const JSON_SIG_TAIL_BYTES = 8 + SIG_LENGTH + 2

function malformed(format: LineFormat | null, reason: MalformedReason): Extraction {
  return { kind: 'malformed', format, reason }
}

export function detectFormat(line: Uint8Array): LineFormat | null {
  if (startsWith(line, CPS_PREFIX_BYTES)) return 'cps'
  if (line[0] === 0x7b) return 'json'
  return Buffer.from(line.buffer, line.byteOffset, line.byteLength).includes(CEF_MARKER) ? 'cef' : null
}

function startsWith(line: Uint8Array, prefix: Uint8Array): boolean {
  if (line.length < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (line[i] !== prefix[i]) return false
  return true
}

/** The signature text (86 chars) decoded strictly, or null (SPEC.md §4.5 steps 4–5). */
function decodeSig(line: Uint8Array, start: number, end: number): Buffer | null {
  if (end - start !== SIG_LENGTH) return null
  const text = Buffer.from(line.buffer, line.byteOffset + start, SIG_LENGTH).toString('latin1')
  return decodeBase64UrlStrict(text, SIGNATURE_BYTES)
}

/** Extracts the signed bytes of a line whose blank and length checks (step 1) already passed. */
export function extractSigned(line: Uint8Array, forcedFormat?: LineFormat): Extraction {
  if (!isUtf8(line)) return malformed(null, 'bad_utf8')
  const format = detectFormat(line)
  if (format === null || (forcedFormat !== undefined && format !== forcedFormat)) {
    return malformed(format, 'unknown_format')
  }
  if (format === 'cef') return extractCef(line)
  if (format === 'json') return extractJson(line, 0, line.length, 'json')
  const outer = scanJsonObject(line, 0)
  const inner = outer?.members[0]
  if (
    !outer ||
    outer.end !== line.length ||
    outer.members.length !== 1 ||
    !inner ||
    inner.valueStart !== CPS_PREFIX_BYTES.length ||
    inner.valueEnd !== line.length - 1 ||
    line[inner.valueStart] !== 0x7b
  ) {
    return malformed('cps', 'parse_error')
  }
  return extractJson(line, inner.valueStart, inner.valueEnd, 'cps')
}

function extractJson(line: Uint8Array, start: number, end: number, format: LineFormat): Extraction {
  const view = line.subarray(start, end)
  const scan = scanJsonObject(view, 0)
  if (!scan) return malformed(format, 'parse_error')
  for (let i = scan.end; i < view.length; i++) {
    const byte = view[i]
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return malformed(format, 'parse_error')
  }
  const { members } = scan
  let sigIndex = -1
  let sigCount = 0
  let eventTsIndex = -1
  members.forEach((member, i) => {
    if (memberNameIs(view, member, 'sig')) {
      sigIndex = i
      sigCount++
    } else if (eventTsIndex < 0 && memberNameIs(view, member, 'event_ts')) eventTsIndex = i
  })
  if (sigIndex < 0) return { kind: 'unsigned', format }
  const sig = members[sigIndex] as MemberSpan
  const previous = members[sigIndex - 1]
  if (
    sigCount > 1 ||
    sigIndex !== members.length - 1 ||
    previous === undefined ||
    scan.end !== view.length ||
    view[sig.keyStart - 1] !== 0x2c ||
    previous.valueEnd !== sig.keyStart - 1 || // no whitespace before the comma either
    sig.keyEnd - sig.keyStart !== 5 || // the key is written exactly "sig"
    view[sig.keyEnd] !== 0x3a ||
    sig.valueStart !== sig.keyEnd + 1 ||
    sig.valueEnd !== view.length - 1
  ) {
    return malformed(format, 'sig_not_last')
  }
  if (view[sig.valueStart] !== 0x22 || view[sig.valueEnd - 1] !== 0x22) return malformed(format, 'bad_sig_encoding')
  const signature = decodeSig(view, sig.valueStart + 1, sig.valueEnd - 1)
  if (!signature) return malformed(format, 'bad_sig_encoding')
  const message = Buffer.allocUnsafe(view.length - JSON_SIG_TAIL_BYTES + 1)
  message.set(view.subarray(0, view.length - JSON_SIG_TAIL_BYTES))
  message[message.length - 1] = 0x7d
  return { kind: 'signed', format, message, signature, eventTs: jsonEventTs(view, members[eventTsIndex]) }
}

function jsonEventTs(view: Uint8Array, member: MemberSpan | undefined): string | null {
  if (!member || view[member.valueStart] !== 0x22) return null
  const raw = Buffer.from(view.buffer, view.byteOffset + member.valueStart, member.valueEnd - member.valueStart)
  return raw.includes(0x5c) ? (JSON.parse(raw.toString('utf8')) as string) : raw.toString('latin1', 1, raw.length - 1)
}

function extractCef(line: Uint8Array): Extraction {
  const bytes = Buffer.from(line.buffer, line.byteOffset, line.byteLength)
  const cefStart = bytes.indexOf(CEF_MARKER)
  const extensionStart = cefExtensionStart(bytes, cefStart)
  if (extensionStart < 0) return malformed('cef', 'parse_error')
  const sigAt = bytes.indexOf(SIG_KEY, extensionStart)
  if (sigAt < 0) return { kind: 'unsigned', format: 'cef' }
  const valueStart = sigAt + SIG_KEY.length
  if (bytes.indexOf(SIG_KEY, sigAt + 1) >= 0) return malformed('cef', 'sig_not_last')
  for (let i = valueStart; i < bytes.length; i++) {
    const byte = bytes[i]
    if (byte === 0x20 || byte === 0x09 || byte === 0x0d) return malformed('cef', 'sig_not_last')
  }
  const signature = decodeSig(bytes, valueStart, bytes.length)
  if (!signature) return malformed('cef', 'bad_sig_encoding')
  return {
    kind: 'signed',
    format: 'cef',
    message: bytes.subarray(0, sigAt),
    signature,
    eventTs: cefEventTs(bytes, cefStart),
  }
}

/** The RFC 3339 timestamp a CEF prefix starts with (`<event_ts> konghq.com CEF:…`), if any. */
function cefEventTs(bytes: Buffer, cefStart: number): string | null {
  const space = bytes.indexOf(0x20)
  if (space <= 0 || space >= cefStart) return null
  const candidate = bytes.toString('latin1', 0, space)
  return RFC3339_PREFIX.test(candidate) ? candidate : null
}
