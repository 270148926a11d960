import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import type { Server } from 'node:http'
import { createServer, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../helpers/run-cli.js'
import type { TestServer } from '../helpers/server.js'
import { jsonBody, jsonOf, startTestServer } from '../helpers/server.js'
import { tempDir } from '../helpers/temp-files.js'

let server: TestServer
let auditor: string
const home = tempDir('ka-pull-')
const nowMs = Date.now()
/** A window in the past: the pulls' own audit events (event_ts = now) fall outside it. */
const window = [
  '--start',
  new Date(nowMs - 2 * 3_600_000).toISOString(),
  '--end',
  new Date(nowMs - 300_000).toISOString(),
]

const env = (token = auditor, url = server.url) => ({
  KONNECT_AUDIT_SERVER: url,
  KONNECT_AUDIT_TOKEN: token,
  XDG_CONFIG_HOME: home.path('config'),
  HOME: home.path(''),
})

const item = (minutesAgo: number, type: 'authorization' | 'gateway_access') => ({
  type,
  src: '198.51.100.7',
  principal_id: 'p',
  event_ts: new Date(nowMs - minutesAgo * 60_000).toISOString(),
  ...(type === 'authorization'
    ? { event_class_id: 'reports', name: 'Authz.reports|daily', action: 'list', granted: true, actor_id: 'svc=batch' }
    : { request: '/api/ü?q=a=b', act: 'GET', status: 200 }),
})

/** The stored lines inside the test window, each with its newline: what a pull must produce. */
async function storedWindow(type?: string): Promise<string> {
  const events = await server.store.readEvents({
    orgId: server.services.defaultOrgId,
    afterSequence: 0,
    throughSequence: Number.MAX_SAFE_INTEGER,
    tsGte: nowMs - 2 * 3_600_000,
    tsLte: nowMs - 300_000,
    ...(type ? { type: type as 'authorization' } : {}),
    limit: 100_000,
  })
  return events.map((event) => `${event.line.toString('utf8')}\n`).join('')
}

interface CuttingProxy {
  readonly url: string
  /** Requests received so far. */
  readonly requests: number
  /** The first request (1-based) whose connection is cut; later ones are cut too. */
  failFrom: number
  close(): void
}

/** A pass-through proxy to the server that cuts every connection from request `failFrom` on. */
async function startCuttingProxy(target: string): Promise<CuttingProxy> {
  let requests = 0
  const proxy: Server = createServer((req, res) => {
    requests++
    if (requests >= handle.failFrom) {
      req.socket.destroy()
      return
    }
    const upstream = httpRequest(
      new URL(req.url ?? '/', target),
      { method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers)
        up.pipe(res)
      },
    )
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
  const handle: CuttingProxy = {
    url,
    get requests() {
      return requests
    },
    failFrom: Number.POSITIVE_INFINITY,
    close: () => {
      proxy.closeAllConnections()
      proxy.close()
    },
  }
  return handle
}

beforeAll(async () => {
  server = await startTestServer()
  const created = await server.request('/v1/tokens', {
    method: 'POST',
    ...jsonBody({ name: 'analyst', role: 'auditor' }),
  })
  auditor = (await jsonOf(created)).token
  const ingested = await server.request('/v1/audit-events', {
    method: 'POST',
    ...jsonBody([
      item(90, 'authorization'),
      item(80, 'gateway_access'),
      item(70, 'authorization'),
      item(60, 'gateway_access'),
      item(50, 'authorization'),
      item(40, 'gateway_access'),
      item(30, 'authorization'),
    ]),
  })
  expect(ingested.status).toBe(201)
})
afterAll(() => server.close())

describe('logs pull', () => {
  it('writes the stored lines byte for byte to stdout with -o -, 64-bit trace ids intact', async () => {
    const run = await runCli(['logs', 'pull', ...window, '--page-size', '3', '-o', '-'], { env: env() })
    expect(run.exitCode).toBe(0)
    const expected = await storedWindow()
    expect(run.stdout).toBe(expected)
    expect(run.stdout.split('\n').filter(Boolean)).toHaveLength(7)
    expect(run.stderr).toBe('Pulled 7 events in 3 pages to stdout\n')
    const digits = (text: string) => [...text.matchAll(/"trace_id":(\d+)/g)].map((match) => match[1] as string)
    const storedDigits = digits(expected)
    expect(digits(run.stdout)).toEqual(storedDigits)
    expect(storedDigits.some((traceId) => BigInt(traceId) > 2n ** 53n)).toBe(true)
  })

  it('writes FILE through FILE.part, removes the state, and filters by --type', async () => {
    const file = home.path('authz.ndjson')
    const run = await runCli(['logs', 'pull', ...window, '--type', 'authorization', '-o', file], { env: env() })
    expect(run.exitCode).toBe(0)
    expect(readFileSync(file, 'utf8')).toBe(await storedWindow('authorization'))
    expect(run.stderr).toBe(`Pulled 4 events in 1 page to ${file}\n`)
    expect(existsSync(`${file}.part`)).toBe(false)
    expect(existsSync(`${file}.pull-state.json`)).toBe(false)
    const json = await runCli(['logs', 'pull', ...window, '-o', file, '--force', '--json'], { env: env() })
    expect(json.exitCode).toBe(0)
    expect(JSON.parse(json.stdout)).toEqual({ file, events: 7, pages: 1, resumed: false })
    expect(json.stderr).toBe('')
  })

  it('refuses an existing FILE without state (exit 2) unless --force', async () => {
    const file = home.write('existing.ndjson', 'keep me\n')
    const refused = await runCli(['logs', 'pull', '--since', '1h', '-o', file], { env: env() })
    expect(refused.exitCode).toBe(2)
    expect(refused.stderr).toContain(`${file} already exists: pass --force`)
    expect(readFileSync(file, 'utf8')).toBe('keep me\n')
    const forced = await runCli(['logs', 'pull', ...window, '-o', file, '--force', '-q'], { env: env() })
    expect(forced).toMatchObject({ exitCode: 0, stderr: '', stdout: '' })
    expect(readFileSync(file, 'utf8')).toBe(await storedWindow())
  })

  it('resumes an interrupted download from its state; the result equals a one-shot pull', async () => {
    const proxy = await startCuttingProxy(server.url)
    const file = home.path('resumed.ndjson')
    const args = ['logs', 'pull', ...window, '--page-size', '3', '-o', file]
    try {
      proxy.failFrom = 2 // page 1 passes, page 2 (and its retries) lose their connection
      const cut = await runCli(args, { env: env(auditor, proxy.url) })
      expect(cut.exitCode).toBe(1)
      expect(existsSync(file)).toBe(false)
      const statePath = `${file}.pull-state.json`
      expect(statSync(statePath).mode & 0o777).toBe(0o600)
      const state = JSON.parse(readFileSync(statePath, 'utf8'))
      expect(state).toMatchObject({ events: 3, pages: 1, arguments: { pageSize: 3, type: null } })
      expect(state.next).toMatch(/^\/v3\/audit-logs\?.*page%5Bafter%5D=/)
      expect(state.query['filter[ts][lte]']).toBe(window[3])
      const firstPage = readFileSync(`${file}.part`, 'utf8')
      expect(firstPage.split('\n').filter(Boolean)).toHaveLength(3)
      expect(state.bytes).toBe(Buffer.byteLength(firstPage))

      const other = await runCli([...args, '--type', 'authorization'], { env: env(auditor, proxy.url) })
      expect(other.exitCode).toBe(2)
      expect(other.stderr).toContain('belongs to an interrupted pull with other arguments')

      // A crash between writing a page and saving the state leaves extra bytes, which are cut off.
      appendFileSync(`${file}.part`, '{"half a line')
      proxy.failFrom = Number.POSITIVE_INFINITY
      const before = proxy.requests
      const resumed = await runCli(args, { env: env(auditor, proxy.url) })
      expect(resumed.exitCode).toBe(0)
      expect(resumed.stderr).toContain(`Resuming the pull into ${file}: 3 events in 1 page so far`)
      expect(resumed.stderr).toContain(`Pulled 7 events in 3 pages to ${file}`)
      expect(proxy.requests - before).toBe(2)
      const oneShot = await runCli(['logs', 'pull', ...window, '-o', '-'], { env: env() })
      expect(readFileSync(file)).toEqual(Buffer.from(oneShot.stdout))
      expect(existsSync(statePath)).toBe(false)
      expect(existsSync(`${file}.part`)).toBe(false)
    } finally {
      proxy.close()
    }
  })

  it('shows progress on a terminal stderr only, never with -q', async () => {
    const tty = await runCli(['logs', 'pull', ...window, '--page-size', '3', '-o', '-'], { env: env(), tty: true })
    expect(tty.exitCode).toBe(0)
    expect(tty.stderr).toContain('\rPulling: 3 events, 1 page')
    expect(tty.stderr).toContain('\rPulling: 7 events, 3 pages')
    expect(tty.stderr).toContain('Pulled 7 events in 3 pages to stdout')
    const quiet = await runCli(['logs', 'pull', ...window, '-o', '-', '-q'], { env: env(), tty: true })
    expect(quiet.stderr).toBe('')
  })

  it('exits 4 on a rejected token and leaves no files behind', async () => {
    const file = home.path('denied.ndjson')
    const run = await runCli(['logs', 'pull', '--since', '1h', '-o', file], { env: env(`kat_${'A'.repeat(43)}`) })
    expect(run.exitCode).toBe(4)
    expect(run.stderr).toContain('HTTP 401')
    for (const path of [file, `${file}.part`, `${file}.pull-state.json`]) expect(existsSync(path)).toBe(false)
  })

  it.each([
    [[], 'no time window'],
    [['--since', '1h', '--start', '2026-01-01T00:00:00Z'], 'either --since D or --start T --end T'],
    [['--since', 'soon'], '--since soon is not a duration'],
    [['--start', '2026-01-01T00:00:00Z'], '--start needs --end too'],
    [['--start', '2026-01-02T00:00:00Z', '--end', '2026-01-01T00:00:00+01:00'], 'must be before --end'],
    [['--start', 'yesterday', '--end', '2026-01-01T00:00:00Z'], 'not an RFC 3339 timestamp'],
    [['--since', '1h', '--page-size', '1001'], "argument '1001' is invalid. expected a whole number from 1 to 1000"],
  ])('exits 2 for bad arguments %j', async (flags, message) => {
    const run = await runCli(['logs', 'pull', ...flags, '-o', '-'], { env: env() })
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toContain(message)
  })

  it('needs -o (exit 2) and reports a corrupt state file (exit 2) unless --force', async () => {
    expect((await runCli(['logs', 'pull', '--since', '1h'], { env: env() })).exitCode).toBe(2)
    const file = home.path('corrupt.ndjson')
    writeFileSync(`${file}.pull-state.json`, '{')
    const corrupt = await runCli(['logs', 'pull', ...window, '-o', file], { env: env() })
    expect(corrupt.exitCode).toBe(2)
    expect(corrupt.stderr).toContain('is not a pull state this version wrote')
    const forced = await runCli(['logs', 'pull', ...window, '-o', file, '--force'], { env: env() })
    expect(forced.exitCode).toBe(0)
    expect(readFileSync(file, 'utf8')).toBe(await storedWindow())
    expect(existsSync(`${file}.pull-state.json`)).toBe(false)
  })
})
