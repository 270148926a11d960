// Benchmark of replay (issue 5): the end-to-end time to replay 100,000 events (KA_BENCH_REPLAY_EVENTS)
// from the server process to a loopback receiver in this process, json lines, receiver included:
// from the PUT of the job until the receiver holds every line the job selected (`progress.total`).
// The events are ingested before the webhook is first configured, so its live cursor starts at the
// head (SPEC.md §6.4) and live delivery sends none of them; the receiver counts only requests
// marked `Konnect-Audit-Delivery: replay`. There is no numeric target: the result is printed.

import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'
import { Pool } from 'undici'
import { afterAll, bench, describe } from 'vitest'
import type { ServerProcess } from './server-process.js'
import { startServerProcess } from './server-process.js'
import { report } from './support.js'

const EVENTS = Number(process.env.KA_BENCH_REPLAY_EVENTS ?? 100_000)
const BATCH = 1000
const INGEST_TIMEOUT_MS = 300_000
const REPLAY_TIMEOUT_MS = 300_000
const POLL_MS = 50
const once = { iterations: 1, time: 0, warmupIterations: 0, warmupTime: 0 }
const rows: Array<[string, string]> = []

interface ReplayJob {
  readonly status: string
  readonly progress: { readonly total: number; readonly sent: number }
  readonly error: string | null
}

/** A receiver that counts the replayed lines it gets and when the last of them arrived. */
async function replayCounter() {
  const counts = { replayLines: 0, lastReplayAt: 0 }
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      if (request.headers['konnect-audit-delivery'] === 'replay') {
        const body = gunzipSync(Buffer.concat(chunks))
        for (let i = body.indexOf(0x0a); i >= 0; i = body.indexOf(0x0a, i + 1)) counts.replayLines++
        counts.lastReplayAt = performance.now()
      }
      response.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hook`,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

async function api<T>(pool: Pool, token: string, method: 'GET' | 'PATCH' | 'PUT', path: string, body?: unknown) {
  const response = await pool.request({
    path,
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  })
  const text = await response.body.text()
  if (response.statusCode >= 300) throw new Error(`${method} ${path}: ${response.statusCode} ${text}`)
  return JSON.parse(text) as T
}

async function ingest(pool: Pool, token: string, events: number): Promise<void> {
  const deadline = performance.now() + INGEST_TIMEOUT_MS
  for (let sent = 0; sent < events; sent += BATCH) {
    if (performance.now() > deadline) throw new Error(`ingest of ${events} events took over ${INGEST_TIMEOUT_MS} ms`)
    const items = Array.from({ length: Math.min(BATCH, events - sent) }, (_, i) =>
      JSON.stringify({
        type: 'gateway_access',
        src: '2001:db8::17',
        principal_id: 'a3d2699a-0ed3-4417-bb10-d8e74a1513a4',
        request: `/api/v1/services/${sent + i}/routes`,
        act: 'POST',
        status: 201,
        query: `{"page":"${sent + i}","q":"some search text"}`,
        user_agent: 'edge-gw/3.9 (zone=eu-1) Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36',
      }),
    )
    const response = await pool.request({
      path: '/v1/audit-events',
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
      body: items.join('\n'),
      headersTimeout: 60_000,
    })
    const text = await response.body.text()
    if (response.statusCode !== 201) throw new Error(`ingest: ${response.statusCode} ${text}`)
  }
}

/** Seconds from the PUT of a replay job over everything ingested until the receiver holds every selected line. */
async function replayRun(server: ServerProcess): Promise<{ seconds: number; total: number }> {
  const pool = new Pool(server.url, { connections: 2 })
  const receiver = await replayCounter()
  try {
    // A second before the first event, in whole seconds, so the window holds every ingested event.
    const startAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 1000).toISOString()
    await ingest(pool, server.token, EVENTS)
    await api(pool, server.token, 'PATCH', '/v2/audit-log-webhook', {
      endpoint: receiver.url,
      log_format: 'json',
      enabled: true,
    })
    const endAt = new Date(Math.floor(Date.now() / 1000) * 1000 + 1000).toISOString()

    const started = performance.now()
    await api(pool, server.token, 'PUT', '/v2/audit-log-replay-job', { start_at: startAt, end_at: endAt })
    const deadline = started + REPLAY_TIMEOUT_MS
    let job = await api<ReplayJob>(pool, server.token, 'GET', '/v2/audit-log-replay-job')
    while (job.status !== 'completed' || receiver.counts.replayLines < job.progress.total) {
      if (job.status === 'failed') throw new Error(`the replay job failed: ${job.error}`)
      if (performance.now() > deadline) {
        throw new Error(
          `replay not done after ${REPLAY_TIMEOUT_MS} ms: ${JSON.stringify(job)}, ${receiver.counts.replayLines} lines received`,
        )
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
      job = await api<ReplayJob>(pool, server.token, 'GET', '/v2/audit-log-replay-job')
    }
    if (job.progress.total < EVENTS) throw new Error(`the job selected ${job.progress.total} of ${EVENTS} events`)
    return { seconds: (receiver.counts.lastReplayAt - started) / 1000, total: job.progress.total }
  } finally {
    await pool.close()
    await receiver.close()
  }
}

describe('replay', () => {
  bench(
    `replay ${EVENTS} json events to a loopback receiver`,
    async () => {
      const server = await startServerProcess(['--allow-insecure-endpoints'])
      try {
        const { seconds, total } = await replayRun(server)
        rows.push([
          `replay, json (${total} events selected)`,
          `${seconds.toFixed(2)} s end to end, ${(total / seconds).toFixed(0)} events/s (no target)`,
        ])
      } finally {
        await server.stop()
      }
    },
    once,
  )
})

afterAll(() => report('replay (same run)', rows))
