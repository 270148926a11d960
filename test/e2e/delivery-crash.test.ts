// The delivery crash test (issue 5, SPEC.md §6.2, §6.4): the built binary delivers to a loopback
// receiver in this process while events are ingested, and is killed with SIGKILL while a live
// batch is at the receiver, unanswered. Restarted on the same data dir, it delivers everything
// after the cursor it had when first configured: every stored line arrives at least once, byte
// for byte, each request covering the consecutive sequences its Konnect-Audit-Sequence-Range
// names and never skipping ahead of what arrived before; the batch in flight at the kill arrives
// again (the cursor only moves on a 2xx), and the duplicates are counted and logged. Every
// received line verifies against the server's JWKS.

import { describe, expect, it } from 'vitest'
import { readJwks } from '../../src/core/jwks.js'
import { generateTokenSecret } from '../../src/core/tokens.js'
import { LineVerifier } from '../../src/core/verify.js'
import type { CountingReceiver, Delivery, IngestProgress } from '../helpers/e2e.js'
import {
  api,
  arrivedBetween,
  checkDeliveries,
  duplicateLines,
  ingestBody,
  ingestUntil,
  pullAllLines,
  REQUEST_TIMEOUT_MS,
  startCountingReceiver,
  waitUntil,
} from '../helpers/e2e.js'
import type { ExitStatus } from '../helpers/spawn-server.js'
import { spawnServe, within } from '../helpers/spawn-server.js'
import { tempDir } from '../helpers/temp-files.js'

const TOTAL_EVENTS = 20_000
const ITEMS_PER_BATCH = 250
/** How long the receiver holds each answer, so a batch is in flight for a while. */
const REPLY_DELAY_MS = 20
/** The live request (0-based) at whose arrival the server is killed: a few batches were delivered before. */
const KILL_AT_REQUEST = 5
const DELIVERED_TIMEOUT_MS = 20_000
const CLASS_ID = 'delivery-crash'
const body = (batch: number) => ingestBody(batch, ITEMS_PER_BATCH, CLASS_ID)

/** What the first server left behind: the cursor it was configured at and the batch in flight at its SIGKILL. */

interface FirstRun {
  readonly orgId: string
  readonly cursorAtConfiguration: number
  readonly killed: Delivery
  readonly acknowledgedBeforeKill: number
}

/** Configures the webhook, ingests while it delivers, and SIGKILLs the server when request KILL_AT_REQUEST arrives. */
async function runUntilKilled(
  args: readonly string[],
  token: string,
  receiver: CountingReceiver,
  progress: IngestProgress,
): Promise<FirstRun> {
  const server = await spawnServe(args)
  let killed = false
  try {
    const orgId: string = (await api(server.url, token, 'GET', '/v1/whoami')).org.id
    // Configured paused first, so the cursor it starts at (the head then) is read before anything can move it.
    const webhook = { endpoint: receiver.url, log_format: 'json', enabled: false }
    await api(server.url, token, 'PATCH', '/v2/audit-log-webhook', webhook)
    const cursorAtConfiguration: number = (await api(server.url, token, 'GET', '/v2/audit-log-webhook/status'))
      .delivered_sequence
    await api(server.url, token, 'PATCH', '/v2/audit-log-webhook', { enabled: true })

    const killPoint = new Promise<void>((resolve) => {
      receiver.onHold = () => {
        killed = true
        server.child.kill('SIGKILL')
        resolve()
      }
    })
    const ingesting = ingestUntil(server.url, token, progress, TOTAL_EVENTS, body, () => killed)
    await within(killPoint, 15_000, `live request ${KILL_AT_REQUEST} did not arrive`)
    expect(await within(server.exited, 5000, 'the killed server did not exit')).toEqual({
      code: null,
      signal: 'SIGKILL',
    })
    await within(ingesting, REQUEST_TIMEOUT_MS + 2000, 'the ingest loop did not stop')
    const killedDelivery = receiver.deliveries[KILL_AT_REQUEST]
    if (killedDelivery === undefined) throw new Error('the request in flight at the kill was not recorded')
    return { orgId, cursorAtConfiguration, killed: killedDelivery, acknowledgedBeforeKill: progress.acknowledged }
  } finally {
    receiver.onHold = null
    server.child.kill('SIGKILL')
  }
}

describe('crash safety of delivery', () => {
  it('delivers every stored event after a SIGKILL mid-delivery (at least once; duplicates counted and logged)', {
    timeout: 40_000,
  }, async () => {
    const dir = tempDir('ka-delivery-crash-')
    const token = generateTokenSecret()
    const args = [
      ...['--data-dir', dir.path('data'), '--bootstrap-token-file', dir.write('admin.token', `${token}\n`)],
      '--allow-insecure-endpoints',
    ]
    const receiver = await startCountingReceiver(REPLY_DELAY_MS, KILL_AT_REQUEST)
    try {
      const progress: IngestProgress = { acknowledged: 0, batches: 0, unexpected: [] }
      const run = await runUntilKilled(args, token, receiver, progress)
      expect(progress.unexpected).toEqual([])

      const second = await spawnServe(args)
      let secondExit: ExitStatus
      try {
        // The rest of the events go to the restarted server while it catches up.
        await within(
          ingestUntil(second.url, token, progress, TOTAL_EVENTS, body, () => false),
          20_000,
          'the ingest after the restart did not finish',
        )
        expect(progress.unexpected).toEqual([])
        const head: number = (await api(second.url, token, 'GET', '/v2/audit-log-webhook/status')).head_sequence
        const expected = head - run.cursorAtConfiguration
        const arrived = () => arrivedBetween(receiver, run.cursorAtConfiguration, head)
        await waitUntil(
          () => arrived() === expected,
          DELIVERED_TIMEOUT_MS,
          () => `sequences ${run.cursorAtConfiguration + 1}-${head} at the receiver (${expected - arrived()} missing)`,
        )

        const stored = await pullAllLines(second.url, token)
        expect(stored.length, 'the pull walks sequences 1..head at least').toBeGreaterThanOrEqual(head)
        const jwks = await fetch(`${second.url}/v2/audit-log-webhook/jwks.json`)
        checkDeliveries(receiver, stored, new LineVerifier(readJwks(await jwks.text()).keys), { ...run, head })
        const ingested = stored.filter((line) => line.includes(`"event_class_id":"${CLASS_ID}"`)).length
        expect(ingested).toBeGreaterThanOrEqual(TOTAL_EVENTS)

        // The batch in flight at the kill got no 2xx, so the cursor stayed before it: it came again.
        const notResent: number[] = []
        for (let sequence = run.killed.first; sequence <= run.killed.last; sequence++) {
          if ((receiver.arrivals.get(sequence) ?? 0) < 2) notResent.push(sequence)
        }
        expect(notResent.slice(0, 5), 'sequences of the batch in flight at the kill not sent again').toEqual([])

        const lines = receiver.deliveries.reduce((sum, delivery) => sum + delivery.lines.length, 0)
        const duplicates = duplicateLines(receiver)
        expect(duplicates).toBeGreaterThanOrEqual(run.killed.lines.length)
        console.info(
          `delivery crash: ${expected} events to deliver (${run.acknowledgedBeforeKill} ingested before the kill), ` +
            `${receiver.deliveries.length} requests, ${lines} lines received, ${duplicates} duplicates ` +
            `(killed in flight: ${run.killed.first}-${run.killed.last})`,
        )
      } finally {
        secondExit = await second.stop('SIGTERM')
      }
      expect(secondExit, 'SIGTERM is a normal shutdown').toEqual({ code: 0, signal: null })
    } finally {
      await receiver.close()
    }
  })
})
