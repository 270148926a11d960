// The `src` of the core's own events (SPEC.md §3.4, §9.6 --trust-proxy): the TCP peer with
// IPv4-mapped IPv6 written as IPv4, and X-Forwarded-For honoured only from trusted proxies, walked
// from the right. Unit tests of clientAddress, then real servers with and without the flag.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clientAddress, trustedProxies } from '../../src/server/auth/client-address.js'
import type { TestServer } from '../helpers/server.js'
import { startTestServer } from '../helpers/server.js'
import { storedEvents } from '../helpers/stored-events.js'

describe('clientAddress', () => {
  const none = trustedProxies([])
  const loopback = trustedProxies(['127.0.0.1', '::1'])
  const privateNet = trustedProxies(['10.0.0.0/8'])

  it.each([
    ['an IPv4 peer as is', '192.0.2.7', undefined, none, '192.0.2.7'],
    ['an IPv4-mapped IPv6 peer as IPv4', '::ffff:10.0.0.1', undefined, none, '10.0.0.1'],
    ['an IPv6 peer as is', '2001:db8::5', undefined, none, '2001:db8::5'],
    ['the peer when no proxy is trusted', '127.0.0.1', '203.0.113.9', none, '127.0.0.1'],
    ['the peer when it is not a trusted proxy', '192.0.2.7', '203.0.113.9', loopback, '192.0.2.7'],
    ['the forwarded address from a trusted peer', '127.0.0.1', '203.0.113.9', loopback, '203.0.113.9'],
    ['the first untrusted hop from the right', '127.0.0.1', '198.51.100.1, 127.0.0.1', loopback, '198.51.100.1'],
    ['no further left than the first untrusted hop', '127.0.0.1', 'spoofed, 198.51.100.1', loopback, '198.51.100.1'],
    ['a trusted subnet through a mapped peer', '::ffff:10.1.2.3', '198.51.100.7, 10.9.9.9', privateNet, '198.51.100.7'],
    ['a mapped forwarded address as IPv4', '127.0.0.1', '::ffff:203.0.113.5', loopback, '203.0.113.5'],
    ['a trusted IPv6 peer', '::1', '2001:db8::1', loopback, '2001:db8::1'],
    ['the last trusted hop when the next one is not an address', '127.0.0.1', 'unknown', loopback, '127.0.0.1'],
    ['the last trusted hop when every hop is trusted', '127.0.0.1', '127.0.0.1', loopback, '127.0.0.1'],
  ])('gives %s', (_, peer, forwardedFor, trusted, expected) => {
    expect(clientAddress(peer, forwardedFor, trusted)).toBe(expected)
  })

  // SPEC.md §3.2: `src` is a dotted quad or RFC 5952 IPv6, so a forwarded hop is stored canonical.
  it.each([
    ['an uncompressed upper-case IPv6 hop', '2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['a hex IPv4-mapped hop', '::ffff:cb00:7109', '203.0.113.9'],
    ['a fully written IPv4-mapped hop', '0:0:0:0:0:ffff:203.0.113.9', '203.0.113.9'],
  ])('writes %s in its RFC 5952 form', (_, forwardedFor, expected) => {
    expect(clientAddress('127.0.0.1', forwardedFor, loopback), 'forwarded IPv6 must be RFC 5952 (SPEC.md §3.2)').toBe(
      expected,
    )
  })

  it('stops at the last trusted hop when the next one carries an IPv6 zone id', () => {
    expect(
      clientAddress('127.0.0.1', 'fe80::1%eth0', loopback),
      'a zone id is not an RFC 5952 address (SPEC.md §3.2, §3.5), so it must not become `src`',
    ).toBe('127.0.0.1')
  })
})

describe('src of recorded events', () => {
  let direct: TestServer
  let behindProxy: TestServer

  beforeAll(async () => {
    direct = await startTestServer()
    behindProxy = await startTestServer({ trustProxy: '127.0.0.1' })
  })
  afterAll(async () => {
    await direct?.close()
    await behindProxy?.close()
  })

  /** The `src` of every event stored for one whoami request sent with this X-Forwarded-For. */
  async function sourcesOf(server: TestServer, forwardedFor: string): Promise<unknown[]> {
    const response = await server.request('/v1/whoami', { headers: { 'x-forwarded-for': forwardedFor } })
    expect(response.status).toBe(200)
    await response.arrayBuffer()
    const traceId = response.headers.get('konnect-audit-trace-id') ?? ''
    const events = await storedEvents(server.store, server.services.defaultOrgId)
    return events.filter((event) => event.traceId === traceId).map((event) => event.fields.src)
  }

  it('uses X-Forwarded-For from a trusted proxy', async () => {
    expect(await sourcesOf(behindProxy, '203.0.113.9')).toEqual(['203.0.113.9', '203.0.113.9'])
  })

  it('walks multiple hops to the first untrusted one', async () => {
    expect(await sourcesOf(behindProxy, '198.51.100.1, 127.0.0.1')).toEqual(['198.51.100.1', '198.51.100.1'])
  })

  it('ignores X-Forwarded-For without --trust-proxy', async () => {
    expect(await sourcesOf(direct, '203.0.113.9')).toEqual(['127.0.0.1', '127.0.0.1'])
  })
})
