// Owns the canonical JSON line of SPEC.md §4.1: compact, keys in code-unit order, strings escaped
// as JSON.stringify does, integers written from their digits, and `sig` appended last.

import { encodeBase64Url } from '../util/base64url.js'
import type { AuditEvent } from './events.js'
import { INTEGER_MEMBERS } from './events.js'
import type { Signer } from './signing.js'

/** Sorted member names by the object's own key list; events come in a handful of shapes. */
const sortedKeysByShape = new Map<string, readonly string[]>()

function sortedKeys(event: AuditEvent): readonly string[] {
  const keys = Object.keys(event)
  const shape = keys.join(',')
  let sorted = sortedKeysByShape.get(shape)
  if (!sorted) {
    sorted = keys.filter((key) => key !== 'type').sort()
    if (sortedKeysByShape.size < 1024) sortedKeysByShape.set(shape, sorted)
  }
  return sorted
}

/** The members of the line in canonical order, without `sig` and without the `type` metadata. */
export function canonicalMembers(event: AuditEvent): Array<[string, string | number | boolean]> {
  const fields = event as unknown as Record<string, string | number | boolean | undefined>
  const members: Array<[string, string | number | boolean]> = []
  for (const key of sortedKeys(event)) {
    const value = fields[key]
    if (value !== undefined) members.push([key, value])
  }
  return members
}

function writeInteger(key: string, value: string | number | boolean): string {
  const digits = String(value)
  if (!/^(0|[1-9][0-9]*)$/.test(digits) || (typeof value === 'number' && !Number.isSafeInteger(value))) {
    throw new TypeError(`member ${key} must be a non-negative integer, got ${digits}`)
  }
  return digits
}

/** The canonical bytes that get signed: the event without `sig`. */
export function unsignedJsonLine(event: AuditEvent): string {
  const parts: string[] = []
  for (const [key, value] of canonicalMembers(event)) {
    const written = INTEGER_MEMBERS.has(key)
      ? writeInteger(key, value)
      : typeof value === 'boolean'
        ? String(value)
        : JSON.stringify(value)
    parts.push(`"${key}":${written}`)
  }
  return `{${parts.join(',')}}`
}

/** Appends `sig` as the last member of an unsigned canonical line. */
export function appendSig(unsignedLine: string, sig: string): string {
  return `${unsignedLine.slice(0, -1)},"sig":"${sig}"}`
}

/** The stored form of an event: its canonical line signed with `signer` (SPEC.md §4.1 step 4). */
export function signJsonLine(event: AuditEvent, signer: Signer): string {
  const unsigned = unsignedJsonLine(event)
  return appendSig(unsigned, encodeBase64Url(signer.sign(Buffer.from(unsigned, 'utf8'))))
}
