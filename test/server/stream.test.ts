import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http'
import { request as httpRequest } from 'node:http'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { renderCefLine } from '../../src/core/cef.js'
import type { EventType } from '../../src/core/events.js'
import { readJwks } from '../../src/core/jwks.js'
import { eventOfStoredLine } from '../../src/core/stored-line.js'
import { LineVerifier } from '../../src/core/verify.js'
import type { UncommittedEvent } from '../../src/server/services/event-draft.js'
import { draftOf } from '../../src/server/services/event-draft.js'
import { DEFAULT_STREAM_TIMING, liveStreamsOf, MAX_STREAMS_PER_ORG } from '../../src/server/services/live-stream.js'
import { gapFrame } from '../../src/server/services/stream-frames.js'
import { pruningGap } from '../../src/server/services/stream-start.js'
import type { StoredEvent } from '../../src/store/store.js'
import { gatewayAccessEvent } from '../helpers/events.js'
import type { TestServer } from '../helpers/server.js'
import { jsonBody, jsonOf, startTestServer } from '../helpers/server.js'

/** One parsed SSE frame; `data` keeps its raw bytes. */
interface SseFrame {
  readonly id?: string
  readonly event?: string
  readonly data?: Buffer
  readonly retry?: string
  readonly comment?: string
}

const FRAME_END = Buffer.from('\n\n')

function parseFrame(block: Buffer): SseFrame {
  const frame: Record<string, string | Buffer> = {}
  let start = 0
  while (start <= block.length) {
    const newline = block.indexOf(0x0a, start)
    const line = block.subarray(start, newline < 0 ? block.length : newline)
    start = newline < 0 ? block.length + 1 : newline + 1
    const colon = line.indexOf(0x3a)
    const field = colon === 0 ? 'comment' : line.subarray(0, colon).toString('utf8')
    const value = line.subarray(line[colon + 1] === 0x20 ? colon + 2 : colon + 1)
    frame[field] = field === 'data' ? value : value.toString('utf8')
  }
  return frame as SseFrame
}

/** A minimal EventSource over node:http: raw bytes in, complete frames out. */
class SseClient {
  readonly frames: SseFrame[] = []
  readonly chunks: Buffer[] = []
  readonly ended: Promise<void>
  private pending = Buffer.alloc(0)
  private closed = false
  private readonly listeners = new Set<() => void>()

  constructor(
    private readonly request: ClientRequest,
    readonly response: IncomingMessage,
  ) {
    response.on('data', (chunk: Buffer) => this.take(chunk))
    // A server-side cut ends the body early; that is a close, not a test failure.
    response.on('error', () => undefined)
    this.ended = new Promise((resolve) =>
      response.on('close', () => {
        this.closed = true
        for (const listener of this.listeners) listener()
        resolve()
      }),
    )
  }

  get status(): number {
    return this.response.statusCode ?? 0
  }

  get headers(): IncomingHttpHeaders {
    return this.response.headers
  }

  get body(): Buffer {
    return Buffer.concat(this.chunks)
  }

  audits(): SseFrame[] {
    return this.frames.filter((frame) => frame.event === 'audit')
  }

  auditIds(): number[] {
    return this.audits().map((frame) => Number(frame.id))
  }

  /** Resolves once `predicate` holds; rejects if the stream closes first or after `timeoutMs`. */
  until(predicate: (client: SseClient) => boolean, timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (predicate(this)) finish(null)
        else if (this.closed) finish(new Error(`stream closed; audit ids so far: ${this.auditIds().join(',')}`))
      }
      const timer = setTimeout(
        () => finish(new Error(`timed out; audit ids so far: ${this.auditIds().join(',')}`)),
        timeoutMs,
      )
      const finish = (error: Error | null) => {
        clearTimeout(timer)
        this.listeners.delete(check)
        if (error) reject(error)
        else resolve()
      }
      this.listeners.add(check)
      check()
    })
  }

  close(): void {
    this.request.destroy()
  }

  private take(chunk: Buffer): void {
    this.chunks.push(chunk)
    this.pending = Buffer.concat([this.pending, chunk])
    for (let end = this.pending.indexOf(FRAME_END); end >= 0; end = this.pending.indexOf(FRAME_END)) {
      this.frames.push(parseFrame(this.pending.subarray(0, end)))
      this.pending = this.pending.subarray(end + FRAME_END.length)
    }
    for (const listener of this.listeners) listener()
  }
}

let server: TestServer
let orgId: string
const clients: SseClient[] = []

interface OpenOptions {
  readonly token?: string
  readonly headers?: Record<string, string>
  /** Stop reading at once, like a client that never reads. */
  readonly paused?: boolean
}

function openStream(query = '', options: OpenOptions = {}): Promise<SseClient> {
  const { token = server.adminToken, headers = {}, paused = false } = options
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${server.url}/v3/audit-logs/stream${query}`, {
      headers: { authorization: `Bearer ${token}`, ...headers },
    })
    request.on('response', (response) => {
      const client = new SseClient(request, response)
      if (paused) response.pause()
      clients.push(client)
      resolve(client)
    })
    request.on('error', reject)
    request.end()
  })
}

const streams = () => liveStreamsOf(server.services)
const headSequence = () => server.store.headSequence(orgId)

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

function readStored(
  afterSequence: number,
  throughSequence: number,
  filters: { type?: EventType; tsGte?: number } = {},
) {
  return server.store.readEvents({ orgId, afterSequence, throughSequence, limit: 100_000, ...filters })
}

function accessEvent(overrides: Parameters<typeof gatewayAccessEvent>[0] = {}): UncommittedEvent {
  const { rt: _rt, ...event } = gatewayAccessEvent({ org_id: orgId, ...overrides })
  return event
}

/** Commits events straight to the store, announcing them only when asked (as a commit path should). */
async function commit(events: readonly UncommittedEvent[], announce = true): Promise<number[]> {
  const signer = await server.services.signers.signerFor(orgId)
  const committed = await server.store.appendEvents(
    orgId,
    Date.now(),
    events.map((event) => draftOf(event, signer)),
  )
  const sequences = committed.map((event) => event.sequence)
  if (announce) server.services.bus.announce(orgId, sequences.at(-1) ?? 0)
  return sequences
}

const range = (first: number, last: number) => Array.from({ length: last - first + 1 }, (_, i) => first + i)

function expectFramesCarry(frames: readonly SseFrame[], stored: readonly StoredEvent[]): void {
  expect(frames.map((frame) => Number(frame.id))).toEqual(stored.map((event) => event.sequence))
  frames.forEach((frame, i) => {
    expect(frame.data?.equals((stored[i] as StoredEvent).line)).toBe(true)
  })
}

async function verifierFor(token = server.adminToken): Promise<LineVerifier> {
  const response = await server.request('/v2/audit-log-webhook/jwks.json', { token })
  return new LineVerifier(readJwks(await response.text()).keys)
}

async function tokenFor(role: 'auditor' | 'ingest'): Promise<string> {
  const response = await server.request('/v1/tokens', { method: 'POST', ...jsonBody({ name: `stream-${role}`, role }) })
  return ((await jsonOf(response)) as { token: string }).token
}

beforeAll(async () => {
  server = await startTestServer()
  orgId = server.services.defaultOrgId
})

beforeEach(() => streams().configure(DEFAULT_STREAM_TIMING))

afterEach(async () => {
  for (const client of clients.splice(0)) client.close()
  await waitFor(() => streams().countFor(orgId) === 0)
})

afterAll(async () => {
  // An open stream must not hold up shutdown: the server's preClose hook ends it.
  await openStream()
  await server.close()
})

describe('GET /v3/audit-logs/stream: frames', () => {
  it('sends the SSE headers, retry first, then the stored JSON lines byte for byte with their sequences', async () => {
    await commit([accessEvent(), accessEvent({ user_agent: 'é|=\\ "quoted"' })])
    const client = await openStream('?last_event_id=0')
    expect(client.status).toBe(200)
    expect(client.headers).toMatchObject({
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    })
    expect(client.headers['konnect-audit-trace-id']).toMatch(/^\d+$/)
    const head = await headSequence()
    await client.until((c) => c.auditIds().includes(head))
    const stored = await readStored(0, head)
    expectFramesCarry(client.audits().slice(0, stored.length), stored)
    const first = stored[0] as StoredEvent
    const opening = Buffer.concat([Buffer.from('retry: 2000\n\nid: 1\nevent: audit\ndata: '), first.line, FRAME_END])
    expect(client.body.subarray(0, opening.length).equals(opening)).toBe(true)
  })

  it('wraps CPS lines around the stored bytes and verifies them with the server JWKS', async () => {
    const client = await openStream('?format=cps&last_event_id=0')
    const head = await headSequence()
    await client.until((c) => c.auditIds().includes(head))
    const stored = await readStored(0, head)
    const verifier = await verifierFor()
    client
      .audits()
      .slice(0, stored.length)
      .forEach((frame, i) => {
        const line = (stored[i] as StoredEvent).line
        expect(frame.data?.equals(Buffer.concat([Buffer.from('{"event":'), line, Buffer.from('}')]))).toBe(true)
        expect(verifier.verify(frame.data ?? Buffer.alloc(0))).toMatchObject({ status: 'valid', format: 'cps' })
      })
  })

  it('renders CEF from the stored lines, signed with the key active at render time', async () => {
    const before = await openStream('?format=cef&last_event_id=0')
    const head = await headSequence()
    await before.until((c) => c.auditIds().includes(head))
    const signer = await server.services.signers.signerFor(orgId)
    const stored = await readStored(0, head)
    before
      .audits()
      .slice(0, stored.length)
      .forEach((frame, i) => {
        const expected = renderCefLine(eventOfStoredLine((stored[i] as StoredEvent).line), signer)
        expect(frame.data?.toString('utf8')).toBe(expected)
      })

    const rotated = await server.request('/v1/keys/rotate', { method: 'POST' })
    const { kid } = (await jsonOf(rotated)) as { kid: string }
    const after = await openStream('?format=cef&last_event_id=0')
    const newHead = await headSequence()
    await after.until((c) => c.auditIds().includes(newHead))
    const verifier = await verifierFor()
    for (const frame of after.audits()) {
      const verdict = verifier.verify(frame.data ?? Buffer.alloc(0))
      expect(verdict).toMatchObject({ status: 'valid', format: 'cef' })
      expect(verifier.keys[verdict.keyIndex]?.kid).toBe(kid)
    }
  })

  it('sends a keep-alive comment at the heartbeat interval', async () => {
    streams().configure({ heartbeatMs: 30 })
    const client = await openStream()
    await client.until((c) => c.frames.some((frame) => frame.comment === 'keep-alive'))
    expect(client.body.includes(Buffer.from('\n\n: keep-alive\n\n'))).toBe(true)
  })
})

describe('GET /v3/audit-logs/stream: live delivery', () => {
  it('sends only events committed after connecting, woken by the bus', async () => {
    streams().configure({ pollMs: 60_000 })
    const client = await openStream()
    const sequences = await commit([accessEvent(), accessEvent()])
    await client.until((c) => c.auditIds().length >= sequences.length, 1000)
    expectFramesCarry(client.audits(), await readStored((sequences[0] ?? 1) - 1, sequences.at(-1) ?? 0))
    expect(client.auditIds()).toEqual(sequences)
  })

  it('catches up by polling when a commit is not announced', async () => {
    streams().configure({ pollMs: 50 })
    const client = await openStream()
    const [first] = await commit([accessEvent()], false)
    await server.request('/v1/whoami')
    const head = await headSequence()
    await client.until((c) => c.auditIds().includes(head), 2000)
    expect(client.auditIds()).toEqual(range(first ?? 0, head))
  })

  it('ends every open stream in order when the server stops streaming', async () => {
    const client = await openStream()
    streams().endAll()
    await client.ended
    expect(client.response.complete).toBe(true)
    expect(streams().countFor(orgId)).toBe(0)
  })
})

describe('GET /v3/audit-logs/stream: resume and filters', () => {
  it('resumes after Last-Event-ID without gap or duplicate', async () => {
    const sequences = await commit(Array.from({ length: 6 }, () => accessEvent()))
    const start = (sequences[0] ?? 0) - 1
    const first = await openStream(`?last_event_id=${start}`)
    await first.until((c) => c.auditIds().length >= 3)
    first.close()
    const lastSeen = first.auditIds().at(-1) ?? 0
    const second = await openStream('', { headers: { 'last-event-id': String(lastSeen) } })
    const head = await headSequence()
    await second.until((c) => c.auditIds().includes(head))
    expect([...first.auditIds(), ...second.auditIds()]).toEqual(range(start + 1, head))
  })

  it('prefers the Last-Event-ID header over the last_event_id query parameter', async () => {
    const sequences = await commit(Array.from({ length: 4 }, () => accessEvent()))
    const fromHeader = sequences[1] ?? 0
    const client = await openStream('?last_event_id=0', { headers: { 'last-event-id': String(fromHeader) } })
    const head = await headSequence()
    await client.until((c) => c.auditIds().includes(head))
    expect(client.auditIds()).toEqual(range(fromHeader + 1, head))
  })

  it('applies filter[type] to history and live events', async () => {
    streams().configure({ pollMs: 60_000 })
    const client = await openStream('?filter[type]=authorization&last_event_id=0')
    const head = await headSequence()
    await client.until((c) => c.auditIds().includes(head))
    const history = await readStored(0, head, { type: 'authorization' })
    expectFramesCarry(client.audits(), history)
    await commit([accessEvent()])
    const whoami = await server.request('/v1/whoami')
    server.services.bus.announce(orgId, await headSequence())
    await client.until((c) => c.audits().length > history.length)
    const live = client.audits().slice(history.length)
    expect(live).toHaveLength(1)
    expect(live[0]?.data?.toString('utf8')).toContain('"name":"Authz.whoami"')
    expect(live[0]?.data?.toString('utf8')).toContain(`"trace_id":${whoami.headers.get('konnect-audit-trace-id')}`)
  })

  it('applies filter[ts][gte] to history and live events, starting at the first retained event', async () => {
    streams().configure({ pollMs: 60_000 })
    const since = '2020-01-01T00:00:00Z'
    const [backdated] = await commit([accessEvent({ event_ts: '2019-12-31T23:59:59Z' })])
    const client = await openStream(`?filter[ts][gte]=${since}`)
    const head = await headSequence()
    const history = await readStored(0, head, { tsGte: Date.parse(since) })
    await client.until((c) => c.auditIds().includes(head))
    expectFramesCarry(client.audits(), history)
    expect(client.auditIds()).not.toContain(backdated)
    expect(client.auditIds()[0]).toBe(1)

    const [oldLive, newLive] = await commit([
      accessEvent({ event_ts: '2019-06-01T00:00:00Z' }),
      accessEvent({ event_ts: '2020-01-01T00:00:00Z' }),
    ])
    await client.until((c) => c.auditIds().includes(newLive ?? 0))
    expect(client.auditIds()).not.toContain(oldLive)
    expect(client.auditIds().slice(history.length)).toEqual([newLive])
  })
})

describe('GET /v3/audit-logs/stream: refusals', () => {
  it('answers 400 to a Last-Event-ID above the head, from the header or the query', async () => {
    const above = (await headSequence()) + 100
    const byHeader = await server.request('/v3/audit-logs/stream', { headers: { 'last-event-id': String(above) } })
    expect(byHeader.status).toBe(400)
    expect(byHeader.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    expect((await jsonOf(byHeader)).detail).toContain(`Last-Event-ID ${above} is above`)
    const byQuery = await server.request(`/v3/audit-logs/stream?last_event_id=${above + 100}`)
    expect(byQuery.status).toBe(400)
    expect((await jsonOf(byQuery)).invalid_parameters).toEqual([
      expect.objectContaining({ field: 'last_event_id', rule: 'invalid', source: 'query' }),
    ])
  })

  it('answers 400 to bad parameters', async () => {
    const format = await server.request('/v3/audit-logs/stream?format=xml')
    expect(format.status).toBe(400)
    expect((await jsonOf(format)).invalid_parameters).toEqual([
      expect.objectContaining({ field: 'format', rule: 'enum', choices: ['json', 'cef', 'cps'] }),
    ])
    for (const query of ['?filter[type]=other', '?filter[ts][gte]=yesterday', '?last_event_id=-1', '?since=1h']) {
      expect((await server.request(`/v3/audit-logs/stream${query}`)).status).toBe(400)
    }
    const badHeader = await server.request('/v3/audit-logs/stream', { headers: { 'last-event-id': 'abc' } })
    expect(badHeader.status).toBe(400)
  })

  it('lets auditors stream and refuses ingest tokens', async () => {
    const auditor = await openStream('', { token: await tokenFor('auditor') })
    expect(auditor.status).toBe(200)
    const ingest = await openStream('', { token: await tokenFor('ingest') })
    await ingest.ended
    expect(ingest.status).toBe(403)
    expect(JSON.parse(ingest.body.toString('utf8'))).toMatchObject({ status: 403, title: 'Forbidden' })
  })

  it(`answers 429 to stream ${MAX_STREAMS_PER_ORG + 1} of an org and accepts one again after a close`, async () => {
    const open = await Promise.all(Array.from({ length: MAX_STREAMS_PER_ORG }, () => openStream()))
    expect(open.map((client) => client.status)).toEqual(open.map(() => 200))
    const refused = await openStream()
    await refused.ended
    expect(refused.status).toBe(429)
    expect(JSON.parse(refused.body.toString('utf8'))).toMatchObject({ status: 429, title: 'Too Many Requests' })
    open[0]?.close()
    await waitFor(() => streams().countFor(orgId) === MAX_STREAMS_PER_ORG - 1)
    expect((await openStream()).status).toBe(200)
  })
})

describe('GET /v3/audit-logs/stream: a token that stops being valid (SPEC.md §5.3)', () => {
  async function createToken(fields: Record<string, unknown> = {}): Promise<{ id: string; token: string }> {
    const body = { name: 'stream-ends', role: 'auditor', ...fields }
    return jsonOf(await server.request('/v1/tokens', { method: 'POST', ...jsonBody(body) }))
  }

  it('ends at once when its token is revoked on this server', async () => {
    const { id, token } = await createToken()
    const client = await openStream('', { token })
    expect(client.status).toBe(200)
    expect((await server.request(`/v1/tokens/${id}`, { method: 'DELETE' })).status).toBe(204)
    await client.ended
    expect((await openStream('', { token })).status).toBe(401)
  })

  it('ends soon when its token is revoked elsewhere (another replica) or expires', async () => {
    streams().configure({ pollMs: 50 })
    const revokedElsewhere = await createToken()
    const expiring = await createToken({ expires_at: new Date(Date.now() + 1500).toISOString() })
    const clientA = await openStream('', { token: revokedElsewhere.token })
    const clientB = await openStream('', { token: expiring.token })
    const kept = await openStream()
    expect([clientA.status, clientB.status, kept.status]).toEqual([200, 200, 200])
    await server.store.revokeToken(orgId, revokedElsewhere.id, Date.now())
    await Promise.all([clientA.ended, clientB.ended])
    // The admin's stream goes on and still gets events.
    const [sequence] = await commit([accessEvent()])
    await kept.until((client) => client.auditIds().includes(sequence ?? -1))
  })
})

describe('GET /v3/audit-logs/stream: back-pressure', () => {
  it('disconnects a client with more than 1 MiB buffered; it resumes without loss', async () => {
    const bigEvents = Array.from({ length: 600 }, (_, i) => accessEvent({ user_agent: `${i}`.padEnd(20_000, 'x') }))
    const sequences = await commit(bigEvents)
    const first = sequences[0] ?? 0
    const last = sequences.at(-1) ?? 0
    const query = `?filter[type]=gateway_access&last_event_id=${first - 1}`
    const slow = await openStream(query, { paused: true })
    await waitFor(() => streams().countFor(orgId) === 0, 10_000)
    slow.response.resume()
    await slow.ended
    const received = slow.auditIds()
    expect(received.length).toBeGreaterThan(0)
    expect(received.length).toBeLessThan(sequences.length)
    expect(received).toEqual(range(first, received.at(-1) ?? 0))

    const resumed = await openStream(query, { headers: { 'last-event-id': String(received.at(-1)) } })
    await resumed.until((c) => c.auditIds().includes(last), 10_000)
    expect([...received, ...resumed.auditIds()]).toEqual(sequences)
    expectFramesCarry(resumed.audits(), await readStored(received.at(-1) ?? 0, last, { type: 'gateway_access' }))
  })
})

describe('GET /v3/audit-logs/stream: big pages', () => {
  it('keeps a reading client connected through a page of more than 1 MiB', async () => {
    const sequences = await commit(Array.from({ length: 100 }, () => accessEvent({ user_agent: 'y'.repeat(20_000) })))
    const client = await openStream(`?filter[type]=gateway_access&last_event_id=${(sequences[0] ?? 1) - 1}`)
    await client.until((c) => c.auditIds().includes(sequences.at(-1) ?? 0), 10_000)
    expect(client.auditIds()).toEqual(sequences)
    expect(streams().countFor(orgId)).toBe(1)
  })
})

describe('pruning gap (SPEC.md §5.10, §8)', () => {
  it('reports a gap only when events between the resume point and the first available one are gone', () => {
    expect(pruningGap(5, 6)).toBeNull()
    expect(pruningGap(7, 6)).toBeNull()
    expect(pruningGap(0, 1)).toBeNull()
    expect(pruningGap(5, 10)).toEqual({ after: 5, next: 10 })
    expect(pruningGap(0, 2)).toEqual({ after: 0, next: 2 })
  })

  it('frames the gap as event: gap without an id', () => {
    expect(gapFrame({ after: 5, next: 10 }).toString('utf8')).toBe(
      'event: gap\ndata: {"after":5,"next":10,"reason":"pruned"}\n\n',
    )
  })
})
