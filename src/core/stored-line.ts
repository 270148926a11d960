// Owns reading a stored canonical JSON line back into an AuditEvent, for renderings that need its
// fields (CEF). Each member value is parsed on its own, so `trace_id` keeps its digits and never
// becomes a JS number; `type` is derived from `name` and `event_class_id` (SPEC.md §3.1).

import { parseTraceId } from '../util/u64.js'
import type { AuditEvent, EventType } from './events.js'
import { scanJsonObject } from './json-scan.js'

/** The event type of a bare line, which carries no `type` member (SPEC.md §3.1). */
export function eventTypeOf(name: unknown, eventClassId: unknown): EventType | null {
  if (typeof name !== 'string' || typeof eventClassId !== 'string') return null
  if (name.startsWith('AUTHENTICATION_OUTCOME_') && eventClassId.startsWith('AUTHENTICATION_TYPE_')) {
    return 'authentication'
  }
  if (name.startsWith('Authz.')) return 'authorization'
  if (name === 'Ingress' && eventClassId === 'KongGateway') return 'gateway_access'
  return null
}

/**
 * The event a stored line encodes, without its `sig`. Throws TypeError when the line is not one
 * JSON object of a known event type with an unsigned 64-bit `trace_id`.
 */
export function eventOfStoredLine(line: Uint8Array): AuditEvent {
  const bytes = Buffer.from(line.buffer, line.byteOffset, line.byteLength)
  const scan = scanJsonObject(bytes, 0)
  if (scan === null || scan.end !== bytes.length) throw new TypeError('the stored line is not one JSON object')
  const fields: Record<string, unknown> = {}
  for (const member of scan.members) {
    const key = JSON.parse(bytes.toString('utf8', member.keyStart, member.keyEnd)) as string
    const value = bytes.toString('utf8', member.valueStart, member.valueEnd)
    // The bare digits go to the branded string as they are; JSON.parse would round them above 2^53.
    fields[key] = key === 'trace_id' ? parseTraceId(value) : JSON.parse(value)
  }
  const { sig: _sig, ...members } = fields
  const type = eventTypeOf(members.name, members.event_class_id)
  if (type === null) {
    throw new TypeError(`the stored line has no known event type (name ${JSON.stringify(members.name)})`)
  }
  return { ...members, type } as unknown as AuditEvent
}
