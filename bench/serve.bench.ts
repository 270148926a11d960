// Benchmark of the service core (issue 4 targets): durable ingest events/s (100 events a
// request, 2 connections) against the single-core node:crypto Ed25519 sign rate of the same run,
// pull NDJSON events/s, stream latency from ingest acknowledgement to SSE receipt at 1,000
// events/s, and the server's RSS over a long ingest (KA_BENCH_INGEST_EVENTS).

import { generateKeyPairSync, sign } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { get } from 'node:http'
import type { Dispatcher } from 'undici'
import { Pool, request } from 'undici'
import { afterAll, bench, describe } from 'vitest'
import type { ServerProcess } from './server-process.js'
import { INGEST_CONNECTIONS, ingestEvents, ingestItem, startServerProcess } from './server-process.js'
import { report } from './support.js'

const INGEST_EVENTS = Number(process.env.KA_BENCH_INGEST_EVENTS ?? 200_000)
const once = { iterations: 1, time: 0, warmupIterations: 0, warmupTime: 0 }
const results: Array<[string, string]> = []
const rates: Record<string, number> = {}

function signRate(): number {
  const { privateKey } = generateKeyPairSync('ed25519')
  const message = Buffer.from(ingestItem(1).repeat(2).slice(0, 600))
  const count = 20_000
  const started = performance.now()
  for (let i = 0; i < count; i++) sign(null, message, privateKey)
  return count / ((performance.now() - started) / 1000)
}

/** Ingests `events` while sampling the server's RSS every 200 requests. */
async function ingestSamplingRss(
  server: ServerProcess,
  events: number,
): Promise<{ seconds: number; peakRssMiB: number; firstRssMiB: number }> {
  let peakRssMiB = 0
  let firstRssMiB = 0
  const seconds = await ingestEvents([server], events, (sent, requests) => {
    if (sent % 200 !== 0) return
    const rss = server.rssMiB()
    if (firstRssMiB === 0 && sent >= requests / 10) firstRssMiB = rss
    peakRssMiB = Math.max(peakRssMiB, rss)
  })
  return { seconds, peakRssMiB, firstRssMiB }
}

async function pullAll(server: ServerProcess): Promise<{ events: number; seconds: number }> {
  const pool = new Pool(server.url, { connections: 1 })
  let next: string | null = '/v3/audit-logs?page%5Bsize%5D=1000'
  let events = 0
  const started = performance.now()
  while (next) {
    const response: Dispatcher.ResponseData = await pool.request({
      path: next,
      method: 'GET',
      headers: { authorization: `Bearer ${server.token}`, accept: 'application/x-ndjson' },
    })
    const text = await response.body.text()
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) events++
    next = /<([^>]+)>; rel="next"/.exec(String(response.headers.link ?? ''))?.[1] ?? null
  }
  await pool.close()
  return { events, seconds: (performance.now() - started) / 1000 }
}

const STREAM_RATE_PER_S = 1000
const STREAM_SECONDS = 5

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? 0
}

/** Ingests at 1,000 events/s while one SSE client listens; latency = SSE receipt − ingest acknowledgement. */
async function streamLatencies(server: ServerProcess): Promise<number[]> {
  const received = new Map<string, number>()
  const acknowledged = new Map<string, number>()
  const stream = await new Promise<IncomingMessage>((resolve, reject) => {
    get(`${server.url}/v3/audit-logs/stream`, { headers: { authorization: `Bearer ${server.token}` } }, resolve).on(
      'error',
      reject,
    )
  })
  let buffered = ''
  stream.on('data', (chunk: Buffer) => {
    const now = performance.now()
    buffered += chunk.toString()
    const frames = buffered.split('\n\n')
    buffered = frames.pop() ?? ''
    for (const frame of frames) {
      const traceId = /"trace_id":(\d+)/.exec(frame)?.[1]
      if (traceId) received.set(traceId, now)
    }
  })
  const perTick = STREAM_RATE_PER_S / 20
  const ticks = STREAM_SECONDS * 20
  const started = performance.now()
  const pending: Array<Promise<void>> = []
  for (let tick = 0; tick < ticks; tick++) {
    const due = started + tick * 50
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())))
    const batch = Array.from({ length: perTick }, (_, i) => ingestItem(tick * perTick + i)).join('\n')
    pending.push(
      request(`${server.url}/v1/audit-events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/x-ndjson' },
        body: batch,
      }).then(async (response) => {
        const ackAt = performance.now()
        const body = (await response.body.json()) as { events: Array<{ trace_id: string }> }
        for (const event of body.events) acknowledged.set(event.trace_id, ackAt)
      }),
    )
  }
  await Promise.all(pending)
  const deadline = performance.now() + 5000
  const allArrived = () => [...acknowledged.keys()].every((traceId) => received.has(traceId))
  while (!allArrived() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  stream.destroy()
  return [...acknowledged].map(([traceId, ackAt]) =>
    Math.max(0, (received.get(traceId) ?? Number.POSITIVE_INFINITY) - ackAt),
  )
}

describe('serve', () => {
  bench(
    'node:crypto Ed25519 sign, one core',
    () => {
      rates.sign = signRate()
    },
    once,
  )

  bench(
    `ingest ${INGEST_EVENTS} events, then pull them`,
    async () => {
      const server = await startServerProcess()
      try {
        const ingest = await ingestSamplingRss(server, INGEST_EVENTS)
        rates.ingest = INGEST_EVENTS / ingest.seconds
        results.push([
          'server RSS during ingest',
          `${ingest.firstRssMiB.toFixed(0)} MiB at 10% -> ${ingest.peakRssMiB.toFixed(0)} MiB peak (target: flat within 50 MB)`,
        ])
        const pull = await pullAll(server)
        rates.pull = pull.events / pull.seconds
        const latencies = (await streamLatencies(server)).sort((a, b) => a - b)
        const missing = latencies.filter((latency) => !Number.isFinite(latency)).length
        results.push([
          `stream latency at ${STREAM_RATE_PER_S} events/s`,
          `p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms over ${latencies.length} events, ${missing} never arrived (target p99 < 50 ms)`,
        ])
      } finally {
        await server.stop()
      }
    },
    once,
  )
})

afterAll(() => {
  const { sign: signed = 0, ingest = 0, pull = 0 } = rates
  report('service core (same run)', [
    ['node:crypto sign, one core', `${signed.toFixed(0)} signatures/s`],
    [
      `ingest, durable, ${INGEST_CONNECTIONS} connections`,
      `${ingest.toFixed(0)} events/s = ${(ingest / signed).toFixed(2)}x sign rate (target >= 0.5x)`,
    ],
    ['pull NDJSON, 1000 a page', `${pull.toFixed(0)} events/s (target >= 100000)`],
    ...results,
  ])
})
