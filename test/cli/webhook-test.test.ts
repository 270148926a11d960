// Tests `webhook test` and `webhook set --test` (SPEC.md §5.5, §9.5) in-process against a real
// server and real loopback receivers: TTY, non-TTY and --json output, exit 0/1/2, a candidate that
// saves nothing, `set --test` saving only after a 2xx, the stored-Authorization rule, Konnect's 404,
// and the Authorization value never in any output.

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Receiver } from '../helpers/receiver.js'
import { answer, startReceiver } from '../helpers/receiver.js'
import { runCli } from '../helpers/run-cli.js'
import type { TestServer } from '../helpers/server.js'
import { jsonBody, jsonOf, startTestServer } from '../helpers/server.js'
import { eventsOfTrace } from '../helpers/stored-events.js'
import { tempDir } from '../helpers/temp-files.js'
import { UNCONFIGURED_WEBHOOK } from '../helpers/unconfigured-webhook.js'

const SECRET = 'Splunk 6c1e0f5a-webhook-test-secret'
const home = tempDir('ka-home-')

let server: TestServer
let env: Record<string, string>
let receiver: Receiver
const outputs: string[] = []

beforeAll(async () => {
  server = await startTestServer({ allowInsecureEndpoints: true })
  // Live delivery would post to the same receivers; only test attempts are looked at here.
  await server.delivery.stop()
  env = { KONNECT_AUDIT_SERVER: server.url, KONNECT_AUDIT_TOKEN: server.adminToken, XDG_CONFIG_HOME: home.path('') }
})
afterAll(async () => {
  // No run, whatever it printed, ever showed the Authorization value.
  expect(outputs.join('\n')).not.toContain(SECRET)
  await server.close()
})
beforeEach(async () => {
  expect((await server.request('/v3/audit-log-webhook', { method: 'DELETE' })).status).toBe(204)
  receiver = await startReceiver()
})
afterEach(() => receiver.close())

async function cli(argv: string[], options: { stdin?: string; tty?: boolean; env?: Record<string, string> } = {}) {
  const { env: extraEnv, ...rest } = options
  const run = await runCli(argv, { ...rest, env: { ...env, ...extraEnv } })
  outputs.push(run.stdout, run.stderr)
  return run
}

const getWebhook = async () => jsonOf(await server.request('/v2/audit-log-webhook'))

async function configure(fields: Record<string, unknown>): Promise<void> {
  const response = await server.request('/v2/audit-log-webhook', {
    method: 'PATCH',
    ...jsonBody({ endpoint: receiver.url, ...fields }),
  })
  expect(response.status).toBe(200)
}

/** The stored authorization event of the test request with this trace id. */
async function authorizationLineOf(traceId: string): Promise<string> {
  const events = await eventsOfTrace(server.store, server.services.defaultOrgId, traceId, 3)
  const [event] = events.filter((candidate) => candidate.fields.name === 'Authz.audit-log-webhook')
  expect(event?.fields).toMatchObject({ action: 'test', granted: true })
  return event?.line ?? ''
}

describe('webhook test', () => {
  it('tests the stored configuration, even disabled: fields without a TTY, exit 0', async () => {
    await configure({ log_format: 'json', authorization: SECRET, enabled: false })
    const run = await cli(['webhook', 'test'], { stdin: '' })
    expect(run.exitCode).toBe(0)
    expect(run.stderr).toBe('')
    expect(run.stdout).toMatch(
      new RegExp(
        `^Result\\tok\\nEndpoint\\t${receiver.url.replace(/[.?]/g, '\\$&')}\\nFormat\\tjson\\nResponse\\tHTTP 200 OK\\nLatency\\t\\d+ ms\\nTLS\\tnone \\(http\\)\\nTrace\\t\\d+\\n$`,
      ),
    )
    const traceId = /^Trace\t(\d+)$/m.exec(run.stdout)?.[1] ?? ''
    expect(receiver.requests).toHaveLength(1)
    expect(receiver.requests[0]?.headers).toMatchObject({ authorization: SECRET, 'konnect-audit-delivery': 'test' })
    expect(receiver.requests[0]?.lines).toEqual([await authorizationLineOf(traceId)])
    expect(await getWebhook()).toMatchObject({ enabled: false, log_format: 'json' })
  })

  it('prints aligned fields on a TTY and the API body unchanged with --json', async () => {
    await configure({ log_format: 'cps' })
    const tty = await cli(['webhook', 'test'], { tty: true, env: { NO_COLOR: '1' } })
    expect(tty.exitCode).toBe(0)
    expect(tty.stdout).toMatch(/^Result: +ok$/m)
    expect(tty.stdout).toMatch(/^Response: +HTTP 200 OK$/m)
    expect(tty.stdout).toMatch(/^Latency: +\d+ ms$/m)
    expect(tty.stdout).toMatch(/^TLS: +none \(http\)$/m)
    const colored = await cli(['webhook', 'test'], { tty: true })
    expect(colored.stdout).toContain(`${String.fromCharCode(27)}[32mok`)
    const json = await cli(['webhook', 'test', '--json'])
    expect(json.exitCode).toBe(0)
    const body = JSON.parse(json.stdout)
    expect(body).toEqual({
      ok: true,
      endpoint: receiver.url,
      log_format: 'cps',
      trace_id: expect.stringMatching(/^\d+$/),
      response_code: 200,
      response_message: 'OK',
      latency_ms: expect.any(Number),
      tls: null,
      error: null,
    })
    expect(receiver.requests.at(-1)?.lines).toEqual([`{"event":${await authorizationLineOf(body.trace_id)}}`])
  })

  it('exits 1 when the receiver refuses, printing the outcome as data and the reason on stderr', async () => {
    await configure({})
    receiver.answerWith({ kind: 'status', status: 401 })
    const run = await cli(['webhook', 'test'], { stdin: '' })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(/^Result\tfailed$/m)
    expect(run.stdout).toMatch(/^Response\tHTTP 401 Unauthorized$/m)
    expect(run.stderr).toBe(`Error: the test delivery to ${receiver.url} failed: HTTP 401 Unauthorized\n`)
    const json = await cli(['webhook', 'test', '--json'])
    expect(json.exitCode).toBe(1)
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, response_code: 401, error: null })
  })

  it('tests a candidate from flags (Authorization from stdin) and saves nothing', async () => {
    const run = await cli(
      ['webhook', 'test', '--endpoint', receiver.url, '--format', 'json', '--auth-header-stdin', '--skip-tls-verify'],
      { stdin: `${SECRET}\n` },
    )
    expect(run.exitCode).toBe(0)
    expect(run.stderr).toMatch(/^Warning: the TLS certificate of .+ will not be verified/)
    expect(run.stdout).toMatch(/^Format\tjson$/m)
    expect(receiver.requests[0]?.headers.authorization).toBe(SECRET)
    expect(await getWebhook()).toEqual(UNCONFIGURED_WEBHOOK)
  })

  it('reports a refused address and a closed port with their reasons (exit 1)', async () => {
    const refused = await cli(['webhook', 'test', '--endpoint', 'http://169.254.169.254/latest'], { stdin: '' })
    expect(refused.exitCode).toBe(1)
    expect(refused.stdout).toMatch(/^Response\taddress 169\.254\.169\.254 is not allowed$/m)
    expect(refused.stderr).toMatch(/failed: address 169\.254\.169\.254 is not allowed\n$/)
    const closed = await cli(['webhook', 'test', '--endpoint', 'http://127.0.0.1:9/in', '--json'])
    expect(closed.exitCode).toBe(1)
    expect(JSON.parse(closed.stdout)).toMatchObject({ ok: false, response_code: 0, error: expect.any(String) })
  })

  it('exits 2 for candidate flags without --endpoint, and 1 with the 400 when nothing is configured', async () => {
    for (const flags of [['--format', 'json'], ['--skip-tls-verify'], ['--auth-header-stdin']]) {
      const run = await cli(['webhook', 'test', ...flags], { stdin: SECRET })
      expect(run.exitCode, flags.join(' ')).toBe(2)
      expect(run.stderr).toMatch(/describe a candidate: give --endpoint URL too/)
    }
    const unconfigured = await cli(['webhook', 'test'], { stdin: '' })
    expect(unconfigured.exitCode).toBe(1)
    expect(unconfigured.stderr).toMatch(
      /^Error: The audit log webhook is not configured: give a candidate endpoint to test \(HTTP 400 Bad Request, trace kong:trace:\d+\)\n {2}endpoint: cannot be blank\n$/,
    )
    expect(receiver.requests).toHaveLength(0)
  })

  it('says "not supported by this server" where the route is missing (Konnect), exit 1', async () => {
    const konnect = await startReceiver()
    konnect.answerWith(answer(404))
    try {
      const run = await cli(['webhook', 'test'], { env: { KONNECT_AUDIT_SERVER: `http://127.0.0.1:${konnect.port}` } })
      expect(run.exitCode).toBe(1)
      expect(run.stderr).toMatch(/^Error: not supported by this server: it has no POST \/v2\/audit-log-webhook\/test/)
      expect(konnect.requests[0]?.url).toBe('/v2/audit-log-webhook/test')
    } finally {
      await konnect.close()
    }
  })

  it('exits 4 on a rejected token', async () => {
    const run = await cli(['webhook', 'test'], { env: { KONNECT_AUDIT_TOKEN: `kat_${'A'.repeat(43)}` } })
    expect(run.exitCode).toBe(4)
  })
})

describe('webhook set --test', () => {
  it('tests the new configuration first and saves it only after a 2xx', async () => {
    const run = await cli(
      ['webhook', 'set', '--endpoint', receiver.url, '--format', 'json', '--auth-header-stdin', '--enable', '--test'],
      { stdin: SECRET },
    )
    expect(run.exitCode).toBe(0)
    expect(run.stderr).toMatch(/^Test delivery to .+: HTTP 200 OK in \d+ ms; saving$/m)
    expect(run.stdout).toMatch(/^Enabled\tyes$/m)
    expect(receiver.requests).toHaveLength(1)
    expect(receiver.requests[0]?.headers.authorization).toBe(SECRET)
    expect(receiver.requests[0]?.lines[0]).toMatch(/^\{"action":"test",/)
    expect(await getWebhook()).toMatchObject({
      endpoint: receiver.url,
      enabled: true,
      log_format: 'json',
      authorization_configured: true,
    })
  })

  it('saves nothing when the test fails (exit 1), showing the outcome; --json shows the test body', async () => {
    await configure({ log_format: 'json' })
    const before = await getWebhook()
    const other = await startReceiver()
    other.answerWith({ kind: 'status', status: 401 })
    try {
      const run = await cli(['webhook', 'set', '--endpoint', other.url, '--format', 'cef', '--test'], { stdin: '' })
      expect(run.exitCode).toBe(1)
      expect(run.stdout).toMatch(/^Result\tfailed$/m)
      expect(run.stderr).toBe(
        `Error: the test delivery to ${other.url} failed: HTTP 401 Unauthorized, so nothing was saved\n`,
      )
      // The candidate was the current configuration with the given fields applied.
      expect(other.requests[0]?.lines[0]).toContain('CEF:0|KongInc|Konnect|1.0|konnect-audit|Authz.audit-log-webhook|')
      const json = await cli(['webhook', 'set', '--endpoint', other.url, '--test', '--json'])
      expect(json.exitCode).toBe(1)
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, endpoint: other.url, log_format: 'json' })
      expect(await getWebhook()).toEqual(before)
    } finally {
      await other.close()
    }
  })

  it('needs --auth-header-stdin or --clear-auth-header while an Authorization is stored (exit 2)', async () => {
    await configure({ log_format: 'json', authorization: SECRET })
    const before = await getWebhook()
    const refused = await cli(['webhook', 'set', '--format', 'cps', '--test'])
    expect(refused.exitCode).toBe(2)
    expect(refused.stderr).toMatch(/^Error: --test needs --auth-header-stdin or --clear-auth-header/)
    expect(receiver.requests).toHaveLength(0)
    expect(await getWebhook()).toEqual(before)

    const cleared = await cli(['webhook', 'set', '--format', 'cps', '--clear-auth-header', '--test', '--json'])
    expect(cleared.exitCode).toBe(0)
    expect(cleared.stderr).toBe('')
    expect(JSON.parse(cleared.stdout)).toEqual(await getWebhook())
    expect(receiver.requests[0]?.headers).not.toHaveProperty('authorization')
    expect(receiver.requests[0]?.lines[0]).toMatch(/^\{"event":\{"action":"test",/)
    expect(await getWebhook()).toMatchObject({ log_format: 'cps', authorization_configured: false })

    await configure({ authorization: SECRET })
    const replaced = await cli(['webhook', 'set', '--auth-header-stdin', '--test', '-q'], { stdin: 'Bearer new' })
    expect(replaced.exitCode).toBe(0)
    expect(replaced.stderr).toBe('')
    expect(receiver.requests[1]?.headers.authorization).toBe('Bearer new')
    expect(receiver.requests[1]?.lines[0]).toMatch(/^\{"event":/)
  })

  it('in destination mode tests the stored destination before enabling; refuses --test with --destination', async () => {
    const created = await server.request('/v3/audit-log-destinations', {
      method: 'POST',
      ...jsonBody({ name: 'set-test-dest', endpoint: receiver.url, log_format: 'json', authorization: SECRET }),
    })
    const { id } = await jsonOf(created)
    const both = await cli(['webhook', 'set', '--destination', id, '--test'])
    expect(both.exitCode).toBe(2)
    expect(both.stderr).toMatch(/--test cannot be combined with --destination/)
    expect((await cli(['webhook', 'set', '--destination', id])).exitCode).toBe(0)
    const enable = await cli(['webhook', 'set', '--enable', '--test'], { stdin: '' })
    expect(enable.exitCode).toBe(0)
    expect(receiver.requests[0]?.headers.authorization).toBe(SECRET)
    expect(await getWebhook()).toMatchObject({ audit_log_destination_id: id, enabled: true })
    await server.request('/v3/audit-log-webhook', { method: 'DELETE' })
    expect((await server.request(`/v3/audit-log-destinations/${id}`, { method: 'DELETE' })).status).toBe(204)
  })
})
