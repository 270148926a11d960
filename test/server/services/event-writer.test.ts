// The event writer's deferred events (access events written after the response): they ride along
// with the org's next write as a store call of their own in the same turn, or go alone after
// DEFER_MS, or at flushAll; a failed commit rejects their callers only. Runs on a real SQLite store.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { EventBus } from '../../../src/server/services/event-bus.js'
import { DEFER_MS, EventWriter } from '../../../src/server/services/event-writer.js'
import { openSqliteStore } from '../../../src/store/sqlite/index.js'
import type { EventDraft, Store } from '../../../src/store/store.js'
import { parseTraceId } from '../../../src/util/u64.js'
import { FIXED_ORG, FIXED_ORG_ID } from '../../helpers/fixed-org.js'

const draft = (line: string): EventDraft => ({
  type: 'gateway_access',
  eventTsMs: 1,
  traceId: parseTraceId('9'),
  render: () => line,
})

describe('EventWriter deferred events', () => {
  let dir: string
  let store: Store
  let calls: number
  let scheduled: Array<{ ms: number; task: () => void; cancelled: boolean }>
  let writer: EventWriter
  const announced: number[] = []

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ka-writer-'))
    const opened = await openSqliteStore({ path: join(dir, 'store.db') })
    await opened.bootstrap(FIXED_ORG)
    calls = 0
    store = {
      ...opened,
      appendEvents: (...args) => {
        calls++
        return opened.appendEvents(...args)
      },
    }
    scheduled = []
    const bus = new EventBus()
    announced.length = 0
    bus.subscribe((_org, head) => announced.push(head))
    writer = new EventWriter(
      store,
      bus,
      () => 1000,
      (ms, task) => {
        const entry = { ms, task, cancelled: false }
        scheduled.push(entry)
        return () => {
          entry.cancelled = true
        }
      },
    )
  })
  afterEach(async () => {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const lines = async () =>
    (await store.readEvents({ orgId: FIXED_ORG_ID, afterSequence: 0, throughSequence: 99, limit: 99 })).map((event) =>
      event.line.toString(),
    )

  it('commits deferred events first, with the org’s next write, and cancels their timer', async () => {
    const soon = writer.appendSoon(FIXED_ORG_ID, [draft('{"access":1}')])
    const later = writer.appendSoon(FIXED_ORG_ID, [draft('{"access":2}')])
    expect(scheduled.map((entry) => entry.ms)).toEqual([DEFER_MS])

    const own = await writer.append(FIXED_ORG_ID, [draft('{"auth":1}')])
    expect(own.map((event) => event.sequence)).toEqual([3])
    expect((await soon).map((event) => event.sequence)).toEqual([1])
    expect((await later).map((event) => event.sequence)).toEqual([2])
    expect(await lines()).toEqual(['{"access":1}', '{"access":2}', '{"auth":1}'])
    expect(scheduled[0]?.cancelled).toBe(true)
    expect(announced).toContain(3)
  })

  it('commits deferred events on their own when the timer fires, and at flushAll', async () => {
    const first = writer.appendSoon(FIXED_ORG_ID, [draft('{"access":1}')])
    scheduled[0]?.task()
    expect((await first).map((event) => event.sequence)).toEqual([1])

    const second = writer.appendSoon(FIXED_ORG_ID, [draft('{"access":2}')])
    await writer.flushAll()
    expect((await second).map((event) => event.sequence)).toEqual([2])
    expect(calls).toBe(2)
  })

  it('rejects only the deferred callers when their own commit fails', async () => {
    const failing = writer.appendSoon(FIXED_ORG_ID, [
      {
        ...draft(''),
        render: () => {
          throw new Error('signer unavailable')
        },
      },
    ])
    const own = await writer.append(FIXED_ORG_ID, [draft('{"auth":1}')])
    await expect(failing).rejects.toThrow('signer unavailable')
    expect(own.map((event) => event.sequence)).toEqual([1])
    expect(await lines()).toEqual(['{"auth":1}'])
  })
})
