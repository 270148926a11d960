// Helpers of the tests that spawn the built binary (crash, delivery crash, replicas): a loopback
// receiver that records every gunzipped line and can hold a chosen request unanswered (the kill
// point), an ingest loop, a pull of every stored line, and the checks that what arrived is what
// was stored.

import type { IncomingHttpHeaders } from 'node:http'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { gunzipSync } from 'node:zlib'
import { expect } from 'vitest'
import type { LineVerifier } from '../../src/core/verify.js'
import { jsonOf } from './server.js'

export const REQUEST_TIMEOUT_MS = 10_000
const MAX_PULL_PAGES = 1000

/** One request as the receiver got it: its headers and the raw bytes of each gunzipped line. */
export interface Delivery {
  readonly kind: string
  readonly orgId: string
  readonly first: number
  readonly last: number
  readonly lines: readonly Buffer[]
}

export interface CountingReceiver {
  readonly url: string
  readonly deliveries: Delivery[]
  readonly problems: string[]
  /** How often each sequence arrived (from the range header and the line's position). */
  readonly arrivals: Map<number, number>
  /** Called at the arrival of request `holdAtRequest` (0-based), which is then never answered. */
  onHold: ((delivery: Delivery) => void) | null
  close(): Promise<void>
}

export function splitLines(body: Buffer): Buffer[] {
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

/** A loopback receiver that records every line and answers 200 after `replyDelayMs`. */
export async function startCountingReceiver(replyDelayMs: number, holdAtRequest: number): Promise<CountingReceiver> {
  const receiver: Omit<CountingReceiver, 'url' | 'close'> = {
    deliveries: [],
    problems: [],
    arrivals: new Map(),
    onHold: null,
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
      if (receiver.deliveries.length - 1 === holdAtRequest && receiver.onHold !== null) {
        // The kill lands while this request waits for its answer: it never gets one.
        receiver.onHold(delivery)
        return
      }
      setTimeout(() => {
        if (!response.destroyed) response.writeHead(200).end()
      }, replyDelayMs)
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

/** NDJSON of `items` authorization events, each naming its batch and `classId`. */
export function ingestBody(batch: number, items: number, classId: string): string {
  return `${Array.from({ length: items }, (_, index) =>
    JSON.stringify({
      type: 'authorization',
      src: '192.0.2.10',
      principal_id: `batch-${batch}`,
      event_class_id: classId,
      name: 'Authz.delivery',
      action: `item-${index}`,
      granted: true,
    }),
  ).join('\n')}\n`
}

export interface IngestProgress {
  acknowledged: number
  batches: number
  readonly unexpected: string[]
}

/**
 * Posts batches one after another to `url` until `acknowledged` reaches `target`. A failed request
 * ends the loop: quietly once `stopOnError()` is true (after a kill), else recorded as unexpected.
 */
export async function ingestUntil(
  url: string,
  token: string,
  progress: IngestProgress,
  target: number,
  body: (batch: number) => string,
  stopOnError: () => boolean,
): Promise<void> {
  while (progress.acknowledged < target) {
    const batch = progress.batches++
    try {
      const response = await fetch(`${url}/v1/audit-events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
        body: body(batch),
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

/** A JSON API call that must answer 200. */
export async function api(url: string, token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  })
  expect(response.status, `${method} ${path}`).toBe(200)
  return jsonOf(response)
}

export async function waitUntil(condition: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`)
    await delay(10)
  }
}

/** Every stored line of the org as NDJSON in sequence order, following Link rel="next", as raw bytes. */
export async function pullAllLines(url: string, token: string): Promise<Buffer[]> {
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

/** How many of the sequences in (after, through] arrived at least once. */
export function arrivedBetween(receiver: CountingReceiver, after: number, through: number): number {
  let count = 0
  for (let sequence = after + 1; sequence <= through; sequence++) {
    if (receiver.arrivals.has(sequence)) count++
  }
  return count
}

/**
 * Checks every request against the stored lines (`stored[sequence - 1]`): live, of the org, its
 * lines the consecutive sequences of its range, byte for byte, each verifying; no request
 * starting past the highest sequence that had arrived before it; and every stored line after the
 * cursor the webhook was configured at, through `head`, received.
 */
export function checkDeliveries(
  receiver: CountingReceiver,
  stored: readonly Buffer[],
  verifier: LineVerifier,
  expected: { readonly orgId: string; readonly cursorAtConfiguration: number; readonly head: number },
): void {
  expect(receiver.problems).toEqual([])
  const notLive = receiver.deliveries.filter(({ kind, orgId }) => kind !== 'live' || orgId !== expected.orgId)
  expect(notLive.map(({ kind, orgId }) => ({ kind, orgId }))).toEqual([])
  let highest = expected.cursorAtConfiguration
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
  const received = new Set(receiver.deliveries.flatMap(({ lines }) => lines.map((line) => line.toString('latin1'))))
  const lost = stored
    .slice(expected.cursorAtConfiguration, expected.head)
    .filter((line) => !received.has(line.toString('latin1')))
  expect(lost.map((line) => line.toString('utf8')).slice(0, 5), 'stored lines never delivered').toEqual([])
}

/** Lines received minus distinct sequences received: what at-least-once sent twice. */
export function duplicateLines(receiver: CountingReceiver): number {
  const lines = receiver.deliveries.reduce((sum, delivery) => sum + delivery.lines.length, 0)
  return lines - receiver.arrivals.size
}
