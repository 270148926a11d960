import { readFileSync } from 'node:fs'
import { PassThrough } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import { newOrg } from '../../src/server/bootstrap.js'
import type { CliRun } from '../helpers/run-cli.js'
import { runCli } from '../helpers/run-cli.js'
import type { TestServer } from '../helpers/server.js'
import { jsonBody, jsonOf, startTestServer } from '../helpers/server.js'
import { tempDir } from '../helpers/temp-files.js'

let server: TestServer
let auditor: string
let ingest: string
const tmp = tempDir('ka-keys-')
const env = (token = server.adminToken) => ({ KONNECT_AUDIT_SERVER: server.url, KONNECT_AUDIT_TOKEN: token })
const NEVER = '0001-01-01T00:00:00Z'

beforeAll(async () => {
  server = await startTestServer()
  const create = async (role: string) =>
    (await jsonOf(await server.request('/v1/tokens', { method: 'POST', ...jsonBody({ name: role, role }) }))).token
  auditor = await create('auditor')
  ingest = await create('ingest')
})
afterAll(() => server.close())

function expectNoSecret(run: CliRun): void {
  for (const secret of [server.adminToken, auditor, ingest]) expect(run.stdout + run.stderr).not.toContain(secret)
}

interface KeyRow {
  kid: string
  status: string
  created_at: string
  retired_at: string
}

const listKeys = async (): Promise<KeyRow[]> => (await jsonOf(await server.request('/v1/keys'))).data

/** Runs the CLI with terminal stdin/stdout/stderr and types `answer` once the confirmation shows. */
async function runAnswering(argv: string[], answer: string, environment: Record<string, string>): Promise<CliRun> {
  const stdin = Object.assign(new PassThrough(), { isTTY: true })
  const stdout = Object.assign(new PassThrough(), { isTTY: true })
  const stderr = Object.assign(new PassThrough(), { isTTY: true })
  const text = (stream: PassThrough) => {
    const chunks: Buffer[] = []
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    return () => Buffer.concat(chunks).toString('utf8')
  }
  const out = text(stdout)
  const err = text(stderr)
  // The prompt's first render is the first thing on stderr.
  stderr.once('data', () => setImmediate(() => stdin.write(answer)))
  const exitCode = await main(argv, { env: environment, stdin, stdout, stderr })
  return { exitCode, stdout: out(), stderr: err() }
}

async function ingestOne(): Promise<void> {
  const item = {
    type: 'authorization',
    src: '198.51.100.7',
    principal_id: 'p',
    event_class_id: 'reports',
    name: 'Authz.reports',
    action: 'list',
    granted: true,
    event_ts: new Date().toISOString(),
  }
  const response = await server.request('/v1/audit-events', { method: 'POST', ...jsonBody([item]) })
  expect(response.status).toBe(201)
}

async function pullAll(name: string): Promise<string> {
  const pulled = await server.request('/v3/audit-logs?page%5Bsize%5D=1000', {
    headers: { accept: 'application/x-ndjson' },
  })
  return tmp.write(name, Buffer.from(await pulled.arrayBuffer()))
}

describe('keys list', () => {
  it('prints kid, status, created and retired as TSV without a terminal', async () => {
    const run = await runCli(['keys', 'list'], { env: env() })
    expect(run.exitCode).toBe(0)
    expect(run.stderr).toBe('')
    const [key] = await listKeys()
    expect(run.stdout).toBe(`${key?.kid}\tactive\t${key?.created_at}\t${NEVER}\n`)
    expect(run.stdout).toMatch(/^[0-9a-f]{40}\tactive\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t/)
  })

  it('prints a table with relative times on a terminal, and {"data":[…]} with --json', async () => {
    const table = await runCli(['keys', 'list'], { env: env(), tty: true })
    expect(table.exitCode).toBe(0)
    expect(table.stdout).toMatch(/KID +│ STATUS +│ CREATED +│ RETIRED/)
    expect(table.stdout).toMatch(/│ [0-9a-f]{40} │ active +│ \d+[smhd] ago +│ never +│/)
    const json = await runCli(['keys', 'list', '--json'], { env: env() })
    expect(JSON.parse(json.stdout)).toEqual({ data: await listKeys() })
    expectNoSecret(json)
  })

  it('works for an auditor; exits 1 for an ingest token (403), 4 without a token', async () => {
    expect((await runCli(['keys', 'list'], { env: env(auditor) })).exitCode).toBe(0)
    const denied = await runCli(['keys', 'list'], { env: env(ingest) })
    expect(denied.exitCode).toBe(1)
    expect(denied.stderr).toContain('HTTP 403 Forbidden')
    expectNoSecret(denied)
    const none = await runCli(['keys', 'list'], { env: { KONNECT_AUDIT_SERVER: server.url } })
    expect(none.exitCode).toBe(4)
  })

  it('says "not supported by this server" where there is no /v1 (Konnect)', async () => {
    const run = await runCli(['keys', 'list'], {
      env: { KONNECT_AUDIT_SERVER: `${server.url}/konnect`, KONNECT_AUDIT_TOKEN: server.adminToken },
    })
    expect(run.exitCode).toBe(1)
    expect(run.stderr).toContain('Error: not supported by this server: it has no GET /v1/keys')
  })
})

describe('keys export', () => {
  it("writes the org's JWKS compact + newline to stdout, or to -o FILE", async () => {
    const direct = await (await server.request('/v2/audit-log-webhook/jwks.json')).text()
    const run = await runCli(['keys', 'export'], { env: env(), tty: true })
    expect(run).toEqual({ exitCode: 0, stdout: `${JSON.stringify(JSON.parse(direct))}\n`, stderr: '' })
    const jwks = JSON.parse(run.stdout)
    expect(jwks.keys.map((key: { kid: string }) => key.kid)).toEqual((await listKeys()).map((key) => key.kid))
    expect((await runCli(['keys', 'export', '-o', '-', '--json'], { env: env() })).stdout).toBe(run.stdout)
    const file = tmp.path('jwks.json')
    const written = await runCli(['keys', 'export', '-o', file], { env: env() })
    expect(written).toEqual({ exitCode: 0, stdout: '', stderr: `Wrote the JWKS (1 key) to ${file}\n` })
    expect(readFileSync(file, 'utf8')).toBe(run.stdout)
    expect((await runCli(['keys', 'export', '--output', tmp.path('q.json'), '-q'], { env: env() })).stderr).toBe('')
    const json = await runCli(['keys', 'export', '-o', file, '--json'], { env: env() })
    expect(json.stderr).toBe('')
    expect(JSON.parse(json.stdout)).toEqual({ output: file, kids: [jwks.keys[0].kid] })
  })

  it("sends the token, so another org's export holds that org's keys", async () => {
    const other = newOrg('other-keys', 'admin', Date.now())
    await server.store.createOrg(other.init)
    const run = await runCli(['keys', 'export'], { env: env(other.secret) })
    expect(run.exitCode).toBe(0)
    expect(JSON.parse(run.stdout).keys.map((key: { kid: string }) => key.kid)).toEqual([other.init.key.kid])
    expect(run.stdout + run.stderr).not.toContain(other.secret)
  })

  it('exits 4 without a token and 1 when the file cannot be written', async () => {
    expect((await runCli(['keys', 'export'], { env: { KONNECT_AUDIT_SERVER: server.url } })).exitCode).toBe(4)
    const run = await runCli(['keys', 'export', '-o', tmp.path('missing/dir/jwks.json')], { env: env() })
    expect(run.exitCode).toBe(1)
    expect(run.stderr).toMatch(/^Error: cannot write .+missing\/dir\/jwks\.json: ENOENT/)
  })
})

describe('keys rotate', () => {
  it('needs --yes without a terminal or with --no-input (exit 2), and a "no" keeps the key (exit 1)', async () => {
    const before = await listKeys()
    const piped = await runCli(['keys', 'rotate'], { env: env(), stdin: '' })
    expect(piped.exitCode).toBe(2)
    expect(piped.stderr).toBe('Error: rotating the signing key needs --yes when no terminal can confirm\n')
    expect((await runCli(['keys', 'rotate', '--no-input'], { env: env(), tty: true })).exitCode).toBe(2)
    const no = await runAnswering(['keys', 'rotate'], 'n\n', env())
    expect(no.exitCode).toBe(1)
    expect(no.stderr).toContain('Rotate the signing key?')
    expect(no.stderr).toMatch(/Error: not rotated\n$/)
    expect(no.stdout).toBe('')
    expect(await listKeys()).toEqual(before)
  })

  it('prints the new kid alone on stdout and reminds on stderr that receivers must refresh', async () => {
    const [old] = await listKeys()
    const run = await runCli(['keys', 'rotate', '--yes'], { env: env() })
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toMatch(/^[0-9a-f]{40}\n$/)
    const kid = run.stdout.trim()
    expect(run.stderr).toContain(`New active key ${kid}`)
    expect(run.stderr).toContain('Receivers that cache the JWKS must refresh it')
    const keys = await listKeys()
    expect(keys.map((key) => [key.kid, key.status])).toEqual([
      [kid, 'active'],
      [old?.kid, 'retired'],
    ])
    expect(keys[1]?.retired_at).not.toBe(NEVER)
    const list = await runCli(['keys', 'list'], { env: env() })
    expect(list.stdout.split('\n')[1]).toMatch(new RegExp(`^${old?.kid}\\tretired\\t.+Z\\t\\d{4}-.+Z$`))
    expectNoSecret(run)
  })

  it('prints the response with --json, asks on a terminal, and refuses other roles', async () => {
    const json = await runCli(['keys', 'rotate', '--yes', '--json', '-q'], { env: env() })
    expect(json.exitCode).toBe(0)
    expect(json.stderr).toBe('')
    const rotated = JSON.parse(json.stdout)
    expect(Object.keys(rotated).sort()).toEqual(['created_at', 'kid', 'status'])
    expect(rotated.status).toBe('active')
    const yes = await runAnswering(['keys', 'rotate'], 'y\n', env())
    expect(yes.exitCode).toBe(0)
    const [active] = await listKeys()
    expect(yes.stdout).toBe(`${active?.kid}\n`)
    const denied = await runCli(['keys', 'rotate', '--yes'], { env: env(auditor) })
    expect(denied.exitCode).toBe(1)
    expect(denied.stderr).toContain('HTTP 403 Forbidden')
    expect((await runCli(['keys', 'rotate', '--yes'], { env: env(`kat_${'C'.repeat(43)}`) })).exitCode).toBe(4)
  })
})

describe('keys export, then verify offline', () => {
  it('verifies pulled lines signed before and after a rotation; a stale export fails (exit 3)', async () => {
    const stale = tmp.path('stale-jwks.json')
    expect((await runCli(['keys', 'export', '-o', stale], { env: env() })).exitCode).toBe(0)
    await ingestOne()
    expect((await runCli(['keys', 'rotate', '--yes', '-q'], { env: env() })).exitCode).toBe(0)
    await ingestOne()
    const log = await pullAll('pulled.ndjson')
    const fresh = tmp.path('fresh-jwks.json')
    expect((await runCli(['keys', 'export', '-o', fresh, '-q'], { env: env() })).exitCode).toBe(0)
    const ok = await runCli(['verify', log, '--jwks', fresh, '--json', '-q'])
    expect(ok.exitCode).toBe(0)
    expect(JSON.parse(ok.stdout.trim().split('\n').at(-1) as string)).toMatchObject({
      type: 'summary',
      ok: true,
      jwks_source: 'file',
    })
    const failed = await runCli(['verify', log, '--jwks', stale, '-q'])
    expect(failed.exitCode).toBe(3)
    expect(failed.stdout).toContain('no_matching_key')
  })
})
