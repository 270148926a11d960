// Runs `konnect-audit serve` as a child process for benchmarks: a fresh data dir, a known admin
// token, a port chosen free beforehand, readiness from /healthz, and its RSS sampled from /proc;
// and drives durable ingest against one or more of them (100 events a request, 2 connections each).

import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { Pool, request } from 'undici'
import { generateTokenSecret } from '../src/core/tokens.js'
import { BIN, benchDir } from './support.js'

export interface ServerProcess {
  readonly url: string
  readonly token: string
  readonly child: ChildProcess
  rssMiB(): number
  stop(): Promise<void>
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    })
  })
}

async function isHealthy(url: string): Promise<boolean> {
  try {
    const response = await request(`${url}/healthz`, { headersTimeout: 1000 })
    await response.body.dump()
    return response.statusCode === 200
  } catch {
    return false
  }
}

export interface ServerProcessOptions {
  /** The admin token to bootstrap with, e.g. another replica's; a fresh one when absent. */
  readonly adminToken?: string
}

export async function startServerProcess(
  extraArgs: readonly string[] = [],
  options: ServerProcessOptions = {},
): Promise<ServerProcess> {
  const dir = benchDir()
  const token = options.adminToken ?? generateTokenSecret()
  const tokenFile = join(dir, 'admin.token')
  writeFileSync(tokenFile, token, { mode: 0o600 })
  const port = await freePort()
  const args = [
    BIN,
    'serve',
    '--listen',
    `127.0.0.1:${port}`,
    '--data-dir',
    join(dir, 'data'),
    '--bootstrap-token-file',
    tokenFile,
    '--log-level',
    'warn',
    ...extraArgs,
  ]
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  // Keep the last few KiB of the log for error messages; reading it also keeps the pipe from filling.
  let log = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-8192)
  })
  const url = `http://127.0.0.1:${port}`
  const deadline = performance.now() + 20_000
  while (!(await isHealthy(url))) {
    if (child.exitCode !== null || performance.now() > deadline) throw new Error(`server did not start:\n${log}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {
    url,
    token,
    child,
    rssMiB: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}

const INGEST_BATCH = 100
export const INGEST_CONNECTIONS = 2

/** One gateway_access item of an ingest request body (about 300 bytes of JSON). */
export function ingestItem(i: number): string {
  return JSON.stringify({
    type: 'gateway_access',
    src: '2001:db8::17',
    principal_id: 'a3d2699a-0ed3-4417-bb10-d8e74a1513a4',
    request: `/api/v1/services/${i}/routes`,
    act: 'POST',
    status: 201,
    query: `{"page":"${i}","q":"some search text"}`,
    user_agent: 'edge-gw/3.9 (zone=eu-1) Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36',
  })
}

const ingestBody = Array.from({ length: INGEST_BATCH }, (_, i) => ingestItem(i)).join('\n')

/**
 * Posts `events` events, INGEST_BATCH to a request, over INGEST_CONNECTIONS connections to each
 * server, all drawing from one count so the load stays split until the end; `afterRequest` gets
 * the requests sent so far after each acknowledged one. Resolves with the seconds it took.
 */
export async function ingestEvents(
  servers: readonly ServerProcess[],
  events: number,
  afterRequest: (sent: number, requests: number) => void = () => {},
): Promise<number> {
  const requests = Math.ceil(events / INGEST_BATCH)
  let sent = 0
  const started = performance.now()
  const load = async (server: ServerProcess) => {
    const pool = new Pool(server.url, { connections: INGEST_CONNECTIONS, pipelining: 1 })
    const worker = async () => {
      while (sent < requests) {
        sent++
        const response = await pool.request({
          path: '/v1/audit-events',
          method: 'POST',
          headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/x-ndjson' },
          body: ingestBody,
        })
        if (response.statusCode !== 201)
          throw new Error(`ingest answered ${response.statusCode}: ${await response.body.text()}`)
        await response.body.dump()
        afterRequest(sent, requests)
      }
    }
    try {
      await Promise.all(Array.from({ length: INGEST_CONNECTIONS }, worker))
    } finally {
      await pool.close()
    }
  }
  await Promise.all(servers.map(load))
  return (performance.now() - started) / 1000
}
