// The delivery crash test (issue 5, SPEC.md §6.2, §6.4): the built binary delivers to a loopback
// receiver in this process while events are ingested, and is killed with SIGKILL while a live
// batch is at the receiver, unanswered. Restarted on the same data dir, it delivers everything
// after the cursor it had when first configured: every stored line arrives at least once, byte
// for byte, each request covering the consecutive sequences its Konnect-Audit-Sequence-Range
// names and never skipping ahead of what arrived before; the batch in flight at the kill arrives
// again (the cursor only moves on a 2xx), and the duplicates are counted and logged. Every
// received line verifies against the server's JWKS.

import type { IncomingHttpHeaders } from 'node:http'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { readJwks } from '../../src/core/jwks.js'
import { generateTokenSecret } from '../../src/core/tokens.js'
import { LineVerifier } from '../../src/core/verify.js'
import { jsonOf } from '../helpers/server.js'
import type { ExitStatus, ServeProcess } from '../helpers/spawn-server.js'
import { spawnServe, within } from '../helpers/spawn-server.js'
import { tempDir } from '../helpers/temp-files.js'

const TOTAL_EVENTS = 20_000
const ITEMS_PER_BATCH = 250
/** How long the receiver holds each answer, so a batch is in flight for a while. */
const REPLY_DELAY_MS = 20
/** The live request (0-based) at whose arrival the server is killed: a few batches were delivered before. */
const KILL_AT_REQUEST = 5
const REQUEST_TIMEOUT_MS = 10_000
const DELIVERED_TIMEOUT_MS = 20_000
const MAX_PULL_PAGES = 1000
const CLASS_ID = 'delivery-crash'

/** One request as the receiver got it: its headers and the raw bytes of each gunzipped line. */
interface Delivery {
  readonly kind: string
  readonly orgId: string
  readonly first: number
  readonly last: number
  readonly lines: readonly Buffer[]
}

interface CountingReceiver {
  readonly url: string
  readonly deliveries: Delivery[]
  readonly problems: string[]
  /** How often each sequence arrived (from the range header and the line's position). */
  readonly arrivals: Map<number, number>
  /** Called once, at the arrival of live request `KILL_AT_REQUEST`, which is then never answered. */
  onKillPoint: (() => void) | null
  close(): Promise<void>
}

function splitLines(body: Buffer): Buffer[] {
  const lines: Buffer[] = []
  let start = 0
  for (let end = body.indexOf(0x0a); end >= 0; end = body.indexOf(0x0a, start)) {
    lines.push(body.subarray(start, end))
    start = end + 1
  }
  if (start !== body.length) lines.push(body.subarray(start))
  return lines
}

function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name]
  return typeof value === 'string' ? value : ''
}

/** A loopback receiver that records every line and answers 200 after REPLY_DELAY_MS. */
async function startCountingReceiver(): Promise<CountingReceiver> {
  const receiver: Omit<CountingReceiver, 'url' | 'close'> = {
    deliveries: [],
    problems: [],
    arrivals: new Map(),
    onKillPoint: null,
  }
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      let lines: Buffer[]
      try {
        lines = splitLines(gunzipSync(Buffer.concat(chunks)))
      } catch (error) {
        receiver.problems.push(`a body that does not gunzip: ${String(error)}`)
        response.writeHead(400).end()
        return
      }
      const range = /^(\d+)-(\d+)$/.exec(header(request.headers, 'konnect-audit-sequence-range'))
      const first = Number(range?.[1] ?? Number.NaN)
      const last = Number(range?.[2] ?? Number.NaN)
      const delivery: Delivery = {
        kind: header(request.headers, 'konnect-audit-delivery'),
        orgId: header(request.headers, 'konnect-audit-org-id'),
        first,
        last,
        lines,
      }
      receiver.deliveries.push(delivery)
      if (range === null || last - first + 1 !== lines.length) {
        receiver.problems.push(
          `request ${receiver.deliveries.length - 1}: range ${range?.[0]} for ${lines.length} lines`,
        )
      } else {
        for (let sequence = first; sequence <= last; sequence++) {
          receiver.arrivals.set(sequence, (receiver.arrivals.get(sequence) ?? 0) + 1)
        }
      }
      if (receiver.deliveries.length - 1 === KILL_AT_REQUEST && receiver.onKillPoint !== null) {
        // The kill lands while this request waits for its answer: it never gets one.
        receiver.onKillPoint()
        return
      }
      setTimeout(() => {
        if (!response.destroyed) response.writeHead(200).end()
      }, REPLY_DELAY_MS)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}/hook`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  })
}

function ingestBody(batch: number): string {
  return `${Array.from({ length: ITEMS_PER_BATCH }, (_, index) =>
    JSON.stringify({
      type: 'authorization',
      src: '192.0.2.10',
      principal_id: `batch-${batch}`,
      event_class_id: CLASS_ID,
      name: 'Authz.delivery',
      action: `item-${index}`,
      granted: true,
    }),
  ).join('\n')}\n`
}

interface IngestProgress {
  acknowledged: number
  batches: number
  readonly unexpected: string[]
}

/**
 * Posts batches one after another until `acknowledged` reaches `target`. A failed request ends
 * the loop: quietly once `stopOnError()` is true (after the kill), else recorded as unexpected.
 */
async function ingestUntil(
  server: ServeProcess,
  token: string,
  progress: IngestProgress,
  target: number,
  stopOnError: () => boolean,
): Promise<void> {
  while (progress.acknowledged < target) {
    const batch = progress.batches++
    try {
      const response = await fetch(`${server.url}/v1/audit-events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
        body: ingestBody(batch),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      })
      const text = await response.text()
      if (response.status !== 201) {
        progress.unexpected.push(`batch ${batch}: HTTP ${response.status} ${text}`)
        return
      }
      progress.acknowledged += (JSON.parse(text) as { accepted: number }).accepted
    } catch (error) {
      if (!stopOnError()) progress.unexpected.push(`batch ${batch}: ${String(error)}`)
      return
    }
  }
}

async function api(server: ServeProcess, token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  })
  expect(response.status, `${method} ${path}`).toBe(200)
  return jsonOf(response)
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`)
    await delay(10)
  }
}

/** Every stored line of the org as NDJSON in sequence order, following Link rel="next", as raw bytes. */
async function pullAllLines(url: string, token: string): Promise<Buffer[]> {
  const lines: Buffer[] = []
  let next: string | null = '/v3/audit-logs?page%5Bsize%5D=1000'
  for (let page = 0; next !== null; page++) {
    if (page >= MAX_PULL_PAGES) throw new Error(`more than ${MAX_PULL_PAGES} pages`)
    const response: Response = await fetch(`${url}${next}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/x-ndjson' },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    })
    expect(response.status).toBe(200)
    const body = Buffer.from(await response.arrayBuffer())
    const pageLines = splitLines(body)
    expect(body.length === 0 || body.at(-1) === 0x0a, 'every NDJSON line ends with \\n').toBe(true)
    lines.push(...pageLines)
    next = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1] ?? null
  }
  return lines
}

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
    const orgId: string = (await api(server, token, 'GET', '/v1/whoami')).org.id
    // Configured paused first, so the cursor it starts at (the head then) is read before anything can move it.
    const webhook = { endpoint: receiver.url, log_format: 'json', enabled: false }
    await api(server, token, 'PATCH', '/v2/audit-log-webhook', webhook)
    const cursorAtConfiguration: number = (await api(server, token, 'GET', '/v2/audit-log-webhook/status'))
      .delivered_sequence
    await api(server, token, 'PATCH', '/v2/audit-log-webhook', { enabled: true })

    const killPoint = new Promise<void>((resolve) => {
      receiver.onKillPoint = () => {
        killed = true
        server.child.kill('SIGKILL')
        resolve()
      }
    })
    const ingesting = ingestUntil(server, token, progress, TOTAL_EVENTS, () => killed)
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
    receiver.onKillPoint = null
    server.child.kill('SIGKILL')
  }
}

/**
 * Checks every request against the stored lines (`stored[sequence - 1]`): live, of the org, its
 * lines the consecutive sequences of its range, byte for byte, each verifying; and no request
 * starting past the highest sequence that had arrived before it.
 */
function checkDeliveries(receiver: CountingReceiver, stored: readonly Buffer[], verifier: LineVerifier, run: FirstRun) {
  expect(receiver.problems).toEqual([])
  const notLive = receiver.deliveries.filter(({ kind, orgId }) => kind !== 'live' || orgId !== run.orgId)
  expect(notLive.map(({ kind, orgId }) => ({ kind, orgId }))).toEqual([])
  let highest = run.cursorAtConfiguration
  const skips: string[] = []
  const differing: number[] = []
  const notValid: string[] = []
  for (const [index, { first, last, lines }] of receiver.deliveries.entries()) {
    if (first > highest + 1) skips.push(`request ${index}: ${first}-${last} after ${highest}`)
    highest = Math.max(highest, last)
    for (const [offset, line] of lines.entries()) {
      if (!line.equals(stored[first + offset - 1] ?? Buffer.alloc(0))) differing.push(first + offset)
      if (verifier.verify(line).status !== 'valid') notValid.push(line.toString('utf8'))
    }
  }
  expect(skips, 'requests that skipped sequences').toEqual([])
  expect(differing.slice(0, 5), 'sequences whose received line differs from the stored one').toEqual([])
  expect(notValid.slice(0, 5), 'received lines that do not verify').toEqual([])
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
    const receiver = await startCountingReceiver()
    try {
      const progress: IngestProgress = { acknowledged: 0, batches: 0, unexpected: [] }
      const run = await runUntilKilled(args, token, receiver, progress)
      expect(progress.unexpected).toEqual([])

      const second = await spawnServe(args)
      let secondExit: ExitStatus
      try {
        // The rest of the events go to the restarted server while it catches up.
        await within(
          ingestUntil(second, token, progress, TOTAL_EVENTS, () => false),
          20_000,
          'the ingest after the restart did not finish',
        )
        expect(progress.unexpected).toEqual([])
        const head: number = (await api(second, token, 'GET', '/v2/audit-log-webhook/status')).head_sequence
        const expected = head - run.cursorAtConfiguration
        const arrived = () => {
          let count = 0
          for (let sequence = run.cursorAtConfiguration + 1; sequence <= head; sequence++) {
            if (receiver.arrivals.has(sequence)) count++
          }
          return count
        }
        await waitUntil(
          () => arrived() === expected,
          DELIVERED_TIMEOUT_MS,
          () => `sequences ${run.cursorAtConfiguration + 1}-${head} at the receiver (${expected - arrived()} missing)`,
        )

        const stored = await pullAllLines(second.url, token)
        expect(stored.length, 'the pull walks sequences 1..head at least').toBeGreaterThanOrEqual(head)
        const jwks = await fetch(`${second.url}/v2/audit-log-webhook/jwks.json`)
        checkDeliveries(receiver, stored, new LineVerifier(readJwks(await jwks.text()).keys), run)

        // Every stored line after the configuration cursor arrived, compared by its bytes.
        const received = new Set(
          receiver.deliveries.flatMap(({ lines }) => lines.map((line) => line.toString('latin1'))),
        )
        const lost = stored
          .slice(run.cursorAtConfiguration, head)
          .filter((line) => !received.has(line.toString('latin1')))
        expect(lost.map((line) => line.toString('utf8')).slice(0, 5), 'stored lines never delivered').toEqual([])
        const ingested = stored.filter((line) => line.includes(`"event_class_id":"${CLASS_ID}"`)).length
        expect(ingested).toBeGreaterThanOrEqual(TOTAL_EVENTS)

        // The batch in flight at the kill got no 2xx, so the cursor stayed before it: it came again.
        const notResent: number[] = []
        for (let sequence = run.killed.first; sequence <= run.killed.last; sequence++) {
          if ((receiver.arrivals.get(sequence) ?? 0) < 2) notResent.push(sequence)
        }
        expect(notResent.slice(0, 5), 'sequences of the batch in flight at the kill not sent again').toEqual([])

        const lines = receiver.deliveries.reduce((sum, delivery) => sum + delivery.lines.length, 0)
        const duplicates = lines - receiver.arrivals.size
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
