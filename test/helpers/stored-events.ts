// Reads what a test server stored: raw lines, and a light view of their members for assertions
// (trace_id kept as the digit string, never through a JS number).

import type { Store } from '../../src/store/store.js'

export interface EventView {
  readonly line: string
  readonly traceId: string
  readonly fields: Record<string, unknown>
}

export async function storedEvents(store: Store, orgId: string): Promise<EventView[]> {
  const events = await store.readEvents({
    orgId,
    afterSequence: 0,
    throughSequence: Number.MAX_SAFE_INTEGER,
    limit: 100_000,
  })
  return events.map(({ line }) => {
    const text = line.toString('utf8')
    const traceId = /"trace_id":(\d+)/.exec(text)?.[1] ?? ''
    return { line: text, traceId, fields: JSON.parse(text.replace(/"trace_id":\d+/, `"trace_id":"${traceId}"`)) }
  })
}

/**
 * The events of one request, once `count` of them are stored: the access event of a mutating
 * request is written after its response, so a test may see the response first.
 */
export async function eventsOfTrace(store: Store, orgId: string, traceId: string, count: number): Promise<EventView[]> {
  const deadline = Date.now() + 2000
  for (;;) {
    const events = (await storedEvents(store, orgId)).filter((event) => event.traceId === traceId)
    if (events.length >= count || Date.now() > deadline) return events
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
