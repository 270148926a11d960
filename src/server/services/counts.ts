// Owns event counts per time bucket (SPEC.md §5.9a): the inclusive event_ts window, buckets
// aligned to UTC boundaries from the one holding gte to the one holding lte, empty ones filled
// with 0. The store counts; this only checks the window and lays out the buckets.

import type { CountInterval, CountsRequest, CountsResponse } from '../../contract/audit-logs.js'
import type { BucketCount } from '../../store/store.js'
import { formatUtcSeconds } from '../../util/rfc3339.js'
import { checkTimeWindow, invalidQuery, queryTime } from './query-values.js'
import type { Services } from './services.js'

const MAX_BUCKETS = 10_000

const BUCKET_MS: Readonly<Record<CountInterval, number>> = { '1m': 60_000, '1h': 3_600_000, '1d': 86_400_000 }

/** The start of the bucket holding `ms`; epoch ms has no leap seconds, so these are UTC boundaries. */
function bucketStartOf(ms: number, bucketMs: number): number {
  return Math.floor(ms / bucketMs) * bucketMs
}

/** Every bucket from first to last, each with its stored count or 0. */
function filledBuckets(firstMs: number, lastMs: number, bucketMs: number, stored: readonly BucketCount[]) {
  const countByStart = new Map(stored.map((bucket) => [bucket.startMs, bucket.count]))
  const bucketCount = (lastMs - firstMs) / bucketMs + 1
  return Array.from({ length: bucketCount }, (_, index) => {
    const startMs = firstMs + index * bucketMs
    return { start: formatUtcSeconds(startMs), count: countByStart.get(startMs) ?? 0 }
  })
}

export async function countEvents(services: Services, orgId: string, query: CountsRequest): Promise<CountsResponse> {
  const tsGte = queryTime(query['filter[ts][gte]'], 'filter[ts][gte]')
  const tsLte = queryTime(query['filter[ts][lte]'], 'filter[ts][lte]')
  checkTimeWindow(tsGte, tsLte)
  const bucketMs = BUCKET_MS[query.interval]
  const firstMs = bucketStartOf(tsGte, bucketMs)
  const lastMs = bucketStartOf(tsLte, bucketMs)
  if ((lastMs - firstMs) / bucketMs + 1 > MAX_BUCKETS) {
    throw invalidQuery('interval', `too many buckets (max ${MAX_BUCKETS})`, 'invalid')
  }
  const type = query['filter[type]']
  const stored = await services.store.countEvents({ orgId, tsGte, tsLte, bucketMs, ...(type ? { type } : {}) })
  const data = filledBuckets(firstMs, lastMs, bucketMs, stored)
  return { data, total: data.reduce((sum, bucket) => sum + bucket.count, 0) }
}
