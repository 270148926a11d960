// Tests `destinations list|create|get|update|delete` in-process against a real server on
// loopback: TTY and non-TTY output, --json, names resolved with filter[name][eq], exit codes, and
// the Authorization value never in any output. Paging past our per-org limit uses a MockAgent.

import { getGlobalDispatcher, MockAgent, setGlobalDispatcher } from 'undici'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { runCli } from '../helpers/run-cli.js'
import type { TestServer } from '../helpers/server.js'
import { jsonBody, jsonOf, startTestServer } from '../helpers/server.js'
import { tempDir } from '../helpers/temp-files.js'

const SECRET = 'Bearer 0d9c-destination-secret-value'
const NEW_SECRET = 'Bearer 7f21-rotated-destination-secret'
const ENDPOINT = 'http://127.0.0.1:9/siem'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const home = tempDir('ka-home-')

let server: TestServer
let env: Record<string, string>
const outputs: string[] = []

beforeAll(async () => {
  server = await startTestServer({ allowInsecureEndpoints: true })
  env = { KONNECT_AUDIT_SERVER: server.url, KONNECT_AUDIT_TOKEN: server.adminToken, XDG_CONFIG_HOME: home.path('') }
})
afterAll(async () => {
  // No run, whatever it printed, ever showed an Authorization value.
  const all = outputs.join('\n')
  expect(all).not.toContain(SECRET)
  expect(all).not.toContain(NEW_SECRET)
  await server.close()
})
beforeEach(async () => {
  expect((await server.request('/v3/audit-log-webhook', { method: 'DELETE' })).status).toBe(204)
  const { data } = await jsonOf(await server.request('/v3/audit-log-destinations'))
  for (const { id } of data) {
    expect((await server.request(`/v3/audit-log-destinations/${id}`, { method: 'DELETE' })).status).toBe(204)
  }
})

async function cli(argv: string[], options: { stdin?: string; tty?: boolean; env?: Record<string, string> } = {}) {
  const { env: extraEnv, ...rest } = options
  const run = await runCli(argv, { ...rest, env: { ...env, ...extraEnv } })
  outputs.push(run.stdout, run.stderr)
  return run
}

async function create(name: string, extra: string[] = []) {
  const run = await cli(
    [
      'destinations',
      'create',
      '--name',
      name,
      '--endpoint',
      ENDPOINT,
      '--format',
      'json',
      '--auth-header-stdin',
      '--json',
      ...extra,
    ],
    { stdin: `${SECRET}\n` },
  )
  expect(run.exitCode).toBe(0)
  return JSON.parse(run.stdout)
}

const stored = async (id: string) => jsonOf(await server.request(`/v3/audit-log-destinations/${id}`))

describe('destinations create', () => {
  it('POSTs name, endpoint, format and the Authorization from stdin; prints fields, a TTY view or the body', async () => {
    const plain = await cli(
      [
        'destinations',
        'create',
        '--name',
        'splunk-prod',
        '--endpoint',
        ENDPOINT,
        '--format',
        'json',
        '--auth-header-stdin',
      ],
      { stdin: SECRET },
    )
    expect(plain.exitCode).toBe(0)
    expect(plain.stderr).toBe('')
    const id = /^ID\t(.+)$/m.exec(plain.stdout)?.[1] ?? ''
    expect(id).toMatch(UUID)
    expect(plain.stdout).toMatch(
      new RegExp(`^Name\\tsplunk-prod\\nEndpoint\\t${ENDPOINT}\\nFormat\\tjson\\nSkip TLS verify\\tno\\n`, 'm'),
    )
    expect(await stored(id)).toMatchObject({ name: 'splunk-prod', log_format: 'json', skip_ssl_verification: false })

    const tty = await cli(
      [
        'destinations',
        'create',
        '--name',
        'qradar',
        '--endpoint',
        ENDPOINT,
        '--format',
        'cef',
        '--auth-header-stdin',
        '--skip-tls-verify',
      ],
      { stdin: SECRET, tty: true },
    )
    expect(tty.exitCode).toBe(0)
    expect(tty.stdout).toMatch(/^Name: +qradar$/m)
    expect(tty.stdout).toMatch(/^Skip TLS verify: +yes$/m)
    expect(tty.stderr).toMatch(/^Warning: the TLS certificate of http:\/\/127\.0\.0\.1:9\/siem will not be verified/)

    const json = await create('sentinel')
    expect(json).toMatchObject({ name: 'sentinel', endpoint: ENDPOINT, log_format: 'json' })
    expect(Object.keys(json).sort()).toEqual(
      ['created_at', 'endpoint', 'id', 'log_format', 'name', 'skip_ssl_verification', 'updated_at'].sort(),
    )
  })

  it('exits 2 naming every missing flag without a terminal, or with --no-input', async () => {
    const piped = await cli(['destinations', 'create', '--name', 'x'], { stdin: SECRET })
    expect(piped.exitCode).toBe(2)
    expect(piped.stderr).toBe('Error: missing --endpoint, --format, --auth-header-stdin (no terminal to ask on)\n')
    const noInput = await cli(['destinations', 'create', '--no-input'], { tty: true })
    expect(noInput.exitCode).toBe(2)
    expect(noInput.stderr).toContain('missing --name, --endpoint, --format, --auth-header-stdin')
    const empty = await cli(
      ['destinations', 'create', '--name', 'x', '--endpoint', ENDPOINT, '--format', 'cef', '--auth-header-stdin'],
      { stdin: '  \n' },
    )
    expect(empty.exitCode).toBe(2)
    expect(empty.stderr).toBe('Error: the Authorization value is empty\n')
    const format = await cli(['destinations', 'create', '--format', 'xml'], { stdin: '' })
    expect(format.exitCode).toBe(2)
    expect((await jsonOf(await server.request('/v3/audit-log-destinations'))).data).toEqual([])
  })

  it('shows a 400 with its field lines (exit 1) and a duplicate name as a conflict (exit 5)', async () => {
    const invalid = await cli(
      ['destinations', 'create', '--name', 'bad', '--endpoint', 'not a url', '--format', 'cef', '--auth-header-stdin'],
      { stdin: SECRET },
    )
    expect(invalid.exitCode).toBe(1)
    expect(invalid.stderr).toMatch(
      /\(HTTP 400 Bad Request, trace kong:trace:\d+\)\n {2}endpoint: must be a valid URL\n$/,
    )
    await create('taken')
    const duplicate = await cli(
      ['destinations', 'create', '--name', 'taken', '--endpoint', ENDPOINT, '--format', 'cef', '--auth-header-stdin'],
      { stdin: SECRET },
    )
    expect(duplicate.exitCode).toBe(5)
    expect(duplicate.stderr).toMatch(
      /^Error: A destination with this name already exists \(HTTP 409 Resource Conflict, trace kong:trace:\d+\)\n$/,
    )
    const json = await cli(
      [
        'destinations',
        'create',
        '--name',
        'taken',
        '--endpoint',
        ENDPOINT,
        '--format',
        'cef',
        '--auth-header-stdin',
        '--json',
      ],
      { stdin: SECRET },
    )
    expect(json.exitCode).toBe(5)
    expect(json.stdout).toBe('')
    expect(JSON.parse(json.stderr).error).toMatchObject({ status: 409, title: 'Resource Conflict' })
  })
})

describe('destinations list', () => {
  it('prints TSV without a header, a table on a TTY, {"data":[…]} with --json, and filters by name', async () => {
    const first = await create('splunk-prod')
    const second = await create('splunk-dev', ['--skip-tls-verify'])
    const third = await create('qradar')
    // The server's order: created_at, then id.
    const ordered = [first, second, third].sort(
      (a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id),
    )
    const plain = await cli(['destinations', 'list'], { stdin: '' })
    expect(plain.exitCode).toBe(0)
    expect(plain.stdout).toBe(
      ordered
        .map(
          (d) => `${d.id}\t${d.name}\tjson\t${ENDPOINT}\t${d.skip_ssl_verification ? 'yes' : 'no'}\t${d.updated_at}\n`,
        )
        .join(''),
    )
    const tty = await cli(['destinations', 'list'], { tty: true })
    expect(tty.stdout).toMatch(/│ ID +│ NAME +│ FORMAT +│ ENDPOINT +│ SKIP TLS VERIFY +│ UPDATED +│/)
    expect(tty.stdout).toContain('│ splunk-dev ')
    const json = JSON.parse((await cli(['destinations', 'list', '--json'])).stdout)
    expect(json).toEqual({ data: ordered })
    const exact = JSON.parse((await cli(['destinations', 'list', '--name', 'splunk', '--json'])).stdout)
    expect(exact).toEqual({ data: [] })
    const named = JSON.parse((await cli(['destinations', 'list', '--name', 'qradar', '--json'])).stdout)
    expect(named.data.map((d: { name: string }) => d.name)).toEqual(['qradar'])
    const contains = await cli(['destinations', 'list', '--name-contains', 'SPLUNK'], { stdin: '' })
    const containsNames = contains.stdout
      .trim()
      .split('\n')
      .map((line) => line.split('\t')[1])
    expect(containsNames.sort()).toEqual(['splunk-dev', 'splunk-prod'])
    const both = await cli(['destinations', 'list', '--name', 'a', '--name-contains', 'b'])
    expect(both.exitCode).toBe(2)
    expect(both.stderr).toBe('Error: --name and --name-contains cannot be combined\n')
  })

  it('prints nothing for no destinations (exit 0), with a hint only on a terminal', async () => {
    const plain = await cli(['destinations', 'list'], { stdin: '' })
    expect(plain).toEqual({ exitCode: 0, stdout: '', stderr: '' })
    const tty = await cli(['destinations', 'list'], { tty: true })
    expect(tty.stdout).toBe('')
    expect(tty.stderr).toContain('destinations create')
    expect(JSON.parse((await cli(['destinations', 'list', '--json'])).stdout)).toEqual({ data: [] })
  })

  it('follows meta.next through every page', async () => {
    const destination = (n: number) => ({
      id: `00000000-0000-4000-8000-00000000000${n}`,
      name: `d${n}`,
      endpoint: ENDPOINT,
      log_format: 'cef',
      skip_ssl_verification: false,
      created_at: '2026-11-26T09:00:00.000Z',
      updated_at: '2026-11-26T09:00:00.000Z',
    })
    const next = '/v3/audit-log-destinations?page%5Bsize%5D=100&page%5Bafter%5D=cursor-1'
    const agent = new MockAgent()
    agent.disableNetConnect()
    const origin = agent.get('https://konnect.test')
    const headers = { 'content-type': 'application/json' }
    origin
      .intercept({
        method: 'GET',
        path: (path) => path.startsWith('/v3/audit-log-destinations?page%5Bsize%5D=100') && !path.includes('after'),
      })
      .reply(200, { data: [destination(1), destination(2)], meta: { next, previous: null, size: 100 } }, { headers })
    origin
      .intercept({ method: 'GET', path: next })
      .reply(200, { data: [destination(3)], meta: { next: null, previous: null, size: 100 } }, { headers })
    const previous = getGlobalDispatcher()
    setGlobalDispatcher(agent)
    try {
      const run = await cli(['destinations', 'list', '--json'], {
        env: { KONNECT_AUDIT_SERVER: 'https://konnect.test' },
      })
      expect(run.exitCode).toBe(0)
      expect(JSON.parse(run.stdout)).toEqual({ data: [destination(1), destination(2), destination(3)] })
      agent.assertNoPendingInterceptors()
    } finally {
      setGlobalDispatcher(previous)
      await agent.close()
    }
  })
})

describe('destinations get', () => {
  it('resolves a name with filter[name][eq], takes a UUID as an ID, and exits 1 for unknown ones', async () => {
    const made = await create('splunk-prod')
    await create('splunk-prod-2')
    const byName = await cli(['destinations', 'get', 'splunk-prod', '--debug'], { stdin: '' })
    expect(byName.exitCode).toBe(0)
    expect(byName.stdout).toMatch(new RegExp(`^ID\\t${made.id}\\nName\\tsplunk-prod\\n`))
    expect(byName.stderr).toContain('filter%5Bname%5D%5Beq%5D=splunk-prod')
    expect(byName.stderr).not.toContain(server.adminToken)
    const byId = await cli(['destinations', 'get', made.id, '--json'])
    expect(JSON.parse(byId.stdout)).toEqual(made)
    const tty = await cli(['destinations', 'get', made.id], { tty: true })
    expect(tty.stdout).toMatch(/^Created: +\d+s ago$/m)
    const unknown = await cli(['destinations', 'get', 'nope'])
    expect(unknown.exitCode).toBe(1)
    expect(unknown.stderr).toBe('Error: no destination is named "nope"; see konnect-audit destinations list\n')
    const missing = await cli(['destinations', 'get', '5b1f0c2e-8a4d-4c1e-9f3a-2d7e6b9c0a11'])
    expect(missing.exitCode).toBe(1)
    expect(missing.stderr).toMatch(/^Error: Destination 5b1f0c2e-.+ not found \(HTTP 404 Not Found/)
    const noArg = await cli(['destinations', 'get'])
    expect(noArg.exitCode).toBe(2)
  })
})

describe('destinations update', () => {
  it('PATCHes only the given fields, by name or ID', async () => {
    const made = await create('splunk-prod', ['--skip-tls-verify'])
    const format = await cli(['destinations', 'update', 'splunk-prod', '--format', 'cps'], { stdin: '' })
    expect(format.exitCode).toBe(0)
    expect(format.stdout).toMatch(/^Format\tcps$/m)
    expect(await stored(made.id)).toMatchObject({
      name: 'splunk-prod',
      endpoint: ENDPOINT,
      log_format: 'cps',
      skip_ssl_verification: true,
    })
    const tls = await cli(['destinations', 'update', made.id, '--no-skip-tls-verify', '--name', 'renamed', '--json'])
    expect(tls.exitCode).toBe(0)
    expect(tls.stderr).toBe('')
    expect(JSON.parse(tls.stdout)).toEqual(await stored(made.id))
    expect(await stored(made.id)).toMatchObject({ name: 'renamed', log_format: 'cps', skip_ssl_verification: false })
    const skip = await cli(['destinations', 'update', 'renamed', '--skip-tls-verify'], { tty: true })
    expect(skip.stdout).toMatch(/^Skip TLS verify: +yes$/m)
    expect(skip.stderr).toMatch(/^Warning: the TLS certificate of destination renamed will not be verified/)
    const secret = await cli(['destinations', 'update', 'renamed', '--auth-header-stdin'], { stdin: NEW_SECRET })
    expect(secret.exitCode).toBe(0)
    expect(await stored(made.id)).toMatchObject({ name: 'renamed', log_format: 'cps', skip_ssl_verification: true })
  })

  it('exits 2 with nothing to change, 5 on a duplicate name, 1 on a 400 or an unknown name', async () => {
    await create('one')
    await create('two')
    const nothing = await cli(['destinations', 'update', 'one'])
    expect(nothing.exitCode).toBe(2)
    expect(nothing.stderr).toMatch(/^Error: nothing to change: give --name/)
    const noInput = await cli(['destinations', 'update', 'one', '--auth-header-stdin', '--no-input'], { tty: true })
    expect(noInput.exitCode).toBe(2)
    expect(noInput.stderr).toContain('--auth-header-stdin reads the value from stdin')
    const duplicate = await cli(['destinations', 'update', 'one', '--name', 'two'])
    expect(duplicate.exitCode).toBe(5)
    const invalid = await cli(['destinations', 'update', 'one', '--endpoint', 'ftp://x.example/'])
    expect(invalid.exitCode).toBe(1)
    expect(invalid.stderr).toMatch(/\n {2}endpoint: must use https\n$/)
    const unknown = await cli(['destinations', 'update', 'three', '--format', 'cef'])
    expect(unknown.exitCode).toBe(1)
  })
})

describe('destinations delete', () => {
  it('needs --yes without a terminal (exit 2), refuses one in use (exit 5), deletes by name or ID', async () => {
    const used = await create('in-use')
    const spare = await create('spare')
    const noYes = await cli(['destinations', 'delete', 'spare'], { stdin: '' })
    expect(noYes.exitCode).toBe(2)
    expect(noYes.stderr).toBe('Error: deleting a destination needs --yes when no terminal can confirm\n')
    const noInput = await cli(['destinations', 'delete', 'spare', '--no-input'], { tty: true })
    expect(noInput.exitCode).toBe(2)
    // A terminal whose input ends at the prompt cannot confirm either.
    const endedPrompt = await cli(['destinations', 'delete', 'spare'], { tty: true })
    expect(endedPrompt.exitCode).toBe(2)
    expect((await server.request(`/v3/audit-log-destinations/${spare.id}`)).status).toBe(200)

    expect((await cli(['webhook', 'set', '--destination', 'in-use'])).exitCode).toBe(0)
    const inUse = await cli(['destinations', 'delete', 'in-use', '--yes'])
    expect(inUse.exitCode).toBe(5)
    expect(inUse.stderr).toMatch(
      /^Error: destination is in use \(HTTP 409 Resource Conflict, trace kong:trace:\d+\)\n$/,
    )
    expect((await server.request(`/v3/audit-log-destinations/${used.id}`)).status).toBe(200)

    const byName = await cli(['destinations', 'delete', 'spare', '--yes'], { tty: true })
    expect(byName.exitCode).toBe(0)
    expect(byName.stdout).toBe('')
    expect(byName.stderr).toBe(`Deleted destination spare (${spare.id})\n`)
    expect((await server.request(`/v3/audit-log-destinations/${spare.id}`)).status).toBe(404)

    await server.request('/v3/audit-log-webhook', { method: 'DELETE' })
    const byId = await cli(['destinations', 'delete', used.id, '--yes', '--json'])
    expect(byId.exitCode).toBe(0)
    expect(JSON.parse(byId.stdout)).toEqual({ id: used.id, name: null, deleted: true })
    const again = await cli(['destinations', 'delete', used.id, '--yes'])
    expect(again.exitCode).toBe(1)
    expect(again.stderr).toContain('HTTP 404 Not Found')
  })
})

describe('authentication', () => {
  it('exits 4 on a rejected or missing token for every destinations command', async () => {
    const made = await create('auth-check')
    const bad = { KONNECT_AUDIT_TOKEN: `kat_${'A'.repeat(43)}` }
    const runs: Array<[string[], string | undefined]> = [
      [['destinations', 'list'], undefined],
      [['destinations', 'get', made.id], undefined],
      [['destinations', 'get', 'auth-check'], undefined],
      [['destinations', 'update', made.id, '--format', 'cef'], undefined],
      [['destinations', 'delete', made.id, '--yes'], undefined],
      [
        ['destinations', 'create', '--name', 'n', '--endpoint', ENDPOINT, '--format', 'cef', '--auth-header-stdin'],
        SECRET,
      ],
    ]
    for (const [argv, stdin] of runs) {
      const run = await cli(argv, { env: bad, ...(stdin === undefined ? {} : { stdin }) })
      expect(run.exitCode, argv.join(' ')).toBe(4)
      expect(run.stderr).toContain('HTTP 401')
      expect(run.stderr).toContain('Run konnect-audit login to sign in again.')
    }
    // -q hides the hint, never the error.
    const quiet = await cli(['destinations', 'list', '-q'], { env: bad })
    expect(quiet.exitCode).toBe(4)
    expect(quiet.stderr).toContain('HTTP 401')
    expect(quiet.stderr).not.toContain('konnect-audit login')
    const none = await runCli(['destinations', 'list'], {
      env: { KONNECT_AUDIT_SERVER: server.url, XDG_CONFIG_HOME: home.path('') },
    })
    expect(none.exitCode).toBe(4)
    expect(none.stderr).toContain('run konnect-audit login')
    expect(await stored(made.id)).toMatchObject({ name: 'auth-check' })
  })
})

describe('a forbidden role', () => {
  it('shows a 403 as exit 1', async () => {
    const created = await server.request('/v1/tokens', {
      method: 'POST',
      ...jsonBody({ name: 'aud', role: 'auditor' }),
    })
    const { token } = await jsonOf(created)
    const run = await cli(['destinations', 'list'], { env: { KONNECT_AUDIT_TOKEN: token } })
    expect(run.exitCode).toBe(1)
    expect(run.stderr).toMatch(/^Error: You do not have permission to perform this action \(HTTP 403 Forbidden/)
  })
})
