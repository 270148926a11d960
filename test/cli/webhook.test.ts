// Tests `webhook get|set|enable|disable|status` in-process against a real server on loopback:
// TTY and non-TTY output, --json, exit codes, only the given fields sent, and the Authorization
// value never in any output. Endpoints are closed loopback ports; nothing connects elsewhere.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { CliRun } from '../helpers/run-cli.js'
import { runCli } from '../helpers/run-cli.js'
import type { TestServer } from '../helpers/server.js'
import { jsonBody, jsonOf, startTestServer } from '../helpers/server.js'
import { tempDir } from '../helpers/temp-files.js'
import { testClock } from '../helpers/test-clock.js'
import { UNCONFIGURED_WEBHOOK } from '../helpers/unconfigured-webhook.js'

const clock = testClock(Math.floor(Date.now() / 1000) * 1000)
const SECRET = 'Splunk 6c1e0f5a-webhook-secret-value'
const ENDPOINT = 'http://127.0.0.1:9/konnect'
const home = tempDir('ka-home-')

let server: TestServer
let env: Record<string, string>
const outputs: string[] = []

beforeAll(async () => {
  server = await startTestServer({ allowInsecureEndpoints: true }, clock)
  env = { KONNECT_AUDIT_SERVER: server.url, KONNECT_AUDIT_TOKEN: server.adminToken, XDG_CONFIG_HOME: home.path('') }
})
afterAll(async () => {
  // No run, whatever it printed, ever showed the Authorization value.
  expect(outputs.join('\n')).not.toContain(SECRET)
  await server.close()
})
beforeEach(async () => {
  expect((await server.request('/v3/audit-log-webhook', { method: 'DELETE' })).status).toBe(204)
})

async function cli(argv: string[], options: { stdin?: string; tty?: boolean; env?: Record<string, string> } = {}) {
  const { env: extraEnv, ...rest } = options
  const run = await runCli(argv, { ...rest, env: { ...env, ...extraEnv } })
  outputs.push(run.stdout, run.stderr)
  return run
}

const getWebhook = async () => jsonOf(await server.request('/v2/audit-log-webhook'))

async function configure(extra: string[] = []): Promise<CliRun> {
  const run = await cli(['webhook', 'set', '--endpoint', ENDPOINT, '--auth-header-stdin', ...extra], { stdin: SECRET })
  expect(run.exitCode).toBe(0)
  return run
}

async function createDestination(name: string): Promise<string> {
  const response = await server.request('/v3/audit-log-destinations', {
    method: 'POST',
    ...jsonBody({ name, endpoint: 'http://127.0.0.1:9/dest', log_format: 'json', authorization: SECRET }),
  })
  expect(response.status).toBe(201)
  return (await jsonOf(response)).id
}

describe('webhook get', () => {
  it('prints the unconfigured webhook as fields, a table-like view on a TTY, and the body with --json', async () => {
    const plain = await cli(['webhook', 'get'], { stdin: '' })
    expect(plain.exitCode).toBe(0)
    expect(plain.stdout).toBe(
      'Endpoint\tunconfigured\nEnabled\tno\nFormat\tcef\nSkip TLS verify\tno\nAuthorization\tnone\nUpdated\t0001-01-01T00:00:00Z\n',
    )
    expect(plain.stderr).toBe('')
    const tty = await cli(['webhook', 'get'], { tty: true })
    expect(tty.stdout).toMatch(/^Endpoint: +unconfigured$/m)
    expect(tty.stdout).toMatch(/^Updated: +never$/m)
    expect(tty.stderr).toContain('webhook set --endpoint URL')
    const json = await cli(['webhook', 'get', '--json'])
    expect(JSON.parse(json.stdout)).toEqual(UNCONFIGURED_WEBHOOK)
  })

  it('shows a configured webhook without its authorization', async () => {
    await configure(['--format', 'json'])
    const run = await cli(['webhook', 'get'], { stdin: '' })
    expect(run.stdout).toMatch(new RegExp(`^Endpoint\\t${ENDPOINT}$`, 'm'))
    expect(run.stdout).toMatch(/^Format\tjson$/m)
    expect(run.stdout).toMatch(/^Authorization\tconfigured$/m)
    expect(run.stdout).toMatch(/^Updated\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/m)
    const json = JSON.parse((await cli(['webhook', 'get', '--json'])).stdout)
    expect(json).toMatchObject({ endpoint: ENDPOINT, authorization_configured: true })
    expect(json).not.toHaveProperty('authorization')
  })
})

describe('webhook set', () => {
  it('configures with one PATCH, reads the Authorization from stdin, warns on --skip-tls-verify even with -q', async () => {
    const run = await cli(
      ['webhook', 'set', '--endpoint', ENDPOINT, '--format', 'json', '--auth-header-stdin', '--skip-tls-verify', '-q'],
      { stdin: `${SECRET}\n` },
    )
    expect(run.exitCode).toBe(0)
    expect(run.stderr).toMatch(
      /^Warning: the TLS certificate of http:\/\/127\.0\.0\.1:9\/konnect will not be verified/m,
    )
    expect(run.stdout).toMatch(/^Enabled\tno$/m)
    expect(run.stdout).toMatch(/^Skip TLS verify\tyes$/m)
    expect(await getWebhook()).toMatchObject({
      endpoint: ENDPOINT,
      enabled: false,
      log_format: 'json',
      skip_ssl_verification: true,
      authorization_configured: true,
    })
  })

  it('sends only the given fields: format, then TLS, then enable, then clearing the authorization', async () => {
    await configure(['--format', 'json', '--skip-tls-verify'])
    const format = await cli(['webhook', 'set', '--format', 'cps', '--json'])
    expect(format.exitCode).toBe(0)
    expect(JSON.parse(format.stdout)).toEqual(await getWebhook())
    expect(await getWebhook()).toMatchObject({
      endpoint: ENDPOINT,
      log_format: 'cps',
      skip_ssl_verification: true,
      authorization_configured: true,
      enabled: false,
    })
    const tls = await cli(['webhook', 'set', '--no-skip-tls-verify'])
    expect(tls.exitCode).toBe(0)
    expect(tls.stderr).not.toContain('Warning')
    expect(await getWebhook()).toMatchObject({
      log_format: 'cps',
      skip_ssl_verification: false,
      authorization_configured: true,
      enabled: false,
    })
    const enable = await cli(['webhook', 'set', '--enable'], { tty: true })
    expect(enable.exitCode).toBe(0)
    expect(enable.stdout).toMatch(/^Enabled: +yes\nFormat: +cps$/m)
    expect(enable.stderr).toBe('')
    expect(await getWebhook()).toMatchObject({ log_format: 'cps', authorization_configured: true, enabled: true })
    expect((await cli(['webhook', 'set', '--clear-auth-header'])).exitCode).toBe(0)
    expect(await getWebhook()).toMatchObject({
      endpoint: ENDPOINT,
      log_format: 'cps',
      authorization_configured: false,
      enabled: true,
    })
  })

  it('needs --endpoint only while unconfigured: exit 2 naming it without a terminal or with --no-input', async () => {
    const piped = await cli(['webhook', 'set', '--format', 'json'], { stdin: '' })
    expect(piped.exitCode).toBe(2)
    expect(piped.stderr).toBe('Error: the webhook is not configured yet, so --endpoint URL is required\n')
    const noInput = await cli(['webhook', 'set', '--no-input'], { tty: true })
    expect(noInput.exitCode).toBe(2)
    expect(noInput.stderr).toContain('--endpoint')
    expect(await getWebhook()).toEqual(UNCONFIGURED_WEBHOOK)
    await configure()
    const nothing = await cli(['webhook', 'set'], { stdin: '' })
    expect(nothing.exitCode).toBe(2)
    expect(nothing.stderr).toMatch(/^Error: nothing to change: give --endpoint/)
  })

  it('exits 2 on conflicting flags, a bad format, an empty or unreadable Authorization value', async () => {
    const cases: Array<[string[], string | undefined, RegExp]> = [
      [['--auth-header-stdin', '--clear-auth-header'], SECRET, /cannot be combined/],
      [['--destination', 'x', '--endpoint', ENDPOINT], undefined, /--destination cannot be combined with --endpoint/],
      [['--format', 'xml'], undefined, /argument 'xml' is invalid/],
      [['--endpoint', ENDPOINT, '--auth-header-stdin'], '\n', /Authorization value is empty; to remove it/],
      [['--endpoint', ENDPOINT, '--auth-header-stdin', '--no-input'], undefined, /reads the value from stdin/],
    ]
    for (const [flags, stdin, message] of cases) {
      const run = await cli(['webhook', 'set', ...flags], stdin === undefined ? { tty: true } : { stdin })
      expect(run.exitCode, flags.join(' ')).toBe(2)
      expect(run.stderr).toMatch(message)
    }
    expect(await getWebhook()).toEqual(UNCONFIGURED_WEBHOOK)
  })

  it('shows a 400 with its field lines (exit 1) and changes nothing', async () => {
    const run = await cli(['webhook', 'set', '--endpoint', 'not a url', '--auth-header-stdin'], { stdin: SECRET })
    expect(run.exitCode).toBe(1)
    expect(run.stderr).toMatch(
      /^Error: .+ \(HTTP 400 Bad Request, trace kong:trace:\d+\)\n {2}endpoint: must be a valid URL\n$/,
    )
    const json = await cli(['webhook', 'set', '--endpoint', 'ftp://x.example/', '--json'])
    expect(json.exitCode).toBe(1)
    expect(JSON.parse(json.stderr).error).toMatchObject({ status: 400, invalid_parameters: [{ field: 'endpoint' }] })
    expect(await getWebhook()).toEqual(UNCONFIGURED_WEBHOOK)
  })

  it('points the webhook at a destination by name with a v3 PATCH (--enable), or by ID', async () => {
    const id = await createDestination('splunk-set')
    const run = await cli(['webhook', 'set', '--destination', 'splunk-set', '--enable'])
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toBe(`Destination\tsplunk-set (${id})\nEnabled\tyes\n`)
    expect(await getWebhook()).toMatchObject({ audit_log_destination_id: id, enabled: true, log_format: 'json' })
    const byId = await cli(['webhook', 'set', '--destination', id, '--json'])
    expect(JSON.parse(byId.stdout)).toEqual({ audit_log_destination_id: id, enabled: true })
    const fields = await cli(['webhook', 'get'], { stdin: '' })
    expect(fields.stdout).toMatch(new RegExp(`^Destination\\t${id}$`, 'm'))
    const unknown = await cli(['webhook', 'set', '--destination', 'no-such-destination'])
    expect(unknown.exitCode).toBe(1)
    expect(unknown.stderr).toBe(
      'Error: no destination is named "no-such-destination"; see konnect-audit destinations list\n',
    )
    // In destination mode the destination owns the format: the server's 400 is shown as is.
    const format = await cli(['webhook', 'set', '--format', 'cef'])
    expect(format.exitCode).toBe(1)
    expect(format.stderr).toMatch(/^ {2}log_format: cannot be changed while the webhook uses destination/m)
  })

  it('never shows the Authorization value, even with --debug', async () => {
    const run = await cli(['webhook', 'set', '--endpoint', ENDPOINT, '--auth-header-stdin', '--debug'], {
      stdin: SECRET,
    })
    expect(run.exitCode).toBe(0)
    expect(run.stderr).toMatch(/^debug: PATCH http:\/\/127\.0\.0\.1:\d+\/v2\/audit-log-webhook -> 200/m)
    expect(run.stdout + run.stderr).not.toContain(SECRET)
    expect(run.stdout + run.stderr).not.toContain(server.adminToken)
  })
})

describe('webhook enable and disable', () => {
  it('toggle only `enabled`, print the webhook, and explain an unconfigured webhook (exit 1)', async () => {
    await configure(['--format', 'cps'])
    const enable = await cli(['webhook', 'enable', '--json'])
    expect(enable.exitCode).toBe(0)
    expect(JSON.parse(enable.stdout)).toMatchObject({ endpoint: ENDPOINT, enabled: true, log_format: 'cps' })
    const again = await cli(['webhook', 'enable'], { stdin: '' })
    expect(again.stdout).toMatch(/^Enabled\tyes$/m)
    const disable = await cli(['webhook', 'disable'], { tty: true })
    expect(disable.exitCode).toBe(0)
    expect(disable.stdout).toMatch(/^Enabled: +no$/m)
    expect(await getWebhook()).toMatchObject({ enabled: false, log_format: 'cps', authorization_configured: true })
    await server.request('/v3/audit-log-webhook', { method: 'DELETE' })
    const unconfigured = await cli(['webhook', 'enable'])
    expect(unconfigured.exitCode).toBe(1)
    expect(unconfigured.stderr).toBe(
      'Error: the webhook is not configured yet: run konnect-audit webhook set --endpoint URL (or --destination NAME) first\n',
    )
    const json = await cli(['webhook', 'enable', '--json'])
    expect(json.exitCode).toBe(1)
    expect(JSON.parse(json.stderr).error.invalid_parameters[0].field).toBe('endpoint')
    expect((await cli(['webhook', 'disable'])).exitCode).toBe(0)
  })
})

describe('webhook status', () => {
  it('explains an unconfigured webhook, and prints the body unchanged with --json', async () => {
    const run = await cli(['webhook', 'status'], { stdin: '' })
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toMatch(/^Status\tunconfigured\nEnabled\tno\nMeaning\tnot configured: nothing is delivered\n/)
    expect(run.stdout).toMatch(/^Lag\t0 events, 0s behind$/m)
    const json = JSON.parse((await cli(['webhook', 'status', '--json'])).stdout)
    expect(json).toMatchObject({ webhook_enabled: false, webhook_status: 'unconfigured', lag_events: 0 })
  })

  it('shows the enabled × status pair in words and the lag as "N events, T behind"', async () => {
    await configure(['--enable'])
    // Commit this request's events at the current time, then let 19m29s pass.
    expect((await cli(['webhook', 'get'])).exitCode).toBe(0)
    clock.nowMs += 1169_000
    const enabled = await cli(['webhook', 'status'], { stdin: '' })
    // Whatever delivery to the closed port has done by now, the cursor has not moved.
    expect(enabled.stdout).toMatch(/^Status\t(active|inactive)\nEnabled\tyes\nMeaning\t(enabled|retrying|failing): /)
    expect(enabled.stdout).toMatch(/^Lag\t\d+ events, 19m29s behind$/m)
    expect(enabled.stdout).toMatch(/^Delivered\tsequence \d+ of \d+$/m)
    const json = JSON.parse((await cli(['webhook', 'status', '--json'])).stdout)
    expect(json.lag_seconds).toBe(1169)
    expect(json.lag_events).toBe(json.head_sequence - json.delivered_sequence)

    expect((await cli(['webhook', 'disable'])).exitCode).toBe(0)
    clock.nowMs += 2 * 86_400_000 + 3 * 3_600_000
    const paused = await cli(['webhook', 'status'], { tty: true, env: { NO_COLOR: '1' } })
    expect(paused.stdout).toMatch(/^Status: +(active|inactive)$/m)
    expect(paused.stdout).toMatch(/^Meaning: +disabled \(paused\): nothing is sent and the cursor is kept/m)
    expect(paused.stdout).toMatch(/^Lag: +\d+ events, 2d3h behind$/m)
    const colored = await cli(['webhook', 'status'], { tty: true })
    const esc = String.fromCharCode(27)
    expect(colored.stdout).toMatch(new RegExp(`${esc}\\[33m(active|inactive)${esc}\\[39m`))
  })
})

describe('authentication', () => {
  it('exits 4 on a rejected token for every webhook command', async () => {
    const bad = { KONNECT_AUDIT_TOKEN: `kat_${'A'.repeat(43)}` }
    for (const argv of [
      ['webhook', 'get'],
      ['webhook', 'status'],
      ['webhook', 'enable'],
      ['webhook', 'disable'],
      ['webhook', 'set', '--endpoint', ENDPOINT],
    ]) {
      const run = await cli(argv, { env: bad })
      expect(run.exitCode, argv.join(' ')).toBe(4)
      expect(run.stderr).toContain('HTTP 401')
    }
    const none = await runCli(['webhook', 'get'], {
      env: { KONNECT_AUDIT_SERVER: server.url, XDG_CONFIG_HOME: home.path('') },
    })
    expect(none.exitCode).toBe(4)
  })
})
