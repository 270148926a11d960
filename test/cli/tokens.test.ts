import { randomUUID } from 'node:crypto'
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
const env = (token = server.adminToken) => ({ KONNECT_AUDIT_SERVER: server.url, KONNECT_AUDIT_TOKEN: token })
/** Every secret a test has seen; none may appear in any output but `tokens create`'s stdout. */
const secrets: string[] = []

beforeAll(async () => {
  server = await startTestServer()
  secrets.push(server.adminToken)
})
afterAll(() => server.close())

function expectNoSecret(run: CliRun): void {
  for (const secret of secrets) expect(run.stdout + run.stderr).not.toContain(secret)
}

async function createToken(role: string, name = `t-${randomUUID()}`): Promise<{ id: string; token: string }> {
  const created = await jsonOf(await server.request('/v1/tokens', { method: 'POST', ...jsonBody({ name, role }) }))
  secrets.push(created.token)
  return created
}

const tokenWorks = async (token: string) => (await server.request('/v1/whoami', { token })).status === 200

/** Runs the CLI with terminal stdin/stdout/stderr and types `answer` once the confirmation shows. */
async function runAnswering(argv: string[], answer: string, environment: Record<string, string>): Promise<CliRun> {
  const stdin = Object.assign(new PassThrough(), { isTTY: true })
  const terminal = () => Object.assign(new PassThrough(), { isTTY: true })
  const stdout = terminal()
  const stderr = terminal()
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

describe('tokens create', () => {
  it('prints the secret alone on stdout without a terminal, nothing on stderr', async () => {
    const run = await runCli(['tokens', 'create', '--name', 'ci-ingest', '--role', 'ingest'], { env: env() })
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toMatch(/^kat_[A-Za-z0-9_-]+\n$/)
    expect(run.stderr).toBe('')
    const secret = run.stdout.trim()
    secrets.push(secret)
    const whoami = await jsonOf(await server.request('/v1/whoami', { token: secret }))
    expect(whoami.token).toMatchObject({ name: 'ci-ingest', role: 'ingest', expires_at: null })
  })

  it('adds details and the "store it now" hint on a terminal stderr, and -q drops them', async () => {
    const run = await runCli(['tokens', 'create', '--name', 'laptop', '--role', 'auditor'], { env: env(), tty: true })
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toMatch(/^kat_\S+\n$/)
    secrets.push(run.stdout.trim())
    expect(run.stderr).toMatch(/^Created auditor token laptop \([0-9a-f-]{36}\), expires never\n/)
    expect(run.stderr).toContain('Store it now')
    expect(run.stderr).not.toContain(run.stdout.trim())
    const quiet = await runCli(['tokens', 'create', '--name', 'quiet', '--role', 'auditor', '-q'], {
      env: env(),
      tty: true,
    })
    expect(quiet.stdout).toMatch(/^kat_\S+\n$/)
    secrets.push(quiet.stdout.trim())
    expect(quiet.stderr).toBe('')
  })

  it('prints the full response with --json', async () => {
    const run = await runCli(['tokens', 'create', '--name', 'siem', '--role', 'auditor', '--json'], { env: env() })
    expect(run.exitCode).toBe(0)
    expect(run.stderr).toBe('')
    const created = JSON.parse(run.stdout)
    secrets.push(created.token)
    expect(Object.keys(created).sort()).toEqual(['created_at', 'expires_at', 'id', 'name', 'org_id', 'role', 'token'])
    expect(created).toMatchObject({ name: 'siem', role: 'auditor', expires_at: null })
    expect(run.stdout).toBe(`${JSON.stringify(created)}\n`)
  })

  it('sets expires_at from --expires-in (now + D) or --expires-at (normalised to UTC)', async () => {
    const before = Date.now()
    const relative = await runCli(['tokens', 'create', '--name', 'e1', '--role', 'ingest', '--expires-in', '1d12h'], {
      env: env(),
      tty: true,
    })
    const after = Date.now()
    expect(relative.exitCode).toBe(0)
    secrets.push(relative.stdout.trim())
    const expiresMs = Date.parse((relative.stderr.match(/expires (\S+)\n/) as RegExpMatchArray)[1] as string)
    expect(expiresMs).toBeGreaterThanOrEqual(before + 36 * 3_600_000)
    expect(expiresMs).toBeLessThanOrEqual(after + 36 * 3_600_000)
    const absolute = await runCli(
      ['tokens', 'create', '--name', 'e2', '--role', 'ingest', '--expires-at', '2099-01-01T02:30:00+02:00', '--json'],
      { env: env() },
    )
    const created = JSON.parse(absolute.stdout)
    secrets.push(created.token)
    expect(created.expires_at).toBe('2099-01-01T00:30:00.000Z')
  })

  it('exits 2 on bad or conflicting flags, before sending anything', async () => {
    const base = ['tokens', 'create', '--name', 'x']
    for (const [argv, message] of [
      [
        [...base, '--role', 'ingest', '--expires-in', '1d', '--expires-at', '2099-01-01T00:00:00Z'],
        'exclude each other',
      ],
      [[...base, '--role', 'ingest', '--expires-in', 'soon'], '--expires-in soon'],
      [[...base, '--role', 'ingest', '--expires-in', '0s'], '--expires-in 0s'],
      [[...base, '--role', 'ingest', '--expires-at', '2099-13-01T00:00:00Z'], '--expires-at 2099-13-01'],
      [[...base], '--role is required'],
      [[...base, '--role', 'root'], "'root' is invalid"],
      [['tokens', 'create', '--role', 'ingest'], "'--name <name>' not specified"],
    ] as const) {
      const run = await runCli(argv, { env: env() })
      expect(run.exitCode, argv.join(' ')).toBe(2)
      expect(run.stderr).toContain(message)
      expect(run.stdout).toBe('')
    }
  })

  it('exits 1 when the server refuses (a past expiry, a role without permission)', async () => {
    const past = await runCli(
      ['tokens', 'create', '--name', 'old', '--role', 'ingest', '--expires-at', '2001-01-01T00:00:00Z'],
      { env: env() },
    )
    expect(past.exitCode).toBe(1)
    expect(past.stderr).toMatch(
      /^Error: .+ \(HTTP 400 Bad Request, trace .+\)\n {2}expires_at: must be in the future\n$/,
    )
    const auditor = await createToken('auditor')
    const denied = await runCli(['tokens', 'create', '--name', 'n', '--role', 'admin'], { env: env(auditor.token) })
    expect(denied.exitCode).toBe(1)
    expect(denied.stderr).toContain('HTTP 403 Forbidden')
    expectNoSecret(denied)
  })

  it('exits 4 without a token or with a rejected one, never echoing it', async () => {
    const none = await runCli(['tokens', 'create', '--name', 'n', '--role', 'ingest'], {
      env: { KONNECT_AUDIT_SERVER: server.url },
    })
    expect(none.exitCode).toBe(4)
    expect(none.stderr).toContain('run konnect-audit login')
    const bogus = `kat_${'B'.repeat(43)}`
    const rejected = await runCli(['tokens', 'create', '--name', 'n', '--role', 'ingest'], { env: env(bogus) })
    expect(rejected.exitCode).toBe(4)
    expect(rejected.stderr).toContain('HTTP 401 Unauthorized')
    expect(rejected.stdout + rejected.stderr).not.toContain(bogus)
  })

  it('works from a saved profile too', async () => {
    const home = tempDir('ka-home-')
    const profileEnv = { XDG_CONFIG_HOME: home.path('config'), HOME: home.path('') }
    const login = await runCli(['login', '--server', server.url, '--with-token'], {
      stdin: server.adminToken,
      env: profileEnv,
    })
    expect(login.exitCode).toBe(0)
    const run = await runCli(['tokens', 'create', '--name', 'from-profile', '--role', 'ingest'], { env: profileEnv })
    expect(run.exitCode).toBe(0)
    secrets.push(run.stdout.trim())
    expect(await tokenWorks(run.stdout.trim())).toBe(true)
  })
})

describe('tokens list', () => {
  it('prints TSV without a terminal: id, name, role, created, expires, last used, revoked', async () => {
    const created = await createToken('ingest', 'listed')
    const run = await runCli(['tokens', 'list'], { env: env() })
    expect(run.exitCode).toBe(0)
    expect(run.stderr).toBe('')
    const row = run.stdout.split('\n').find((line) => line.startsWith(created.id)) as string
    expect(row).toMatch(
      /^[0-9a-f-]{36}\tlisted\tingest\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t\t0001-01-01T00:00:00Z\t0001-01-01T00:00:00Z$/,
    )
    const admin = run.stdout.split('\n').find((line) => line.includes('\tinitial-admin\t')) as string
    expect(admin.split('\t')[5]).toMatch(/^\d{4}-.+Z$/) // the admin token was used: last used is a time
    expectNoSecret(run)
  })

  it('prints a table with relative times on a terminal', async () => {
    const run = await runCli(['tokens', 'list'], { env: env(), tty: true })
    expect(run.exitCode).toBe(0)
    for (const header of ['ID', 'NAME', 'ROLE', 'CREATED', 'EXPIRES', 'LAST USED', 'REVOKED']) {
      expect(run.stdout).toContain(header)
    }
    expect(run.stdout).toMatch(/│ initial-admin +│ admin +│ \d+[smhd] ago +│ never +│ \d+[smhd] ago +│ never +│/)
    expectNoSecret(run)
  })

  it('follows every page and prints {"data":[…]} with --json', async () => {
    const created: string[] = []
    for (let i = 0; i < 101; i++) created.push((await createToken('ingest', `bulk-${i}`)).id)
    const run = await runCli(['tokens', 'list', '--json'], { env: env() })
    expect(run.exitCode).toBe(0)
    const listed = JSON.parse(run.stdout)
    expect(Object.keys(listed)).toEqual(['data'])
    const ids = listed.data.map((token: { id: string }) => token.id)
    expect(ids.length).toBeGreaterThan(101)
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids).toEqual(expect.arrayContaining(created))
    const first = await jsonOf(await server.request('/v1/tokens'))
    expect(first.meta.next).not.toBeNull() // the list above really spanned pages
    expect(Object.keys(listed.data[0]).sort()).toEqual([
      'created_at',
      'expires_at',
      'id',
      'last_used_at',
      'name',
      'revoked_at',
      'role',
    ])
    expectNoSecret(run)
  })

  it('never shows the token with --debug, and says "not supported" on a server without /v1', async () => {
    const debug = await runCli(['tokens', 'list', '--debug'], { env: env() })
    expect(debug.exitCode).toBe(0)
    expect(debug.stderr).toMatch(/^debug: GET .*\/v1\/tokens -> 200/m)
    expectNoSecret(debug)
    const konnect = await runCli(['tokens', 'list'], {
      env: { KONNECT_AUDIT_SERVER: `${server.url}/konnect`, KONNECT_AUDIT_TOKEN: server.adminToken },
    })
    expect(konnect.exitCode).toBe(1)
    expect(konnect.stderr).toBe(
      'Error: not supported by this server: it has no GET /v1/tokens (only a konnect-audit server has the /v1 routes)\n',
    )
  })

  it('exits 1 for an auditor (403) and 4 for a revoked token', async () => {
    const auditor = await createToken('auditor')
    expect((await runCli(['tokens', 'list'], { env: env(auditor.token) })).exitCode).toBe(1)
    await server.request(`/v1/tokens/${auditor.id}`, { method: 'DELETE' })
    const revoked = await runCli(['tokens', 'list', '--json'], { env: env(auditor.token) })
    expect(revoked.exitCode).toBe(4)
    expect(JSON.parse(revoked.stderr)).toMatchObject({ error: { status: 401, detail: 'Token revoked' } })
    expectNoSecret(revoked)
  })
})

describe('tokens revoke', () => {
  it('needs --yes without a terminal or with --no-input (exit 2), and then revokes nothing', async () => {
    const target = await createToken('ingest')
    const piped = await runCli(['tokens', 'revoke', target.id], { env: env(), stdin: '' })
    expect(piped.exitCode).toBe(2)
    expect(piped.stderr).toBe('Error: revoking a token needs --yes when no terminal can confirm\n')
    const noInput = await runCli(['tokens', 'revoke', target.id, '--no-input'], { env: env(), tty: true })
    expect(noInput.exitCode).toBe(2)
    // A terminal whose input ends before an answer cannot confirm either.
    expect((await runCli(['tokens', 'revoke', target.id], { env: env(), tty: true })).exitCode).toBe(2)
    expect(await tokenWorks(target.token)).toBe(true)
  })

  it('revokes with --yes at once; a second revoke is a no-op (exit 0)', async () => {
    const target = await createToken('ingest')
    const run = await runCli(['tokens', 'revoke', target.id, '--yes'], { env: env() })
    expect(run).toEqual({ exitCode: 0, stdout: '', stderr: `Revoked token ${target.id}\n` })
    expect(await tokenWorks(target.token)).toBe(false)
    const again = await runCli(['tokens', 'revoke', target.id, '--yes', '--json'], { env: env() })
    expect(again).toEqual({ exitCode: 0, stdout: `{"id":"${target.id}","revoked":true}\n`, stderr: '' })
    const quiet = await runCli(['tokens', 'revoke', target.id, '--yes', '-q'], { env: env() })
    expect(quiet).toEqual({ exitCode: 0, stdout: '', stderr: '' })
    const listed = JSON.parse((await runCli(['tokens', 'list', '--json'], { env: env() })).stdout)
    const row = listed.data.find((token: { id: string }) => token.id === target.id)
    expect(row.revoked_at).not.toBe('0001-01-01T00:00:00Z')
  })

  it('asks on a terminal: "y" revokes, "n" keeps the token (exit 1), Ctrl-C exits 130', async () => {
    const kept = await createToken('ingest')
    const no = await runAnswering(['tokens', 'revoke', kept.id], 'n\n', env())
    expect(no.exitCode).toBe(1)
    expect(no.stderr).toContain(`Revoke token ${kept.id}?`)
    expect(no.stderr).toMatch(/Error: not revoked\n$/)
    expect(await tokenWorks(kept.token)).toBe(true)
    const interrupted = await runAnswering(['tokens', 'revoke', kept.id], '\x03', env())
    expect(interrupted.exitCode).toBe(130)
    expect(await tokenWorks(kept.token)).toBe(true)
    const yes = await runAnswering(['tokens', 'revoke', kept.id], 'y\n', env())
    expect(yes.exitCode).toBe(0)
    expect(yes.stderr).toMatch(/Revoked token [0-9a-f-]{36}\n$/)
    expect(await tokenWorks(kept.token)).toBe(false)
    expectNoSecret(yes)
  })

  it("exits 1 for an unknown id (another org's included) or a malformed one", async () => {
    const unknown = await runCli(['tokens', 'revoke', randomUUID(), '--yes'], { env: env() })
    expect(unknown.exitCode).toBe(1)
    expect(unknown.stderr).toMatch(/^Error: Token [0-9a-f-]{36} not found \(HTTP 404 Not Found, trace .+\)\n$/)
    const other = newOrg('other-tokens', 'admin', Date.now())
    await server.store.createOrg(other.init)
    secrets.push(other.secret)
    const foreign = await runCli(['tokens', 'revoke', other.init.adminToken.id, '--yes'], { env: env() })
    expect(foreign.exitCode).toBe(1)
    expect(await tokenWorks(other.secret)).toBe(true)
    expect((await runCli(['tokens', 'revoke', 'not-a-uuid', '--yes'], { env: env() })).exitCode).toBe(1)
  })

  it("exits 5 on revoking the org's last admin token, with --json errors on stderr", async () => {
    const lonely = newOrg('last-admin', 'only-admin', Date.now())
    await server.store.createOrg(lonely.init)
    secrets.push(lonely.secret)
    const run = await runCli(['tokens', 'revoke', lonely.init.adminToken.id, '--yes'], { env: env(lonely.secret) })
    expect(run.exitCode).toBe(5)
    expect(run.stderr).toMatch(/^Error: Cannot revoke the last admin token \(HTTP 409 Resource Conflict, trace .+\)\n$/)
    const json = await runCli(['tokens', 'revoke', lonely.init.adminToken.id, '--yes', '--json'], {
      env: env(lonely.secret),
    })
    expect(json.exitCode).toBe(5)
    expect(json.stdout).toBe('')
    expect(JSON.parse(json.stderr).error).toMatchObject({ status: 409, detail: 'Cannot revoke the last admin token' })
    expect(await tokenWorks(lonely.secret)).toBe(true)
    expectNoSecret(json)
  })

  it('exits 4 with a revoked token, and 2 without the id', async () => {
    const admin = await createToken('admin')
    await server.request(`/v1/tokens/${admin.id}`, { method: 'DELETE' })
    const run = await runCli(['tokens', 'revoke', randomUUID(), '--yes'], { env: env(admin.token) })
    expect(run.exitCode).toBe(4)
    expectNoSecret(run)
    expect((await runCli(['tokens', 'revoke', '--yes'], { env: env() })).exitCode).toBe(2)
  })
})
