// The crash test of the service core (SPEC.md §5.4, §8): the built binary takes acknowledged
// ingests from two concurrent loops and is killed with SIGKILL mid-flight; restarted on the same
// data dir (its stale serve.lock taken over), it still has every acknowledged event, each batch
// all or nothing, every pulled line verifies against its JWKS, and the sequences read straight
// from the SQLite file run 1..N without a gap.

import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { readJwks } from '../../src/core/jwks.js'
import { generateTokenSecret } from '../../src/core/tokens.js'
import { LineVerifier } from '../../src/core/verify.js'
import { SQLITE_FILE } from '../../src/server/data-dir.js'
import { openSqliteStore } from '../../src/store/sqlite/index.js'
import { pullAllLines, REQUEST_TIMEOUT_MS, waitUntil } from '../helpers/e2e.js'
import { jsonOf } from '../helpers/server.js'
import type { ExitStatus, ServeProcess } from '../helpers/spawn-server.js'
import { spawnServe, within } from '../helpers/spawn-server.js'
import { tempDir } from '../helpers/temp-files.js'

const ITEMS_PER_BATCH = 50
const LOOPS = 2
const KILL_AFTER_MS = 1500
const MAX_BATCHES_PER_LOOP = 2000
const CLASS_ID = 'crash-test'

/** What the ingest loops saw: acknowledged trace ids (with their batch), and anything unexpected. */
interface Ledger {
  readonly acknowledged: Map<string, string>
  readonly unexpected: string[]
  inFlight: number
  killed: boolean
}

/** One NDJSON batch whose items all carry the batch id as principal, to check all-or-nothing. */
function batchBody(batchId: string): string {
  const item = JSON.stringify({
    type: 'authorization',
    src: '192.0.2.10',
    principal_id: batchId,
    event_class_id: CLASS_ID,
    name: 'Authz.crash',
    action: 'create',
    granted: true,
  })
  return `${Array.from({ length: ITEMS_PER_BATCH }, () => item).join('\n')}\n`
}

/** Posts batches one after another until the server goes away (or a bound is reached). */
async function ingestUntilKilled(server: ServeProcess, token: string, loop: number, ledger: Ledger, deadline: number) {
  for (let batch = 0; batch < MAX_BATCHES_PER_LOOP && Date.now() < deadline; batch++) {
    const batchId = `loop-${loop}-batch-${batch}`
    ledger.inFlight++
    try {
      const response = await fetch(`${server.url}/v1/audit-events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
        body: batchBody(batchId),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      })
      const text = await response.text()
      if (response.status !== 201) {
        ledger.unexpected.push(`${batchId}: HTTP ${response.status} ${text}`)
        return
      }
      const { events } = JSON.parse(text) as { events: { trace_id: string }[] }
      for (const { trace_id } of events) ledger.acknowledged.set(trace_id, batchId)
    } catch (error) {
      // After the kill a refused or reset connection is the expected end; before it, a failure.
      if (!ledger.killed) ledger.unexpected.push(`${batchId}: ${String(error)}`)
      return
    } finally {
      ledger.inFlight--
    }
  }
}

/** Every committed sequence of the org, read straight from the SQLite file in pages. */
async function storedSequences(dataDir: string, orgId: string): Promise<number[]> {
  const store = await openSqliteStore({ path: join(dataDir, SQLITE_FILE) })
  try {
    const sequences: number[] = []
    for (let page = 0; page < 1000; page++) {
      const events = await store.readEvents({
        orgId,
        afterSequence: sequences.at(-1) ?? 0,
        throughSequence: Number.MAX_SAFE_INTEGER,
        limit: 10_000,
      })
      if (events.length === 0) return sequences
      sequences.push(...events.map((event) => event.sequence))
    }
    throw new Error('too many events to read')
  } finally {
    await store.close()
  }
}

describe('crash safety of serve', () => {
  it('keeps every acknowledged event through SIGKILL, signed and gap-free', { timeout: 30_000 }, async () => {
    const dir = tempDir('ka-crash-')
    const dataDir = dir.path('data')
    const token = generateTokenSecret()
    const args = ['--data-dir', dataDir, '--bootstrap-token-file', dir.write('admin.token', `${token}\n`)]

    const first = await spawnServe(args)
    let orgId: string
    const ledger: Ledger = { acknowledged: new Map(), unexpected: [], inFlight: 0, killed: false }
    try {
      const whoami = await fetch(`${first.url}/v1/whoami`, { headers: { authorization: `Bearer ${token}` } })
      orgId = (await jsonOf(whoami)).org.id
      const deadline = Date.now() + 15_000
      const loops = Array.from({ length: LOOPS }, (_, loop) => ingestUntilKilled(first, token, loop, ledger, deadline))
      await delay(KILL_AFTER_MS)
      await waitUntil(
        () => ledger.inFlight > 0,
        1000,
        () => 'an ingest request in flight',
      )
      ledger.killed = true
      first.child.kill('SIGKILL')
      expect(await within(first.exited, 5000, 'the killed server did not exit')).toEqual({
        code: null,
        signal: 'SIGKILL',
      })
      await within(Promise.all(loops), REQUEST_TIMEOUT_MS + 2000, 'the ingest loops did not stop')
    } finally {
      first.child.kill('SIGKILL')
    }
    expect(ledger.unexpected).toEqual([])
    expect(ledger.acknowledged.size).toBeGreaterThanOrEqual(ITEMS_PER_BATCH * LOOPS)
    expect(existsSync(join(dataDir, 'serve.lock')), 'the killed server left its lock behind').toBe(true)

    const second = await spawnServe(args)
    let secondExit: ExitStatus | null = null
    try {
      const lines = await pullAllLines(second.url, token)
      const jwks = await fetch(`${second.url}/v2/audit-log-webhook/jwks.json`, {
        headers: { authorization: `Bearer ${token}` },
      })
      const verifier = new LineVerifier(readJwks(await jwks.text()).keys)
      const notValid = lines.filter((line) => verifier.verify(line).status !== 'valid')
      expect(notValid.map((line) => line.toString('utf8'))).toEqual([])

      const pulledTraceIds = new Set<string>()
      const itemsByBatch = new Map<string, number>()
      for (const line of lines) {
        const text = line.toString('utf8')
        pulledTraceIds.add(/"trace_id":(\d+)/.exec(text)?.[1] ?? '')
        if (!text.includes(`"event_class_id":"${CLASS_ID}"`)) continue
        const batchId = /"principal_id":"([^"]*)"/.exec(text)?.[1] ?? ''
        itemsByBatch.set(batchId, (itemsByBatch.get(batchId) ?? 0) + 1)
      }
      const lost = [...ledger.acknowledged].filter(([traceId]) => !pulledTraceIds.has(traceId))
      expect(lost, 'acknowledged events missing after the restart').toEqual([])
      const partial = [...itemsByBatch].filter(([, count]) => count !== ITEMS_PER_BATCH)
      expect(partial, 'batches stored only in part').toEqual([])
    } finally {
      secondExit = await second.stop('SIGTERM')
    }
    expect(secondExit, 'SIGTERM is a normal shutdown').toEqual({ code: 0, signal: null })

    const sequences = await storedSequences(dataDir, orgId)
    expect(sequences.length).toBeGreaterThan(ledger.acknowledged.size)
    const gaps = sequences.filter((sequence, index) => sequence !== index + 1)
    expect(gaps.slice(0, 5), `sequences must run 1..${sequences.length} without a gap`).toEqual([])
  })
})
