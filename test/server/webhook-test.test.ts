// Tests POST /v2/audit-log-webhook/test (SPEC.md §5.5) end to end against real loopback receivers:
// the one line sent is the test request's own stored authorization event (same trace id as the
// response and its header), verified with the JWKS in json, cef and cps; a candidate saves nothing;
// the stored configuration is tested even when disabled; 400s; 401 and refused answers reported as
// outcomes; TLS details over https (skipped and failed verification). Nothing connects off loopback.

import { createServer } from 'node:net'
import nacl from 'tweetnacl'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { extractSigned } from '../../src/core/extract.js'
import { VERSION } from '../../src/util/version.js'
import { selfSignedCertificate } from '../helpers/certificate.js'
import type { Receiver } from '../helpers/receiver.js'
import { answer, startReceiver } from '../helpers/receiver.js'
import type { TestServer } from '../helpers/server.js'
import { jsonBody, jsonOf, startTestServer } from '../helpers/server.js'
import type { EventView } from '../helpers/stored-events.js'
import { eventsOfTrace } from '../helpers/stored-events.js'

const AUTHORIZATION = 'Splunk 6c1e0f5a-test-secret'
const TEST_PATH = '/v2/audit-log-webhook/test'

let server: TestServer
let orgId: string
let receiver: Receiver
const receivers: Receiver[] = []

beforeAll(async () => {
  server = await startTestServer({ allowInsecureEndpoints: true })
  orgId = server.services.defaultOrgId
  // Live delivery would post to the same receivers; these tests look only at the test attempt.
  await server.delivery.stop()
})
afterAll(async () => {
  await Promise.all(receivers.map((started) => started.close()))
  await server.close()
})
beforeEach(async () => {
  expect((await server.request('/v3/audit-log-webhook', { method: 'DELETE' })).status).toBe(204)
  receiver = await receive()
})
afterEach(() => receiver.close())

async function receive(options: Parameters<typeof startReceiver>[0] = {}): Promise<Receiver> {
  const started = await startReceiver(options)
  receivers.push(started)
  return started
}

const traceOf = (response: Response) => response.headers.get('konnect-audit-trace-id') ?? ''

/** POST …/test with a candidate, or with no body at all. */
async function testWebhook(candidate?: unknown, on: TestServer = server): Promise<Response> {
  return on.request(TEST_PATH, { method: 'POST', ...(candidate === undefined ? {} : jsonBody(candidate)) })
}

/** The stored authorization event of a request (committed before its handler ran). */
async function authorizationEventOf(traceId: string, on: TestServer = server): Promise<EventView> {
  const events = await eventsOfTrace(on.store, on.services.defaultOrgId, traceId, 3)
  const authorization = events.filter((event) => event.fields.name === 'Authz.audit-log-webhook')
  expect(authorization).toHaveLength(1)
  return authorization[0] as EventView
}

/** Verifies a line with every key of the org's published JWKS, independently of our verifier (tweetnacl). */
async function verifiesWithJwks(line: string): Promise<boolean> {
  const jwks = (await jsonOf(await server.request('/v2/audit-log-webhook/jwks.json'))) as { keys: Array<{ x: string }> }
  const extraction = extractSigned(Buffer.from(line, 'utf8'))
  if (extraction.kind !== 'signed') return false
  return jwks.keys.some((key) =>
    nacl.sign.detached.verify(
      extraction.message,
      extraction.signature,
      new Uint8Array(Buffer.from(key.x, 'base64url')),
    ),
  )
}

async function getWebhook() {
  return jsonOf(await server.request('/v2/audit-log-webhook'))
}

/** The delivery state the status reports, without the head and lag, which this test's own events move. */
async function deliveryState() {
  const { head_sequence, lag_events, lag_seconds, ...state } = await jsonOf(
    await server.request('/v2/audit-log-webhook/status'),
  )
  return state
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const address = probe.address()
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

describe('a candidate endpoint', () => {
  it('gets one gzip line, the stored authorization event of this very request, and nothing is saved', async () => {
    const before = await getWebhook()
    const response = await testWebhook({ endpoint: receiver.url, authorization: AUTHORIZATION, log_format: 'json' })
    expect(response.status).toBe(200)
    const traceId = traceOf(response)
    const body = await jsonOf(response)
    expect(body).toEqual({
      ok: true,
      endpoint: receiver.url,
      log_format: 'json',
      trace_id: traceId,
      response_code: 200,
      response_message: 'OK',
      latency_ms: expect.any(Number),
      tls: null,
      error: null,
    })
    expect(Number.isInteger(body.latency_ms)).toBe(true)

    expect(receiver.requests).toHaveLength(1)
    const [received] = receiver.requests
    expect(received?.method).toBe('POST')
    expect(received?.url).toBe('/hook?source=konnect')
    expect(received?.headers).toMatchObject({
      'content-type': 'text/plain; charset=utf-8',
      'content-encoding': 'gzip',
      authorization: AUTHORIZATION,
      'user-agent': `konnect-audit/${VERSION}`,
      'konnect-audit-org-id': orgId,
      'konnect-audit-delivery': 'test',
    })
    expect(received?.headers).not.toHaveProperty('konnect-audit-sequence-range')
    expect(received?.text.endsWith('\n')).toBe(true)

    const stored = await authorizationEventOf(traceId)
    expect(stored.fields).toMatchObject({
      event_class_id: 'konnect-audit',
      name: 'Authz.audit-log-webhook',
      action: 'test',
      granted: true,
    })
    expect(stored.traceId).toBe(traceId)
    expect(received?.lines).toEqual([stored.line])
    expect(await verifiesWithJwks(stored.line)).toBe(true)

    expect(await getWebhook()).toEqual(before)
    expect(await deliveryState()).toMatchObject({ webhook_status: 'unconfigured', delivered_sequence: 0 })
  })

  it.each(['json', 'cef', 'cps'] as const)('sends the %s rendering, which verifies with the JWKS', async (format) => {
    const response = await testWebhook({ endpoint: receiver.url, log_format: format })
    const body = await jsonOf(response)
    expect(body).toMatchObject({ ok: true, log_format: format })
    const stored = await authorizationEventOf(body.trace_id)
    const [line = ''] = (await receiver.request(0)).lines
    expect(receiver.requests[0]?.lines).toHaveLength(1)
    expect(await verifiesWithJwks(line)).toBe(true)
    if (format === 'json') expect(line).toBe(stored.line)
    if (format === 'cps') expect(line).toBe(`{"event":${stored.line}}`)
    if (format === 'cef') {
      expect(line).toMatch(
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ konghq\.com CEF:0\|KongInc\|Konnect\|1\.0\|konnect-audit\|/,
      )
      expect(line).toContain('|Authz.audit-log-webhook|1|')
      expect(line).toContain(` action=test granted=true org_id=${orgId} `)
      expect(line).toContain(` trace_id=${body.trace_id} `)
    }
  })

  it('defaults to cef, no Authorization and verified TLS', async () => {
    const body = await jsonOf(await testWebhook({ endpoint: receiver.url }))
    expect(body).toMatchObject({ ok: true, log_format: 'cef' })
    expect(receiver.requests[0]?.headers).not.toHaveProperty('authorization')
    expect(receiver.requests[0]?.lines[0]).toContain('CEF:0|KongInc|')
  })

  it('is tested, not saved, even while another configuration is stored', async () => {
    const patch = await server.request('/v2/audit-log-webhook', {
      method: 'PATCH',
      ...jsonBody({ endpoint: 'http://127.0.0.1:9/stored', log_format: 'cps', authorization: AUTHORIZATION }),
    })
    expect(patch.status).toBe(200)
    const before = await getWebhook()
    const stateBefore = await deliveryState()
    const body = await jsonOf(await testWebhook({ endpoint: receiver.url, log_format: 'json' }))
    expect(body).toMatchObject({ ok: true, endpoint: receiver.url, log_format: 'json' })
    // A candidate never borrows the stored authorization.
    expect(receiver.requests[0]?.headers).not.toHaveProperty('authorization')
    expect(await getWebhook()).toEqual(before)
    expect(await deliveryState()).toEqual(stateBefore)
  })

  it('reports a 401 as the outcome (ok false, HTTP 200 from our API)', async () => {
    receiver.script({ kind: 'status', status: 401, body: 'bad token' })
    const response = await testWebhook({ endpoint: receiver.url, authorization: 'Bearer wrong' })
    expect(response.status).toBe(200)
    expect(await jsonOf(response)).toMatchObject({
      ok: false,
      response_code: 401,
      response_message: 'Unauthorized',
      tls: null,
      error: null,
    })
    expect(receiver.requests).toHaveLength(1)
  })

  it('makes exactly one attempt: a 503 is not retried', async () => {
    receiver.script(answer(503, { 'retry-after': '1' }))
    const body = await jsonOf(await testWebhook({ endpoint: receiver.url }))
    expect(body).toMatchObject({ ok: false, response_code: 503, response_message: 'Service Unavailable' })
    expect(receiver.requests).toHaveLength(1)
  })

  it('reports a refused address and a refused connection with code 0 and an error', async () => {
    const metadata = await testWebhook({ endpoint: 'http://169.254.169.254/latest/meta-data' })
    expect(metadata.status).toBe(200)
    expect(await jsonOf(metadata)).toMatchObject({
      ok: false,
      endpoint: 'http://169.254.169.254/latest/meta-data',
      response_code: 0,
      latency_ms: 0,
      tls: null,
      error: 'address 169.254.169.254 is not allowed',
    })
    const closed = await jsonOf(await testWebhook({ endpoint: `http://127.0.0.1:${await closedPort()}/in` }))
    expect(closed).toMatchObject({ ok: false, response_code: 0, tls: null })
    expect(closed.error).toMatch(/^connection error: .*ECONNREFUSED/)
    expect(closed.response_message).toBe(closed.error)
  })

  it('answers 400 for a candidate PATCH would refuse, and sends nothing', async () => {
    const cases: Array<[unknown, string, string]> = [
      [{ endpoint: 'not a url' }, 'endpoint', 'must be a valid URL'],
      [{ endpoint: 'ftp://siem.example.com/in' }, 'endpoint', 'must use https'],
      [{ endpoint: 'https://user:pw@siem.example.com/in' }, 'endpoint', 'must not contain credentials'],
      [{ endpoint: '' }, 'endpoint', 'cannot be blank'],
      [{ endpoint: receiver.url, authorization: ' ' }, 'authorization', 'cannot be blank'],
      [{ endpoint: receiver.url, log_format: 'xml' }, 'log_format', expect.any(String)],
      [{ endpoint: receiver.url, extra: 1 }, 'extra', expect.any(String)],
    ]
    for (const [candidate, field, reason] of cases) {
      const response = await testWebhook(candidate)
      expect(response.status, JSON.stringify(candidate)).toBe(400)
      const problem = await jsonOf(response)
      expect(problem.instance).toBe(`kong:trace:${traceOf(response)}`)
      expect(problem.invalid_parameters).toContainEqual(expect.objectContaining({ field, reason }))
    }
    expect(receiver.requests).toHaveLength(0)
  })
})

describe('the stored configuration', () => {
  async function configure(fields: Record<string, unknown>): Promise<void> {
    const body = { endpoint: receiver.url, authorization: AUTHORIZATION, ...fields }
    expect((await server.request('/v2/audit-log-webhook', { method: 'PATCH', ...jsonBody(body) })).status).toBe(200)
  }

  it('is tested without a body, even while disabled, with its stored Authorization; status is untouched', async () => {
    await configure({ log_format: 'cps', enabled: false })
    const stateBefore = await deliveryState()
    const response = await testWebhook()
    expect(response.status).toBe(200)
    const body = await jsonOf(response)
    expect(body).toMatchObject({ ok: true, endpoint: receiver.url, log_format: 'cps', trace_id: traceOf(response) })
    expect(receiver.requests[0]?.headers.authorization).toBe(AUTHORIZATION)
    const stored = await authorizationEventOf(body.trace_id)
    expect(receiver.requests[0]?.lines).toEqual([`{"event":${stored.line}}`])
    expect(await getWebhook()).toMatchObject({ enabled: false, log_format: 'cps' })
    const stateAfter = await deliveryState()
    expect(stateAfter).not.toHaveProperty('last_attempt_at')
    expect(stateAfter).toEqual(stateBefore)
  })

  it('is tested with an empty JSON object too', async () => {
    await configure({ log_format: 'json', enabled: true })
    const body = await jsonOf(await testWebhook({}))
    expect(body).toMatchObject({ ok: true, log_format: 'json' })
    expect(receiver.requests[0]?.lines).toEqual([(await authorizationEventOf(body.trace_id)).line])
  })

  it("uses a referenced destination's settings", async () => {
    const created = await server.request('/v3/audit-log-destinations', {
      method: 'POST',
      ...jsonBody({ name: 'webhook-test-dest', endpoint: receiver.url, log_format: 'json', authorization: 'Dest abc' }),
    })
    expect(created.status).toBe(201)
    const { id } = await jsonOf(created)
    const reference = await server.request('/v3/audit-log-webhook', {
      method: 'PATCH',
      ...jsonBody({ audit_log_destination_id: id }),
    })
    expect(reference.status).toBe(200)
    const body = await jsonOf(await testWebhook())
    expect(body).toMatchObject({ ok: true, endpoint: receiver.url, log_format: 'json' })
    expect(receiver.requests[0]?.headers.authorization).toBe('Dest abc')
    await server.request('/v3/audit-log-webhook', { method: 'DELETE' })
    expect((await server.request(`/v3/audit-log-destinations/${id}`, { method: 'DELETE' })).status).toBe(204)
  })

  it('answers 400 when there is neither a candidate nor a stored configuration', async () => {
    for (const candidate of [undefined, {}, null]) {
      const response = await testWebhook(candidate)
      expect(response.status).toBe(400)
      const problem = await jsonOf(response)
      expect(problem.detail).toBe('The audit log webhook is not configured: give a candidate endpoint to test')
      expect(problem.invalid_parameters).toEqual([
        { field: 'endpoint', rule: 'required', reason: 'cannot be blank', source: 'body' },
      ])
    }
    expect(receiver.requests).toHaveLength(0)
  })

  it('answers 400 to candidate fields without an endpoint, rather than ignoring them', async () => {
    await configure({ log_format: 'json' })
    const response = await testWebhook({ log_format: 'cef', skip_ssl_verification: true })
    expect(response.status).toBe(400)
    const problem = await jsonOf(response)
    expect(problem.invalid_parameters).toEqual([
      expect.objectContaining({
        field: 'endpoint',
        rule: 'required',
        reason: expect.stringMatching(/^is required with log_format, skip_ssl_verification/),
      }),
    ])
    expect(receiver.requests).toHaveLength(0)
  })
})

describe('TLS', () => {
  let tlsReceiver: Receiver

  beforeAll(async () => {
    const { cert, key } = selfSignedCertificate('/O=Receiver Org/CN=siem.test', 'IP:127.0.0.1')
    tlsReceiver = await receive({ tls: { cert, key } })
  })

  const certificate = {
    subject: 'CN=siem.test,O=Receiver Org',
    issuer: 'CN=siem.test,O=Receiver Org',
    not_after: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/),
  }

  it('reports the handshake and certificate when verification is skipped', async () => {
    const before = tlsReceiver.requests.length
    const body = await jsonOf(await testWebhook({ endpoint: tlsReceiver.url, skip_ssl_verification: true }))
    expect(body).toMatchObject({
      ok: true,
      response_code: 200,
      tls: {
        protocol: 'TLSv1.3',
        verified: false,
        skipped: true,
        error: 'certificate not verified (DEPTH_ZERO_SELF_SIGNED_CERT)',
        certificate,
      },
      error: null,
    })
    expect(tlsReceiver.requests).toHaveLength(before + 1)
    expect(await verifiesWithJwks(tlsReceiver.requests.at(-1)?.lines[0] ?? '')).toBe(true)
  })

  it('fails a verified attempt on an untrusted certificate before sending anything, saying why', async () => {
    const before = tlsReceiver.requests.length
    const response = await testWebhook({ endpoint: tlsReceiver.url })
    expect(response.status).toBe(200)
    expect(await jsonOf(response)).toMatchObject({
      ok: false,
      response_code: 0,
      tls: {
        protocol: 'TLSv1.3',
        verified: false,
        skipped: false,
        error: 'certificate not verified (DEPTH_ZERO_SELF_SIGNED_CERT)',
        certificate,
      },
      error: 'TLS error: certificate not verified (DEPTH_ZERO_SELF_SIGNED_CERT)',
    })
    expect(tlsReceiver.requests).toHaveLength(before)
  })
})

describe('without --allow-insecure-endpoints', () => {
  let strict: TestServer

  beforeAll(async () => {
    strict = await startTestServer()
    await strict.delivery.stop()
  })
  afterAll(() => strict.close())

  it('refuses http as PATCH does (400), and a loopback https candidate at attempt time (code 0)', async () => {
    const http = await testWebhook({ endpoint: receiver.url }, strict)
    expect(http.status).toBe(400)
    expect((await jsonOf(http)).invalid_parameters).toEqual([
      { field: 'endpoint', rule: 'invalid', reason: 'must use https', source: 'body' },
    ])
    const loopback = await testWebhook({ endpoint: `https://127.0.0.1:${receiver.port}/in` }, strict)
    expect(loopback.status).toBe(200)
    expect(await jsonOf(loopback)).toMatchObject({
      ok: false,
      response_code: 0,
      tls: null,
      error: 'address 127.0.0.1 is not allowed',
    })
    expect(receiver.requests).toHaveLength(0)
  })

  it('is admin only: an auditor gets 403 with a denied authorization event, and nothing is sent', async () => {
    const created = await jsonOf(
      await strict.request('/v1/tokens', { method: 'POST', ...jsonBody({ name: 'auditor', role: 'auditor' }) }),
    )
    const response = await strict.request(TEST_PATH, { method: 'POST', token: created.token })
    expect(response.status).toBe(403)
    const stored = await authorizationEventOf(traceOf(response), strict)
    expect(stored.fields).toMatchObject({ action: 'test', granted: false })
  })
})
