// Tests `replay start|status` in-process against a real server on loopback with a scripted
// receiver: the local window checks (exit 2), --dry-run's hourly counts (nothing started), 409 →
// exit 5, --wait (exit 0 completed, 1 failed) and status --watch, each on and off a terminal and
// with --json. Polls sleep through an injected timing that moves the test clock and settles the
// replay worker, so no test waits 2 s. A scripted stand-in API plays a server that restarts.

import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PassThrough, Readable } from 'node:stream'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { run as runStart, type definition as startDefinition } from '../../src/cli/commands/replay/start.js'
import type { ReplayTiming } from '../../src/cli/commands/replay/status.js'
import { run as runStatus, type definition as statusDefinition } from '../../src/cli/commands/replay/status.js'
import type { OptionsOf } from '../../src/cli/define-command.js'
import { errorText, exitCodeFor } from '../../src/cli/errors.js'
import { createFactory } from '../../src/cli/factory.js'
import { ReplayWorker } from '../../src/server/workers/replay.js'
import { backdatedAuthorizationBatches } from '../helpers/backdated-items.js'
import type { Receiver } from '../helpers/receiver.js'
import { answer, ok, startReceiver } from '../helpers/receiver.js'
import type { CliRun } from '../helpers/run-cli.js'
import { runCli } from '../helpers/run-cli.js'
import type { TestServer } from '../helpers/server.js'
import { jsonBody, jsonOf, startTestServer } from '../helpers/server.js'
import { eventsOfTrace } from '../helpers/stored-events.js'
import { tempDir } from '../helpers/temp-files.js'
import { testClock, testLoopOptions } from '../helpers/test-clock.js'

const HOUR_MS = 3_600_000
const NEVER = '0001-01-01T00:00:00Z'
const utcSeconds = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`

const clock = testClock(Math.floor(Date.now() / 1000) * 1000)
const home = tempDir('ka-replay-')

let server: TestServer
let worker: ReplayWorker
let receiver: Receiver
let env: Record<string, string>
let auditorToken: string
const sleeps: number[] = []

/**
 * Each poll's sleep lets the replay worker finish what is due now, then moves the server's clock
 * by the sleep's length and lets the worker catch up again, so what each poll sees is fixed.
 */
const timing: ReplayTiming = {
  now: () => clock.nowMs,
  sleep: async (ms) => {
    sleeps.push(ms)
    await worker.settle()
    clock.nowMs += ms
    await worker.settle()
  },
}

beforeAll(async () => {
  server = await startTestServer({ allowInsecureEndpoints: true }, clock)
  // Live delivery would answer from the receiver's script too; the system-timer replay worker is
  // replaced by one the test clock drives.
  await server.delivery.stop()
  await server.replay.stop()
  worker = new ReplayWorker(testLoopOptions(server, clock, { info: () => {}, warn: () => {}, error: () => {} }, 300))
  worker.start()
  env = { KONNECT_AUDIT_SERVER: server.url, KONNECT_AUDIT_TOKEN: server.adminToken, XDG_CONFIG_HOME: home.path('') }
  const created = await server.request('/v1/tokens', {
    method: 'POST',
    ...jsonBody({ name: 'replay-auditor', role: 'auditor' }),
  })
  auditorToken = (await jsonOf(created)).token
})
afterAll(async () => {
  await worker.stop()
  await server.close()
})

/** A mutating request whose access event (written after the response) is stored before this returns. */
async function mutate(path: string, method: string, body?: unknown): Promise<Response> {
  const response = await server.request(path, { method, ...(body === undefined ? {} : jsonBody(body)) })
  // Reading a copy frees the connection now; a body left unread is aborted when collected, and
  // undici then reconnects, leaving idle connections that hold the server's close open.
  await response.clone().arrayBuffer()
  await eventsOfTrace(
    server.store,
    server.services.defaultOrgId,
    response.headers.get('konnect-audit-trace-id') ?? '',
    3,
  )
  return response
}

async function configure(): Promise<void> {
  const body = { endpoint: receiver.url, enabled: true, log_format: 'json' }
  expect((await mutate('/v2/audit-log-webhook', 'PATCH', body)).status).toBe(200)
}

/** Back-dated authorization events, one per time; the server clock must be within retention of them. */
async function ingestAt(timesMs: readonly number[]): Promise<void> {
  for (const items of backdatedAuthorizationBatches(timesMs)) {
    expect((await mutate('/v1/audit-events', 'POST', items)).status).toBe(201)
  }
}

const FIRST_HOUR_MS = Math.floor(clock.nowMs / HOUR_MS) * HOUR_MS
let windowsUsed = 0

/**
 * A fresh hour-aligned window of three hours in the past, an hour apart from every other one, so
 * no test sees another's events; the clock stays near real time for runs through main.
 */
function pastHours(): { startMs: number; endMs: number } {
  windowsUsed += 1
  const endMs = FIRST_HOUR_MS - windowsUsed * 4 * HOUR_MS
  return { startMs: endMs - 3 * HOUR_MS, endMs }
}

const cli = (argv: string[], options: { tty?: boolean; env?: Record<string, string> } = {}) =>
  runCli(argv, { ...options, env: { ...env, ...options.env } })

function capture(isTTY: boolean): { stream: PassThrough & { isTTY: boolean }; text(): string } {
  const stream = Object.assign(new PassThrough(), { isTTY })
  const chunks: Buffer[] = []
  stream.on('data', (chunk: Buffer) => chunks.push(chunk))
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') }
}

/** A replay command run with the injected timing, through the same error-to-exit mapping as main. */
async function withTiming(
  command: 'start' | 'status',
  options: OptionsOf<typeof startDefinition> | OptionsOf<typeof statusDefinition>,
  io: { tty?: boolean; json?: boolean; env?: Record<string, string> } = {},
): Promise<CliRun> {
  const stdout = capture(io.tty === true)
  const stderr = capture(io.tty === true)
  const ports = {
    env: io.env ?? env,
    stdin: Object.assign(Readable.from([]), { isTTY: true }),
    stdout: stdout.stream,
    stderr: stderr.stream,
  }
  const globals = { json: io.json === true, input: false, color: false, quiet: false, debug: false }
  const factory = createFactory(ports, globals)
  let exitCode = 0
  try {
    if (command === 'start') await runStart(options as OptionsOf<typeof startDefinition>, factory, timing)
    else await runStatus(options as OptionsOf<typeof statusDefinition>, factory, timing)
  } catch (error) {
    stderr.stream.write(errorText(error, globals.json))
    exitCode = exitCodeFor(error)
  }
  return { exitCode, stdout: stdout.text(), stderr: stderr.text() }
}

const jobBody = async () => jsonOf(await server.request('/v2/audit-log-replay-job'))

beforeEach(async () => {
  clock.nowMs = Math.max(clock.nowMs, Math.floor(Date.now() / 1000) * 1000)
  await receiver?.close()
  receiver = await startReceiver()
  // Deleting the webhook fails a job left running by an earlier test.
  expect((await server.request('/v3/audit-log-webhook', { method: 'DELETE' })).status).toBe(204)
  await worker.settle()
  sleeps.length = 0
})

describe('before any job', () => {
  it('replay status shows the unconfigured job; --json prints the body unchanged', async () => {
    const plain = await cli(['replay', 'status'])
    expect(plain).toMatchObject({ exitCode: 0, stderr: '' })
    expect(plain.stdout).toBe('Status\tunconfigured\nMeaning\tno replay job has run yet\n')
    const json = await cli(['replay', 'status', '--json'])
    expect(JSON.parse(json.stdout)).toEqual({
      start_at: NEVER,
      end_at: NEVER,
      status: 'unconfigured',
      updated_at: NEVER,
      progress: { total: 0, sent: 0 },
      error: null,
    })
    const watched = await withTiming('status', { args: [], watch: true })
    expect(watched.stdout).toBe(`${NEVER}\tunconfigured\t0\t0\t\n`)
    expect(sleeps).toEqual([])
  })

  it('--dry-run prints the count per hour and the total, and starts nothing', async () => {
    await configure()
    const { startMs, endMs } = pastHours()
    await ingestAt([startMs, startMs + 59 * 60_000, startMs + HOUR_MS + 1000, endMs, endMs + 1000, startMs - 1000])
    const argv = ['replay', 'start', '--start', utcSeconds(startMs), '--end', utcSeconds(endMs), '--dry-run']

    const plain = await cli(argv)
    expect(plain.exitCode).toBe(0)
    const hours = [0, 1, 2, 3].map((hour) => utcSeconds(startMs + hour * HOUR_MS))
    expect(plain.stdout).toBe(`${hours[0]}\t2\n${hours[1]}\t1\n${hours[2]}\t0\n${hours[3]}\t1\ntotal\t4\n`)
    expect(plain.stderr).toMatch(/^Dry run: nothing was started/)

    const tty = await cli(argv, { tty: true })
    expect(tty.stdout).toContain('HOUR (UTC)')
    expect(tty.stdout).toMatch(new RegExp(`│ ${hours[0]} +│ 2 +│`))
    expect(tty.stdout).toMatch(/^Total: 4 events$/m)

    const json = await cli([...argv, '--json'])
    const counts = await jsonOf(
      await server.request(
        `/v3/audit-logs/counts?filter%5Bts%5D%5Bgte%5D=${utcSeconds(startMs)}&filter%5Bts%5D%5Blte%5D=${utcSeconds(endMs)}&interval=1h`,
      ),
    )
    expect(JSON.parse(json.stdout)).toEqual(counts)
    expect(json.stderr).toBe('')

    expect((await jobBody()).status).toBe('unconfigured')
    expect(receiver.requests).toHaveLength(0)
  })

  it('--dry-run counts per day when hourly buckets would exceed 10,000', async () => {
    const run = await cli(['replay', 'start', '--since', '500d', '--dry-run', '--json'])
    expect(run.exitCode).toBe(0)
    const counts = JSON.parse(run.stdout)
    expect(counts.data.length).toBeGreaterThanOrEqual(500)
    expect(counts.data.length).toBeLessThanOrEqual(502)
    for (const bucket of counts.data) expect(bucket.start).toMatch(/T00:00:00Z$/)
    expect((await jobBody()).status).toBe('unconfigured')
  })
})

describe('replay start: local checks (exit 2, nothing sent)', () => {
  const future = utcSeconds(Date.now() + 2 * HOUR_MS)
  const past = utcSeconds(Date.now() - HOUR_MS)
  const cases: Array<[string, string[], RegExp]> = [
    ['no window', [], /no time window: give --since D/],
    ['--since with --start', ['--since', '1h', '--start', past], /either --since D or --start T --end T/],
    ['--start alone', ['--start', past], /--start needs --end too/],
    ['a bad duration', ['--since', '1 day'], /--since 1 day is not a duration/],
    ['a bad timestamp', ['--start', 'yesterday', '--end', past], /--start yesterday is not an RFC 3339 timestamp/],
    ['start after end', ['--start', past, '--end', utcSeconds(Date.now() - 2 * HOUR_MS)], /must be before its end/],
    ['end in the future', ['--start', past, '--end', future], /is in the future/],
    ['--wait with --dry-run', ['--since', '1h', '--wait', '--dry-run'], /--wait and --dry-run exclude each other/],
  ]
  it.each(cases)('%s', async (_name, flags, message) => {
    const run = await cli(['replay', 'start', ...flags])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toMatch(message)
    expect(run.stdout).toBe('')
  })
})

describe('replay start', () => {
  it('PUTs the window and prints the accepted job; a second start while it runs exits 5', async () => {
    receiver.answerWith(answer(500))
    await configure()
    const { startMs, endMs } = pastHours()
    await ingestAt([startMs])
    const argv = ['replay', 'start', '--start', utcSeconds(startMs), '--end', utcSeconds(endMs)]
    const started = await cli(argv)
    expect(started.exitCode).toBe(0)
    expect(started.stdout).toMatch(/^Status\taccepted\n/)
    expect(started.stdout).toContain(
      `Start\t${utcSeconds(startMs)}\nEnd\t${utcSeconds(endMs)}\nProgress\tnot started yet\n`,
    )
    await worker.settle()
    expect(await jobBody()).toMatchObject({ status: 'running', start_at: utcSeconds(startMs) })

    const again = await cli(argv)
    expect(again.exitCode).toBe(5)
    expect(again.stderr).toMatch(
      /^Error: A replay job is currently running \(HTTP 409 Resource Conflict, trace kong:trace:\d+\)$/m,
    )
    const json = await cli([...argv, '--json'])
    expect(json.exitCode).toBe(5)
    expect(JSON.parse(json.stderr)).toMatchObject({
      error: { status: 409, detail: 'A replay job is currently running' },
    })
    expect(json.stdout).toBe('')
  })

  it('exits 5 when the webhook is not configured', async () => {
    const run = await cli(['replay', 'start', '--since', '1h'])
    expect(run.exitCode).toBe(5)
    expect(run.stderr).toContain('The audit log webhook is not configured or not enabled')
  })

  it('--since D ends the window now; --json prints the accepted body', async () => {
    await configure()
    const run = await withTiming('start', { args: [], since: '2h' }, { json: true })
    expect(run.exitCode).toBe(0)
    const endMs = Math.floor(clock.nowMs / 1000) * 1000
    expect(JSON.parse(run.stdout)).toMatchObject({
      start_at: utcSeconds(endMs - 2 * HOUR_MS),
      end_at: utcSeconds(endMs),
      status: 'accepted',
      progress: { total: 0, sent: 0 },
      error: null,
    })
    await worker.settle()
  })

  it('--wait polls every 2 s with a progress bar on a terminal and exits 0 once completed', async () => {
    receiver.script(ok, answer(500), answer(500))
    await configure()
    const { startMs, endMs } = pastHours()
    await ingestAt(Array.from({ length: 1500 }, (_, index) => startMs + index * 1000))
    const run = await withTiming(
      'start',
      { args: [], start: utcSeconds(startMs), end: utcSeconds(endMs), wait: true },
      { tty: true },
    )
    expect(run.exitCode).toBe(0)
    expect(sleeps).toEqual([2000, 2000])
    expect(run.stderr).toContain('Replay accepted')
    expect(run.stderr).toContain('Replaying [################--------] 1000/1500 events (66%)')
    expect(run.stderr.endsWith('\r\x1b[K')).toBe(true)
    expect(run.stdout).toMatch(/^Status: +completed$/m)
    expect(run.stdout).toMatch(/^Progress: +1500 of 1500 events sent \(100%\)$/m)
  })

  it('--wait --json prints only the final job', async () => {
    await configure()
    const { startMs, endMs } = pastHours()
    await ingestAt([startMs, endMs])
    const run = await withTiming(
      'start',
      { args: [], start: utcSeconds(startMs), end: utcSeconds(endMs), wait: true },
      { json: true },
    )
    expect(run).toMatchObject({ exitCode: 0, stderr: '' })
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'completed', progress: { total: 2, sent: 2 }, error: null })
  })

  it('--wait exits 1 when the job fails, after printing it', async () => {
    receiver.answerWith(answer(401))
    await configure()
    const { startMs, endMs } = pastHours()
    await ingestAt([startMs])
    const run = await withTiming('start', { args: [], start: utcSeconds(startMs), end: utcSeconds(endMs), wait: true })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(/^Status\tfailed$/m)
    expect(run.stdout).toMatch(/^Error\tbatch 1: HTTP 401 Unauthorized$/m)
    expect(run.stderr).toBe('Error: the replay failed: batch 1: HTTP 401 Unauthorized\n')

    const json = await withTiming(
      'start',
      { args: [], start: utcSeconds(startMs), end: utcSeconds(endMs), wait: true },
      { json: true },
    )
    expect(json.exitCode).toBe(1)
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'failed', error: 'batch 1: HTTP 401 Unauthorized' })
  })

  it('an auditor can read the job but not start one', async () => {
    await configure()
    const asAuditor = { env: { KONNECT_AUDIT_TOKEN: auditorToken } }
    const status = await cli(['replay', 'status', '--json'], asAuditor)
    expect(status.exitCode).toBe(0)
    expect(JSON.parse(status.stdout)).toHaveProperty('status')
    const start = await cli(['replay', 'start', '--since', '1h'], asAuditor)
    expect(start.exitCode).toBe(1)
    expect(start.stderr).toMatch(/^Error: You do not have permission to perform this action \(HTTP 403 Forbidden/)
  })
})

describe('replay status --watch', () => {
  /** A running job whose batches arrive one poll apart: 0, then 1000, then all 1500 sent. */
  async function slowJob(): Promise<void> {
    receiver.script(answer(500), ok, answer(500))
    await configure()
    const { startMs, endMs } = pastHours()
    await ingestAt(Array.from({ length: 1500 }, (_, index) => startMs + index * 1000))
    expect(
      (await mutate('/v2/audit-log-replay-job', 'PUT', { start_at: utcSeconds(startMs), end_at: utcSeconds(endMs) }))
        .status,
    ).toBe(202)
    await worker.settle()
  }

  it('prints one line per change without a terminal, until the job ends', async () => {
    await slowJob()
    const run = await withTiming('status', { args: [], watch: true })
    expect(run.exitCode).toBe(0)
    const lines = run.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('\t').slice(1))
    expect(lines).toEqual([
      ['running', '0', '1500', ''],
      ['running', '1000', '1500', ''],
      ['completed', '1500', '1500', ''],
    ])
    expect(sleeps).toEqual([2000, 2000])
  })

  it('shows progress on a terminal and the final job as fields; --json prints only the final body', async () => {
    await slowJob()
    const tty = await withTiming('status', { args: [], watch: true }, { tty: true })
    expect(tty.exitCode).toBe(0)
    expect(tty.stderr).toContain('Replaying [------------------------] 0/1500 events (0%)')
    expect(tty.stdout).toMatch(/^Status: +completed$/m)

    await slowJob()
    const json = await withTiming('status', { args: [], watch: true }, { json: true })
    expect(json).toMatchObject({ exitCode: 0, stderr: '' })
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'completed', progress: { total: 1500, sent: 1500 } })
  })

  it('a failed job ends the watch with its error shown', async () => {
    receiver.answerWith(answer(403))
    await configure()
    const { startMs, endMs } = pastHours()
    await ingestAt([startMs])
    await mutate('/v3/audit-log-replay-job', 'PUT', { start_at: utcSeconds(startMs), end_at: utcSeconds(endMs) })
    await worker.settle()
    const run = await cli(['replay', 'status', '--watch'])
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toMatch(/\tfailed\t0\t1\tbatch 1: HTTP 403 Forbidden\n$/)
  })
})

describe('following a job while the server restarts', () => {
  /** A stand-in API whose replay job answers are scripted: a body, or a status such as 503. */
  async function scriptedApi(answers: Array<Record<string, unknown> | number>) {
    const fake = createServer((_request, response) => {
      const next = answers.length > 1 ? answers.shift() : answers[0]
      if (typeof next === 'number') {
        response.writeHead(next, { 'content-type': 'application/problem+json', 'retry-after': '0' })
        response.end(JSON.stringify({ status: next, title: 'Service Unavailable', detail: 'restarting' }))
      } else response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(next))
    })
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`
    return { env: { ...env, KONNECT_AUDIT_SERVER: url }, close: () => new Promise((resolve) => fake.close(resolve)) }
  }
  const job = (status: string, sent: number) => ({
    start_at: '2026-11-26T08:00:00Z',
    end_at: '2026-11-26T09:00:00Z',
    status,
    updated_at: '2026-11-26T09:00:00.000Z',
    progress: { total: 10, sent },
  })

  it('keeps polling through 502 to 504 for up to a minute, warning once', async () => {
    const api = await scriptedApi([job('running', 0), 503, 502, 504, 503, job('completed', 10)])
    try {
      const run = await withTiming('status', { args: [], watch: true }, { env: api.env })
      expect(run.exitCode).toBe(0)
      expect(run.stderr.match(/still following the job/g)).toHaveLength(1)
      expect(run.stdout.split('\n').filter(Boolean).at(-1)).toMatch(/\tcompleted\t10\t10\t$/)
    } finally {
      await api.close()
    }
  })

  it('gives up with exit 1 once the server has been away for a minute', async () => {
    const api = await scriptedApi([job('running', 0), 503])
    try {
      const run = await withTiming('status', { args: [], watch: true }, { env: api.env })
      expect(run.exitCode).toBe(1)
      expect(run.stderr).toContain('HTTP 503')
    } finally {
      await api.close()
    }
  })
})
