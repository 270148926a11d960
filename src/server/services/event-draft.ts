// Owns turning an event (everything but its commit time) into a store draft whose line is signed
// with the org's key once the store assigns `rt`.

import { signJsonLine } from '../../core/canonical-json.js'
import type { AuditEvent } from '../../core/events.js'
import type { Signer } from '../../core/signing.js'
import type { EventDraft } from '../../store/store.js'
import { parseRfc3339Ms } from '../../util/rfc3339.js'

/** An event of any type without its commit time. */
export type UncommittedEvent = AuditEvent extends infer E ? (E extends AuditEvent ? Omit<E, 'rt'> : never) : never

export function draftOf(event: UncommittedEvent, signer: Signer): EventDraft {
  return {
    type: event.type,
    eventTsMs: parseRfc3339Ms(event.event_ts) ?? 0,
    traceId: event.trace_id,
    render: (rt) => signJsonLine({ ...event, rt } as AuditEvent, signer),
  }
}
