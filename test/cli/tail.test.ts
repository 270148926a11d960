import { spawn } from 'node:child_process'
import { EventEmitter } from 'node:events'
import type { Server, ServerResponse } from 'node:http'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PassThrough, Readable } from 'node:stream'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { TailTiming } from '../../src/cli/commands/tail.js'
import { run as runTail } from '../../src/cli/commands/tail.js'
import { errorText, exitCodeFor } from '../../src/cli/errors.js'
import { createFactory } from '../../src/cli/factory.js'
import { main } from '../../src/cli/main.js'
import type { ProcessPorts } from '../../src/io/streams.js'
import { liveStreamsOf } from '../../src/server/services/live-stream.js'
import type { TestServer } from '../helpers/server.js'
import { jsonBody, jsonOf, startTestServer } from '../helpers/server.js'
import { BIN, within } from '../helpers/spawn-server.js'
import { tempDir } from '../helpers/temp-files.js'

interface TailRecord {
  readonly sequence: number | null
  readonly status: string | null
  readonly kid: string | null
  readonly line: string
}

interface RunningTail {
  readonly exit: Promise<number>
  stdout(): string
  stderr(): string
  /** The --json records printed so far. */
  records(): TailRecord[]
  interrupt(): Promise<number>
}

let server: TestServer
let auditor: string
const home = tempDir('ka-tail-')

const envFor = (url: string, token: string) => ({
  KONNECT_AUDIT_SERVER: url,
  KONNECT_AUDIT_TOKEN: token,
  XDG_CONFIG_HOME: home.path('config'),
  HOME: home.path(''),
})

function capture(): { stream: PassThrough; text(): string } {
  const stream = new PassThrough()
  const chunks: Buffer[] = []
  stream.on('data', (chunk: Buffer) => chunks.push(chunk))
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') }
}

/** Ports with captured output and a signal the test sends, like Ctrl-C on a terminal. */
function testPorts(env: Record<string, string>) {
  const signals = new EventEmitter()
  const stdout = capture()
  const stderr = capture()
  const ports: ProcessPorts = {
    env,
    stdin: Object.assign(Readable.from([]), { isTTY: true }),
    stdout: stdout.stream,
    stderr: stderr.stream,
    on: (signal, listener) => signals.on(signal, listener),
  }
  return { ports, signals, stdout, stderr }
}

function running(exit: Promise<number>, io: ReturnType<typeof testPorts>): RunningTail {
  return {
    exit,
    stdout: io.stdout.text,
    stderr: io.stderr.text,
    records: () =>
      io.stdout
        .text()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as TailRecord),
    interrupt: () => {
      io.signals.emit('SIGINT')
      return exit
    },
  }
}

/** `konnect-audit tail ARGS` in-process, until the test interrupts it. */
function startTail(args: string[], env = envFor(server.url, auditor)): RunningTail {
  const io = testPorts(env)
  return running(main(['tail', ...args], io.ports), io)
}

/** tail with injected timing (no real backoff waits), through the same error-to-exit mapping as main. */
function startTailWithTiming(url: string, token: string, timing: TailTiming): RunningTail {
  const io = testPorts(envFor(url, token))
  const globals = { json: true, input: false, color: false, quiet: false, debug: false }
  const exit = runTail({ args: [], format: 'json' }, createFactory(io.ports, globals), timing).then(
    () => 0,
    (error: unknown) => {
      io.ports.stderr.write(errorText(error, false))
      return exitCodeFor(error)
    },
  )
  return running(exit, io)
}

async function waitFor(probe: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

const streamsOpen = (target: TestServer) => liveStreamsOf(target.services).countFor(target.services.defaultOrgId)

const item = (type: 'authorization' | 'gateway_access') => ({
  type,
  src: '198.51.100.7',
  principal_id: 'p',
  ...(type === 'authorization'
    ? { event_class_id: 'reports', name: 'Authz.reports|daily', action: 'list', granted: false, actor_id: 'svc=x' }
    : { request: '/api/ü', act: 'GET', status: 200, query: '{"q":"a=b"}' }),
})

async function ingest(
  target: TestServer,
  items: unknown[],
): Promise<{ first_sequence: number; last_sequence: number }> {
  const response = await target.request('/v1/audit-events', { method: 'POST', ...jsonBody(items) })
  expect(response.status).toBe(201)
  return jsonOf(response)
}

async function storedLines(target: TestServer): Promise<Map<number, { line: string; type: string }>> {
  const events = await target.store.readEvents({
    orgId: target.services.defaultOrgId,
    afterSequence: 0,
    throughSequence: Number.MAX_SAFE_INTEGER,
    limit: 100_000,
  })
  return new Map(events.map((event) => [event.sequence, { line: event.line.toString('utf8'), type: event.type }]))
}

const traceDigits = (line: string) => /"trace_id":(\d+)/.exec(line)?.[1]

beforeAll(async () => {
  server = await startTestServer()
  const created = await server.request('/v1/tokens', {
    method: 'POST',
    ...jsonBody({ name: 'watcher', role: 'auditor' }),
  })
  auditor = (await jsonOf(created)).token
  await ingest(server, [item('authorization'), item('gateway_access'), item('authorization')])
})
afterAll(() => server.close())

describe('tail', () => {
  // Each test counts the server's open streams, so the previous test's stream must be gone.
  beforeEach(() => waitFor(() => streamsOpen(server) === 0, 'earlier streams to close'))

  it('prints live lines byte for byte as the store holds them, and exits 0 on Ctrl-C', async () => {
    const tail = startTail([])
    await waitFor(() => streamsOpen(server) === 1, 'the stream to open')
    const { first_sequence, last_sequence } = await ingest(server, [item('gateway_access'), item('authorization')])
    const stored = await storedLines(server)
    const ingestedLines = [first_sequence, last_sequence].map((sequence) => stored.get(sequence)?.line as string)
    await waitFor(() => ingestedLines.every((line) => tail.stdout().includes(`${line}\n`)), 'the ingested lines')
    expect(await tail.interrupt()).toBe(0)
    const printed = tail.stdout().split('\n').slice(0, -1)
    const all = [...(await storedLines(server)).values()].map((event) => event.line)
    const start = all.indexOf(printed[0] as string)
    expect(start).toBeGreaterThan(0)
    expect(printed).toEqual(all.slice(start, start + printed.length))
    expect(tail.stderr()).toBe('')
  })

  it('--json wraps each raw line with its sequence; trace ids keep every digit', async () => {
    const tail = startTail(['--json'])
    await waitFor(() => streamsOpen(server) === 1, 'the stream to open')
    const { last_sequence } = await ingest(server, [item('gateway_access'), item('authorization')])
    await waitFor(() => tail.records().some((record) => record.sequence === last_sequence), 'the last record')
    expect(await tail.interrupt()).toBe(0)
    const stored = await storedLines(server)
    const records = tail.records()
    for (const record of records) {
      expect(record).toMatchObject({ status: null, kid: null, line: stored.get(record.sequence as number)?.line })
      expect(traceDigits(record.line)).toBe(traceDigits(stored.get(record.sequence as number)?.line as string))
    }
    expect(records.some((record) => BigInt(traceDigits(record.line) ?? 0) > 2n ** 53n)).toBe(true)
  })

  it('--since shows retained history, --type filters it', async () => {
    const tail = startTail(['--since', '1h', '--type', 'authorization', '--json'])
    const stored = await storedLines(server)
    const authz = [...stored].filter(([, event]) => event.type === 'authorization').map(([sequence]) => sequence)
    await waitFor(() => tail.records().length >= authz.length, 'the history')
    expect(await tail.interrupt()).toBe(0)
    const records = tail.records()
    expect(records.map((record) => record.sequence).slice(0, authz.length)).toEqual(authz)
    for (const record of records)
      expect(stored.get(record.sequence as number)?.type ?? 'authorization').toBe('authorization')
  })

  it('--verify checks each line against the server JWKS (json and cef) and exits 0 when all are valid', async () => {
    const jwks = await jsonOf(await server.request('/v2/audit-log-webhook/jwks.json'))
    const kid = jwks.keys[0].kid as string
    for (const format of ['json', 'cef']) {
      const tail = startTail(['--since', '1h', '--verify', '--json', '--format', format])
      await waitFor(() => tail.records().length >= 5, 'verified records')
      expect(await tail.interrupt()).toBe(0)
      for (const record of tail.records()) expect(record).toMatchObject({ status: 'valid', kid })
      if (format === 'cef') expect(tail.records()[0]?.line).toMatch(/^\S+ konghq\.com CEF:0\|KongInc\|/)
      expect(tail.stderr()).toBe('')
    }
  })

  it('exits 4 on a rejected token, 1 on a forbidden one, 2 for --jwks without --verify', async () => {
    const rejected = startTail([], envFor(server.url, `kat_${'A'.repeat(43)}`))
    expect(await rejected.exit).toBe(4)
    expect(rejected.stderr()).toContain('HTTP 401')
    const ingestToken = (
      await jsonOf(await server.request('/v1/tokens', { method: 'POST', ...jsonBody({ name: 'gw', role: 'ingest' }) }))
    ).token
    const forbidden = startTail([], envFor(server.url, ingestToken))
    expect(await forbidden.exit).toBe(1)
    expect(forbidden.stderr()).toContain('HTTP 403')
    const usage = startTail(['--jwks', 'jwks.json'])
    expect(await usage.exit).toBe(2)
  })

  it('ends the built binary with exit 0 on a real SIGINT', async () => {
    const child = spawn(process.execPath, [BIN, 'tail', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '', ...envFor(server.url, auditor) },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    )
    try {
      await waitFor(() => streamsOpen(server) === 1, 'the stream to open', 8000)
      const { last_sequence } = await ingest(server, [item('authorization')])
      await waitFor(() => stdout.includes(`{"sequence":${last_sequence},`), 'the line')
      child.kill('SIGINT')
      expect(await within(exited, 5000, 'tail did not exit')).toEqual({ code: 0, signal: null })
      expect(stderr).toBe('')
    } finally {
      child.kill('SIGKILL')
    }
  })

  it('reconnects after the server restarts and resumes with Last-Event-ID: no gap, no duplicate', async () => {
    const first = await startTestServer()
    const port = new URL(first.url).port
    let second: TestServer | null = null
    const timing: TailTiming = {
      sleep: (ms, signal) =>
        new Promise((resolve) => {
          const timer = setTimeout(resolve, Math.min(ms, 20))
          signal.addEventListener('abort', () => {
            clearTimeout(timer)
            resolve()
          })
        }),
      random: () => 0.5,
      now: () => Date.now(),
    }
    try {
      const tail = startTailWithTiming(first.url, first.adminToken, timing)
      await waitFor(() => streamsOpen(first) === 1, 'the stream to open')
      const before = await ingest(first, [item('authorization'), item('gateway_access')])
      await waitFor(() => tail.records().some((r) => r.sequence === before.last_sequence), 'the first batch')
      await first.close()
      second = await startTestServer({ dataDir: first.dataDir, listen: `127.0.0.1:${port}` })
      const restarted = second
      await waitFor(() => streamsOpen(restarted) === 1, 'the reconnect')
      const after = await ingest(restarted, [item('gateway_access'), item('authorization')])
      await waitFor(() => tail.records().some((r) => r.sequence === after.last_sequence), 'the second batch')
      expect(await tail.interrupt()).toBe(0)
      const sequences = tail.records().map((record) => record.sequence as number)
      const firstSequence = sequences[0] as number
      expect(sequences).toEqual(sequences.map((_, i) => firstSequence + i))
      expect(tail.stderr()).toMatch(/Stream interrupted \(.+\); reconnecting in 0\.8s/)
      const stored = await storedLines(restarted)
      for (const record of tail.records()) expect(record.line).toBe(stored.get(record.sequence as number)?.line)
    } finally {
      await (second ?? first).close().catch(() => undefined)
    }
  })
})

describe('tail --verify against a tampered stream', () => {
  let fake: Server
  let fakeUrl: string
  let jwksFile: string
  let valid: string
  let tampered: string
  let body = ''

  beforeAll(async () => {
    jwksFile = home.write('jwks.json', await (await server.request('/v2/audit-log-webhook/jwks.json')).text())
    valid = (await storedLines(server)).get(1)?.line as string
    tampered = valid.replace('"event_product":"Konnect"', '"event_product":"Konnekt"')
    expect(tampered).not.toBe(valid)
    fake = createServer((_req, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(`retry: 2000\n\n${body}`) // then stays open, as a live stream does
    })
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve))
    fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`
  })
  afterAll(() => {
    fake.closeAllConnections()
    fake.close()
  })

  it('prints a failing line anyway, warns with its sequence, and exits 3 on Ctrl-C', async () => {
    body = `id: 1\nevent: audit\ndata: ${valid}\n\nid: 2\nevent: audit\ndata: ${tampered}\n\n`
    const tail = startTail(['--verify', '--jwks', jwksFile], envFor(fakeUrl, auditor))
    await waitFor(() => tail.stdout().split('\n').length > 2, 'both lines')
    expect(await tail.interrupt()).toBe(3)
    expect(tail.stdout()).toBe(`${valid}\n${tampered}\n`)
    expect(tail.stderr()).toContain('Warning: sequence 2 failed verification: invalid (no_matching_key)')
    expect(tail.stderr()).not.toContain('sequence 1 ')
    expect(tail.stderr()).toContain('verification failed: 1 line and 0 gaps')
  })

  it('warns about a gap, which fails only under --verify', async () => {
    body = `event: gap\ndata: {"after":3,"next":9,"reason":"pruned"}\n\nid: 9\nevent: audit\ndata: ${valid}\n\n`
    const plain = startTail(['--json'], envFor(fakeUrl, auditor))
    await waitFor(() => plain.records().length === 1, 'the line after the gap')
    expect(await plain.interrupt()).toBe(0)
    expect(plain.records()).toEqual([{ sequence: 9, status: null, kid: null, line: valid }])
    expect(plain.stderr()).toContain('Warning: gap in the stream: events 4 to 8 were pruned before they could be sent')
    const verified = startTail(['--json', '--verify', '--jwks', jwksFile], envFor(fakeUrl, auditor))
    await waitFor(() => verified.records().length === 1, 'the verified line')
    expect(await verified.interrupt()).toBe(3)
    expect(verified.records()[0]).toMatchObject({ sequence: 9, status: 'valid' })
  })
})
