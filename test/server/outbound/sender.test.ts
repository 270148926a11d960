// Tests one outbound attempt (SPEC.md §6.1, §6.2, §6.6) against real loopback receivers: body,
// gzip and headers; answers and their messages; the time budget, resets, refused connections, no
// redirects; TLS verified or skipped, with SNI on the pinned address; and the refused-address table
// through a stubbed resolver, so nothing here ever connects anywhere but 127.0.0.1.

import { createServer } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ResolveHostname } from '../../../src/server/outbound/endpoint-policy.js'
import type { OutboundBatch, SenderEndpoint, SenderOptions } from '../../../src/server/outbound/sender.js'
import { EndpointSender } from '../../../src/server/outbound/sender.js'
import { VERSION } from '../../../src/util/version.js'
import { selfSignedCertificate } from '../../helpers/certificate.js'
import type { Receiver } from '../../helpers/receiver.js'
import { answer, startReceiver } from '../../helpers/receiver.js'

const ORG_ID = '5b1f0c2e-8a4d-4c1e-9f3a-2d7e6b9c0a11'
const LINES = ['{"a":1,"sig":"x"}', '2026-11-26T09:14:03Z konghq.com CEF:0|KongInc|Konnect|1.0|x|y|1|rt=1 sig=z']
const liveBatch: OutboundBatch = {
  orgId: ORG_ID,
  delivery: { kind: 'live', firstSequence: 41, lastSequence: 42 },
  body: Buffer.from(LINES.map((line) => `${line}\n`).join('')),
}

const senders: EndpointSender[] = []
const receivers: Receiver[] = []

function sender(endpoint: Partial<SenderEndpoint> & { url: string }, options: Partial<SenderOptions> = {}) {
  const created = new EndpointSender(
    { authorization: null, skipSslVerification: false, ...endpoint },
    { allowInsecure: true, ...options },
  )
  senders.push(created)
  return created
}

async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const started = await startReceiver(...args)
  receivers.push(started)
  return started
}

/** A resolver stub that records its questions and answers with fixed addresses. */
function stubResolver(...addresses: string[]): ResolveHostname & { asked: string[] } {
  const asked: string[] = []
  const resolve = async (hostname: string) => {
    asked.push(hostname)
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
  }
  return Object.assign(resolve, { asked })
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

afterAll(async () => {
  await Promise.all(senders.map((created) => created.close()))
  await Promise.all(receivers.map((started) => started.close()))
})

describe('a request (SPEC.md §6.1)', () => {
  it('POSTs the gzip lines to the path and query with exactly the delivery headers', async () => {
    const target = await receiver()
    const result = await sender({ url: target.url, authorization: 'Splunk  abc=def\tx' }).send(liveBatch)
    expect(result).toMatchObject({ statusCode: 200, message: 'OK', failure: null, retryAfter: null, tls: null })
    const [request] = target.requests
    expect(request?.method).toBe('POST')
    expect(request?.url).toBe('/hook?source=konnect')
    expect(request?.body.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]))
    expect(request?.text).toBe(`${LINES[0]}\n${LINES[1]}\n`)
    const { host, connection, 'content-length': contentLength, ...rest } = request?.headers ?? {}
    expect(host).toBe(`127.0.0.1:${target.port}`)
    expect(Number(contentLength)).toBe(request?.body.length)
    expect(connection).toBe('keep-alive')
    expect(rest).toEqual({
      'content-type': 'text/plain; charset=utf-8',
      'content-encoding': 'gzip',
      authorization: 'Splunk  abc=def\tx',
      'user-agent': `konnect-audit/${VERSION}`,
      'konnect-audit-org-id': ORG_ID,
      'konnect-audit-delivery': 'live',
      'konnect-audit-sequence-range': '41-42',
    })
  })

  it.each(['replay', 'test'] as const)(
    'sends %s batches without a sequence range, and no Authorization when none is set',
    async (kind) => {
      const target = await receiver()
      await sender({ url: target.url }).send({ ...liveBatch, delivery: { kind } })
      const headers = target.requests[0]?.headers ?? {}
      expect(headers['konnect-audit-delivery']).toBe(kind)
      expect(headers).not.toHaveProperty('konnect-audit-sequence-range')
      expect(headers).not.toHaveProperty('authorization')
    },
  )

  it('keeps one connection alive between attempts', async () => {
    const target = await receiver()
    const reused = sender({ url: target.url })
    await reused.send(liveBatch)
    await reused.send(liveBatch)
    expect(target.requests).toHaveLength(2)
  })
})

describe('answers (SPEC.md §5.5, §6.2)', () => {
  it('reports the status with its reason phrase and the raw Retry-After', async () => {
    const target = await receiver()
    target.script(answer(429, { 'retry-after': 'Wed, 21 Oct 2026 07:28:00 GMT' }), {
      kind: 'status',
      status: 503,
      reason: 'Down For Maintenance',
    })
    const attempt = sender({ url: target.url })
    expect(await attempt.send(liveBatch)).toMatchObject({
      statusCode: 429,
      message: 'Too Many Requests',
      retryAfter: 'Wed, 21 Oct 2026 07:28:00 GMT',
      failure: null,
    })
    expect(await attempt.send(liveBatch)).toMatchObject({ statusCode: 503, message: 'Down For Maintenance' })
  })

  it('uses the first 256 B of the body when there is no reason phrase', async () => {
    const target = await receiver()
    target.script({ kind: 'status', status: 400, reason: '', body: `${'é'.repeat(200)}tail` })
    const result = await sender({ url: target.url }).send(liveBatch)
    expect(result.statusCode).toBe(400)
    expect(result.message).toBe('é'.repeat(128))
  })

  it('reads at most 4 KiB of the body: an answer whose body never ends still completes', async () => {
    const target = await receiver()
    target.script({ kind: 'endless-body', status: 200, bytes: 64 * 1024 })
    const result = await sender({ url: target.url }, { timeoutMs: 10_000 }).send(liveBatch)
    expect(result).toMatchObject({ statusCode: 200, failure: null })
    expect(result.latencyMs).toBeLessThan(5000)
  })

  it('does not follow a redirect: 3xx is the answer', async () => {
    const target = await receiver()
    target.script(answer(307, { location: `${target.url}&moved=1` }))
    expect(await sender({ url: target.url }).send(liveBatch)).toMatchObject({ statusCode: 307 })
    expect(target.requests).toHaveLength(1)
  })
})

describe('failures without a status (SPEC.md §6.2)', () => {
  it('times out when no answer arrives within the budget', async () => {
    const target = await receiver()
    target.script({ kind: 'hang' })
    const result = await sender({ url: target.url }, { timeoutMs: 200 }).send(liveBatch)
    expect(result).toMatchObject({ statusCode: 0, failure: 'timeout', message: 'timeout after 0.2s' })
    expect(result.latencyMs).toBeGreaterThanOrEqual(150)
  })

  it('reports a reset connection', async () => {
    const target = await receiver()
    target.script({ kind: 'reset' })
    expect(await sender({ url: target.url }).send(liveBatch)).toMatchObject({
      statusCode: 0,
      failure: 'connection',
      message: 'connection error: other side closed',
    })
  })

  it('reports a refused connection', async () => {
    const port = await closedPort()
    const result = await sender({ url: `http://127.0.0.1:${port}/hook` }).send(liveBatch)
    expect(result).toMatchObject({ statusCode: 0, failure: 'connection' })
    expect(result.message).toBe(`connection error: connect ECONNREFUSED 127.0.0.1:${port}`)
  })

  it('reports a DNS failure', async () => {
    const resolve: ResolveHostname = async (hostname) => {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' })
    }
    expect(await sender({ url: 'https://siem.example.test/hook' }, { resolve }).send(liveBatch)).toMatchObject({
      statusCode: 0,
      failure: 'dns',
      message: 'DNS error: getaddrinfo ENOTFOUND siem.example.test',
    })
  })

  it('reports an abort by the caller as cancelled', async () => {
    const target = await receiver()
    target.script({ kind: 'hang' })
    const controller = new AbortController()
    const pending = sender({ url: target.url }).send(liveBatch, controller.signal)
    await target.request(0)
    controller.abort()
    expect(await pending).toMatchObject({ statusCode: 0, failure: 'cancelled' })
  })
})

describe('endpoint safety at every attempt (SPEC.md §6.6)', () => {
  it('refuses http unless insecure endpoints are allowed, sending nothing', async () => {
    const target = await receiver()
    expect(await sender({ url: target.url }, { allowInsecure: false }).send(liveBatch)).toMatchObject({
      statusCode: 0,
      failure: 'policy',
      message: 'endpoint must use https',
    })
    expect(target.requests).toHaveLength(0)
  })

  // [address, refused even with --allow-insecure-endpoints]
  const refusedAddresses: Array<[string, boolean]> = [
    ['169.254.169.254', true],
    ['100.100.100.200', true],
    ['fe80::1', true],
    ['fd00:ec2::254', true],
    ['::ffff:169.254.169.254', true],
    ['224.0.0.1', true],
    ['240.0.0.1', true],
    ['ff02::1', true],
    ['127.0.0.1', false],
    ['0.0.0.0', false],
    ['10.1.2.3', false],
    ['172.16.0.1', false],
    ['192.168.1.9', false],
    ['100.64.0.1', false],
    ['::1', false],
    ['::', false],
    ['fc00::1', false],
    ['::ffff:10.0.0.1', false],
  ]

  it.each(refusedAddresses)(
    'refuses a hostname resolving to %s after DNS, before connecting',
    async (address, always) => {
      for (const allowInsecure of always ? [false, true] : [false]) {
        const resolve = stubResolver(address)
        const result = await sender({ url: 'https://siem.example.test/hook' }, { allowInsecure, resolve }).send(
          liveBatch,
        )
        expect(result).toMatchObject({ statusCode: 0, failure: 'policy', message: `address ${address} is not allowed` })
        expect(resolve.asked).toEqual(['siem.example.test'])
      }
    },
  )

  it.each(refusedAddresses.filter(([address]) => !address.startsWith('::ffff:')))(
    'refuses the IP literal %s without a lookup',
    async (address, always) => {
      const host = address.includes(':') ? `[${address}]` : address
      const resolve = stubResolver('127.0.0.1')
      const result = await sender({ url: `https://${host}:8443/hook` }, { allowInsecure: always, resolve }).send(
        liveBatch,
      )
      expect(result).toMatchObject({ failure: 'policy', message: `address ${address} is not allowed` })
      expect(resolve.asked).toEqual([])
    },
  )

  it('fails the attempt when any resolved address is refused, never narrowing to the allowed ones', async () => {
    const resolve = stubResolver('93.184.216.34', '169.254.169.254')
    expect(
      await sender({ url: 'https://siem.example.test/' }, { allowInsecure: false, resolve }).send(liveBatch),
    ).toMatchObject({ failure: 'policy', message: 'address 169.254.169.254 is not allowed' })
  })

  it('connects only to the checked address, with the hostname in Host', async () => {
    const target = await receiver()
    const resolve = stubResolver('127.0.0.1')
    const result = await sender({ url: `http://receiver.test:${target.port}/in` }, { resolve }).send(liveBatch)
    expect(result.statusCode).toBe(200)
    expect(resolve.asked).toEqual(['receiver.test'])
    expect(target.requests[0]?.headers.host).toBe(`receiver.test:${target.port}`)
  })
})

describe('TLS (SPEC.md §5.5, §6.6)', () => {
  let tlsReceiver: Receiver
  const resolve = stubResolver('127.0.0.1')

  beforeAll(async () => {
    const { cert, key } = selfSignedCertificate('/O=Receiver Org/CN=receiver.test', 'DNS:receiver.test')
    tlsReceiver = await receiver({ tls: { cert, key } })
  })

  const certificate = {
    subject: 'CN=receiver.test,O=Receiver Org',
    issuer: 'CN=receiver.test,O=Receiver Org',
    notAfterMs: expect.any(Number),
  }

  it('refuses an unverifiable certificate before sending anything, and describes it', async () => {
    const before = tlsReceiver.requests.length
    const result = await sender({ url: `https://receiver.test:${tlsReceiver.port}/in` }, { resolve }).send(liveBatch)
    expect(result).toMatchObject({
      statusCode: 0,
      failure: 'tls',
      message: 'TLS error: certificate not verified (DEPTH_ZERO_SELF_SIGNED_CERT)',
      tls: {
        protocol: 'TLSv1.3',
        verified: false,
        skipped: false,
        error: 'certificate not verified (DEPTH_ZERO_SELF_SIGNED_CERT)',
        certificate,
      },
    })
    expect(tlsReceiver.requests).toHaveLength(before)
  })

  it('still speaks TLS with SNI on the pinned address when verification is skipped', async () => {
    const skipping = sender(
      { url: `https://receiver.test:${tlsReceiver.port}/in`, skipSslVerification: true },
      { resolve },
    )
    const result = await skipping.send(liveBatch)
    expect(result).toMatchObject({
      statusCode: 200,
      tls: { protocol: 'TLSv1.3', verified: false, skipped: true, certificate },
    })
    expect(tlsReceiver.requests.at(-1)?.servername).toBe('receiver.test')
    expect(tlsReceiver.requests.at(-1)?.lines).toEqual(LINES)
    // The kept-alive connection reports the same handshake.
    expect((await skipping.send(liveBatch)).tls).toEqual(result.tls)
  })

  it('describes a failed handshake', async () => {
    const plain = await receiver()
    const result = await sender({ url: `https://127.0.0.1:${plain.port}/in`, skipSslVerification: true }).send(
      liveBatch,
    )
    expect(result).toMatchObject({
      statusCode: 0,
      failure: 'tls',
      message: 'TLS error: wrong version number (ERR_SSL_WRONG_VERSION_NUMBER)',
      tls: { protocol: null, verified: false, skipped: true, certificate: null },
    })
    expect(plain.requests).toHaveLength(0)
  })
})
