// Ingest request bodies of back-dated authorization events, one per time, for replay tests: their
// event_ts is the time given, and each request holds at most 1000 of them (SPEC.md §5.4).

const MAX_ITEMS = 1000

export function backdatedAuthorizationBatches(timesMs: readonly number[]): Array<Array<Record<string, unknown>>> {
  const batches: Array<Array<Record<string, unknown>>> = []
  for (let offset = 0; offset < timesMs.length; offset += MAX_ITEMS) {
    batches.push(
      timesMs.slice(offset, offset + MAX_ITEMS).map((ms, index) => ({
        type: 'authorization',
        src: '198.51.100.7',
        principal_id: `principal-${offset + index}`,
        event_class_id: 'reports',
        name: 'Authz.reports',
        action: 'list',
        granted: true,
        event_ts: new Date(ms).toISOString(),
      })),
    )
  }
  return batches
}
