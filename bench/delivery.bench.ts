// Benchmark of live delivery (issue 5 targets): events/s from the server process to a loopback
// receiver in this process, for json and cef (signed at render), receiver included.

import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'
import { Pool } from 'undici'
import { afterAll, bench, describe } from 'vitest'
import type { ServerProcess } from './server-process.js'
import { startServerProcess } from './server-process.js'
import { report } from './support.js'

const EVENTS = Number(process.env.KA_BENCH_DELIVERY_EVENTS ?? 50_000)
const once = { iterations: 1, time: 0, warmupIterations: 0, warmupTime: 0 }
const rows: Array<[string, string]> = []

/** A receiver that only counts the lines it gets; resolves when `expected` have arrived. */
async function countingReceiver(expected: number) {
  let lines = 0
  let resolveAll: () => void = () => {}
  const all = new Promise<void>((resolve) => {
    resolveAll = resolve
  })
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = gunzipSync(Buffer.concat(chunks))
      for (let i = body.indexOf(0x0a); i >= 0; i = body.indexOf(0x0a, i + 1)) lines++
      response.writeHead(204).end()
      if (lines >= expected) resolveAll()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}/hook`, all, lines: () => lines, close: () => server.close() }
}

async function api(server: ServerProcess, method: string, path: string, body: unknown) {
  const pool = new Pool(server.url)
  const response = await pool.request({
    path,
    method: method as 'PATCH' | 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const text = await response.body.text()
  await pool.close()
  if (response.statusCode >= 300) throw new Error(`${method} ${path}: ${response.statusCode} ${text}`)
}

async function ingest(server: ServerProcess, events: number): Promise<void> {
  const item = JSON.stringify({
    type: 'gateway_access',
    src: '2001:db8::17',
    principal_id: 'a3d2699a-0ed3-4417-bb10-d8e74a1513a4',
    request: '/api/v1/services/1/routes',
    act: 'POST',
    status: 201,
    query: '{"page":"1","q":"some search text"}',
    user_agent: 'edge-gw/3.9 (zone=eu-1) Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36',
  })
  const body = Array.from({ length: 1000 }, () => item).join('\n')
  const pool = new Pool(server.url, { connections: 2 })
  for (let sent = 0; sent < events; sent += 1000) {
    const response = await pool.request({
      path: '/v1/audit-events',
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/x-ndjson' },
      body,
    })
    await response.body.dump()
  }
  await pool.close()
}

/** Events/s from enabling a paused webhook until the receiver holds every event. */
async function deliveryRate(format: 'json' | 'cef'): Promise<number> {
  const server = await startServerProcess(['--allow-insecure-endpoints'])
  try {
    // The receiver also gets the core's own events about these requests: wait for at least EVENTS.
    const receiver = await countingReceiver(EVENTS)
    await api(server, 'PATCH', '/v2/audit-log-webhook', { endpoint: receiver.url, log_format: format, enabled: false })
    await ingest(server, EVENTS)
    const started = performance.now()
    await api(server, 'PATCH', '/v2/audit-log-webhook', { enabled: true })
    await receiver.all
    const seconds = (performance.now() - started) / 1000
    receiver.close()
    return receiver.lines() / seconds
  } finally {
    await server.stop()
  }
}

describe('delivery', () => {
  for (const [format, target] of [
    ['json', 50_000],
    ['cef', 15_000],
  ] as const) {
    bench(
      `deliver ${EVENTS} ${format} events to a loopback receiver`,
      async () => {
        const rate = await deliveryRate(format)
        rows.push([`delivery, ${format}`, `${rate.toFixed(0)} events/s (target >= ${target})`])
      },
      once,
    )
  }
})

afterAll(() => report('delivery (same run)', rows))
