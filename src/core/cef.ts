// Owns the ArcSight CEF line of SPEC.md §4.2: rendering (signed at render time), the header
// scanner shared with verification, and a parser that undoes the escaping.

import { encodeBase64Url } from '../util/base64url.js'
import type { AuditEvent } from './events.js'
import type { Signer } from './signing.js'

const PIPE = 0x7c
const BACKSLASH = 0x5c

/** Extension keys per event type, in SPEC.md §4.2 order (`sig` follows them). */
const EXTENSION_ORDER: Record<AuditEvent['type'], readonly string[]> = {
  authentication: [
    'rt',
    'src',
    'request',
    'success',
    'org_id',
    'portal_id',
    'principal_id',
    'principal_name',
    'trace_id',
    'user_agent',
  ],
  authorization: [
    'rt',
    'src',
    'action',
    'granted',
    'org_id',
    'principal_id',
    'principal_name',
    'actor_id',
    'kong_initiated',
    'trace_id',
    'user_agent',
  ],
  gateway_access: [
    'rt',
    'src',
    'request',
    'act',
    'status',
    'org_id',
    'principal_id',
    'principal_name',
    'kong_initiated',
    'user_agent',
    'trace_id',
    'query',
  ],
}

function escapeHeaderField(value: string): string {
  return value.replace(/[\\|]/g, (c) => `\\${c}`)
}

function escapeExtensionValue(value: string): string {
  return value.replace(/[\\=\n\r]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\${c}`))
}

/** The signed part of a CEF line: prefix, header and extensions, everything before ` sig=`. */
export function unsignedCefLine(event: AuditEvent): string {
  const fields = event as unknown as Record<string, string | number | boolean | undefined>
  const extensions: string[] = []
  for (const key of EXTENSION_ORDER[event.type]) {
    const value = fields[key]
    if (value !== undefined) extensions.push(`${key}=${escapeExtensionValue(String(value))}`)
  }
  const header = [
    `CEF:${event.cef_version}`,
    event.event_vendor,
    escapeHeaderField(event.event_product),
    event.event_version,
    escapeHeaderField(event.event_class_id),
    escapeHeaderField(event.name),
    String(event.severity),
  ].join('|')
  return `${event.event_ts} konghq.com ${header}|${extensions.join(' ')}`
}

/** A CEF line signed at render time with the given (the org's active) key. */
export function renderCefLine(event: AuditEvent, signer: Signer): string {
  const unsigned = unsignedCefLine(event)
  return `${unsigned} sig=${encodeBase64Url(signer.sign(Buffer.from(unsigned, 'utf8')))}`
}

/**
 * Index just past the 7th unescaped `|` after `cefStart` (where `CEF:` begins), or -1 when the
 * header has fewer than 7. `\` escapes the next byte; later `|` are extension data.
 */
export function cefExtensionStart(line: Uint8Array, cefStart: number): number {
  let pipes = 0
  for (let i = cefStart; i < line.length; i++) {
    const byte = line[i]
    if (byte === BACKSLASH) i++
    else if (byte === PIPE && ++pipes === 7) return i + 1
  }
  return -1
}

export interface ParsedCefLine {
  /** Text before `CEF:` (an RFC 3339 or syslog timestamp and host), possibly empty. */
  readonly prefix: string
  /** The seven header fields, unescaped: version, vendor, product, version, class id, name, severity. */
  readonly header: readonly string[]
  /** Extension pairs in line order, values unescaped. */
  readonly extensions: ReadonlyArray<readonly [string, string]>
}

/** Splits the header text at unescaped `|` and unescapes each field. */
function splitHeader(text: string): string[] {
  const fields: string[] = []
  let field = ''
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string
    if (char === '\\' && i + 1 < text.length) field += text[++i]
    else if (char === '|') {
      fields.push(field)
      field = ''
    } else field += char
  }
  fields.push(field)
  return fields
}

function unescapeExtensionValue(value: string): string {
  return value.replace(/\\([\\=nr])/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c))
}

const EXTENSION_KEY = /(?:^| )([A-Za-z0-9_]+)=/g

/** Parses a CEF line, or returns null when it has no `CEF:` header of seven fields. */
export function parseCefLine(line: string): ParsedCefLine | null {
  const bytes = Buffer.from(line, 'utf8')
  const cefStart = bytes.indexOf('CEF:')
  if (cefStart < 0) return null
  const extensionStart = cefExtensionStart(bytes, cefStart)
  if (extensionStart < 0) return null
  const headerText = bytes.subarray(cefStart + 4, extensionStart - 1).toString('utf8')
  const header = splitHeader(headerText)
  const extension = bytes.subarray(extensionStart).toString('utf8')
  const keys = [...extension.matchAll(EXTENSION_KEY)]
  const extensions = keys.map((match, i) => {
    const valueStart = (match.index ?? 0) + match[0].length
    const valueEnd = keys[i + 1]?.index ?? extension.length
    return [match[1] as string, unescapeExtensionValue(extension.slice(valueStart, valueEnd))] as const
  })
  return { prefix: bytes.subarray(0, cefStart).toString('utf8'), header, extensions }
}
