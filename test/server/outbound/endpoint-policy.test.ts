import type { LookupAddress } from 'node:dns'
import { once } from 'node:events'
import { createServer as createHttpServer } from 'node:http'
import { type AddressInfo, createServer, isIP, type LookupFunction, connect as netConnect } from 'node:net'
import { Agent, request } from 'undici'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  type AddressClass,
  AddressNotAllowedError,
  addressNotAllowedReason,
  checkEndpointAtConfigTime,
  checkEndpointUrl,
  checkLiteralHost,
  checkResolvedAddresses,
  classifyAddress,
  createPinnedLookup,
  isAddressAllowed,
  type ResolveHostname,
} from '../../../src/server/outbound/endpoint-policy.js'

const secure = { allowInsecure: false }
const insecure = { allowInsecure: true }

/** A stub resolver: no test resolves real names (SPEC.md §6.6). */
function resolveTo(...addresses: string[]) {
  return vi.fn<ResolveHostname>(async () => addresses.map((address) => ({ address, family: isIP(address) })))
}

describe('checkEndpointUrl', () => {
  const host = 'https://siem.example.com/'
  const cases: Array<[string, string, string | null, string | null]> = [
    // [name, text, reason by default, reason with allowInsecure]; null = accepted. The scheme is
    // checked before credentials and fragment, and allowInsecure relaxes nothing but the scheme.
    ['https with path, query and port', 'https://siem.example.com:8443/konnect?x=1', null, null],
    ['upper-case scheme and host', 'HTTPS://SIEM.example.com/', null, null],
    ['IPv6 literal (address rules are separate)', 'https://[2001:db8::1]/', null, null],
    ['http', 'http://siem.example.com/', 'must use https', null],
    ['another scheme', 'ftp://siem.example.com/', 'must use https', 'must use https'],
    ['a scheme without a host', 'mailto:soc@example.com', 'must use https', 'must use https'],
    ['empty', '', 'must be a valid URL', 'must be a valid URL'],
    ['relative', '/konnect', 'must be a valid URL', 'must be a valid URL'],
    ['no scheme', 'siem.example.com/konnect', 'must be a valid URL', 'must be a valid URL'],
    ['scheme only', 'https://', 'must be a valid URL', 'must be a valid URL'],
    ['leading space the parser would strip', ` ${host}`, 'must be a valid URL', 'must be a valid URL'],
    ['newline the parser would drop', `${host}\n`, 'must be a valid URL', 'must be a valid URL'],
    ['space in the host', 'https://siem example.com/', 'must be a valid URL', 'must be a valid URL'],
    ['no authority', 'https:siem.example.com', 'must have a host', 'must have a host'],
    ['empty authority', 'https:///siem.example.com', 'must have a host', 'must have a host'],
    ['backslashes instead of //', 'https:\\\\siem.example.com', 'must have a host', 'must have a host'],
    [
      'user and password',
      'https://user:secret@siem.example.com/',
      'must not contain credentials',
      'must not contain credentials',
    ],
    ['user only', 'http://user@siem.example.com/', 'must use https', 'must not contain credentials'],
    ['empty userinfo', 'https://@siem.example.com/', 'must not contain credentials', 'must not contain credentials'],
    [
      'password only',
      'https://:secret@siem.example.com/',
      'must not contain credentials',
      'must not contain credentials',
    ],
    ['fragment', `${host}#top`, 'must not contain a fragment', 'must not contain a fragment'],
    ['empty fragment', `http://siem.example.com/#`, 'must use https', 'must not contain a fragment'],
    ['exactly 2048 bytes', host + 'a'.repeat(2048 - host.length), null, null],
    ['2049 bytes', host + 'a'.repeat(2049 - host.length), 'must be at most 2048 bytes', 'must be at most 2048 bytes'],
    [
      'under 2048 characters but over 2048 bytes',
      host + 'é'.repeat(1100),
      'must be at most 2048 bytes',
      'must be at most 2048 bytes',
    ],
    [
      'within 2048 bytes until percent-encoded',
      host + 'é'.repeat(1000),
      'must be at most 2048 bytes',
      'must be at most 2048 bytes',
    ],
  ]

  it.each(cases)('%s', (_name, text, secureReason, insecureReason) => {
    // A refusal for length names its limit, for a max_length problem.
    const tooLong = (reason: string) => (reason.startsWith('must be at most') ? { maximumBytes: 2048 } : {})
    const expected = (reason: string | null) =>
      reason === null ? { ok: true, url: new URL(text) } : { ok: false, reason, ...tooLong(reason) }
    expect(checkEndpointUrl(text, secure)).toEqual(expected(secureReason))
    expect(checkEndpointUrl(text, insecure)).toEqual(expected(insecureReason))
  })
})

describe('classifyAddress and isAddressAllowed', () => {
  const allowed: Record<AddressClass, [boolean, boolean]> = {
    metadata: [false, false],
    reserved: [false, false],
    private: [false, true],
    public: [true, true],
  }
  const rows: Array<[string, AddressClass]> = [
    // link-local and cloud metadata: refused even with allowInsecure
    ['169.254.0.0', 'metadata'],
    ['169.254.169.254', 'metadata'],
    ['169.254.255.255', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['fe80::1', 'metadata'],
    ['FE80::1', 'metadata'],
    ['fe80::1%eth0', 'metadata'],
    ['febf:ffff::1', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['::169.254.169.254', 'metadata'],
    ['::ffff:100.100.100.200', 'metadata'],
    // multicast, 240/4 and broadcast: always refused
    ['224.0.0.0', 'reserved'],
    ['224.0.0.1', 'reserved'],
    ['239.255.255.255', 'reserved'],
    ['240.0.0.0', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['ff00::', 'reserved'],
    ['ff02::1', 'reserved'],
    ['::ffff:224.0.0.1', 'reserved'],
    // loopback, unspecified, private, shared: allowed only with allowInsecure
    ['127.0.0.1', 'private'],
    ['127.255.255.255', 'private'],
    ['::1', 'private'],
    ['0.0.0.0', 'private'],
    ['0.255.255.255', 'private'],
    ['::', 'private'],
    ['::2', 'private'],
    ['10.0.0.0', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.0', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.0', 'private'],
    ['192.168.255.255', 'private'],
    ['100.64.0.0', 'private'],
    ['100.100.100.199', 'private'],
    ['100.100.100.201', 'private'],
    ['100.127.255.255', 'private'],
    ['fc00::', 'private'],
    ['fd00::1', 'private'],
    ['fd00:ec2::253', 'private'],
    ['fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'private'],
    ['::ffff:127.0.0.1', 'private'],
    ['::ffff:7f00:1', 'private'],
    ['::127.0.0.1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    // everything else, including the neighbours of each range
    ['8.8.8.8', 'public'],
    ['1.0.0.0', 'public'],
    ['9.255.255.255', 'public'],
    ['11.0.0.0', 'public'],
    ['100.63.255.255', 'public'],
    ['100.128.0.0', 'public'],
    ['126.255.255.255', 'public'],
    ['128.0.0.0', 'public'],
    ['169.253.255.255', 'public'],
    ['169.255.0.0', 'public'],
    ['172.15.255.255', 'public'],
    ['172.32.0.0', 'public'],
    ['192.167.255.255', 'public'],
    ['192.169.0.0', 'public'],
    ['223.255.255.255', 'public'],
    ['2001:4860::8888', 'public'],
    ['2001:4860:4860::8888', 'public'],
    ['fbff:ffff::1', 'public'],
    ['fe00::1', 'public'],
    ['fec0::1', 'public'],
    ['feff:ffff::1', 'public'],
    ['::ffff:8.8.8.8', 'public'],
    ['::ffff:808:808', 'public'],
  ]

  it.each(rows)('%s is %s', (ip, addressClass) => {
    expect(classifyAddress(ip)).toBe(addressClass)
    const [byDefault, withInsecure] = allowed[addressClass]
    expect(isAddressAllowed(ip, secure)).toBe(byDefault)
    expect(isAddressAllowed(ip, insecure)).toBe(withInsecure)
  })

  it('refuses, and will not classify, something that is not an IP address', () => {
    for (const text of ['', 'example.com', '[::1]', '1.2.3', '127.0.0.1:80']) {
      expect(isAddressAllowed(text, insecure)).toBe(false)
      expect(() => classifyAddress(text)).toThrow(TypeError)
    }
  })

  it('words the refusal as SPEC.md §5.5 does', () => {
    expect(addressNotAllowedReason('fd00:ec2::254')).toBe('address fd00:ec2::254 is not allowed')
  })
})

describe('checkResolvedAddresses', () => {
  const cases: Array<[string, string[], boolean, string | null]> = [
    ['all public', ['8.8.8.8', '2001:4860::8888'], false, null],
    ['public plus metadata', ['8.8.8.8', '169.254.169.254'], false, '169.254.169.254'],
    ['public plus metadata, insecure', ['8.8.8.8', '169.254.169.254'], true, '169.254.169.254'],
    ['public plus loopback', ['2001:4860::8888', '::1'], false, '::1'],
    ['public plus loopback, insecure', ['2001:4860::8888', '::1'], true, null],
    ['reports the first refused', ['10.0.0.1', 'fe80::1'], false, '10.0.0.1'],
    ['nothing resolved', [], false, null],
  ]

  it.each(cases)('%s', (_name, addresses, allowInsecure, refused) => {
    expect(checkResolvedAddresses(addresses, { allowInsecure })).toEqual(
      refused === null ? { ok: true } : { ok: false, refused },
    )
  })
})

describe('checkLiteralHost', () => {
  it('checks IP-literal hosts, as the WHATWG parser normalised them', () => {
    expect(checkLiteralHost(new URL('https://0x7f.1/'), secure)).toEqual({ ok: false, refused: '127.0.0.1' })
    expect(checkLiteralHost(new URL('https://[::ffff:127.0.0.1]/'), secure)).toEqual({
      ok: false,
      refused: '::ffff:7f00:1',
    })
    expect(checkLiteralHost(new URL('https://[::1]:8443/'), insecure)).toEqual({ ok: true })
    expect(checkLiteralHost(new URL('https://8.8.8.8/'), secure)).toEqual({ ok: true })
  })

  it('leaves hostnames to the pinned lookup', () => {
    expect(checkLiteralHost(new URL('https://localhost/'), secure)).toEqual({ ok: true })
  })
})

describe('checkEndpointAtConfigTime', () => {
  it('checks IP literals without resolving', async () => {
    const resolve = resolveTo('8.8.8.8')
    expect(await checkEndpointAtConfigTime(new URL('https://[fd00:ec2::254]/'), { ...insecure, resolve })).toEqual({
      ok: false,
      refused: 'fd00:ec2::254',
    })
    expect(await checkEndpointAtConfigTime(new URL('https://8.8.8.8/'), { ...secure, resolve })).toEqual({ ok: true })
    expect(resolve).not.toHaveBeenCalled()
  })

  it('resolves hostnames and refuses if any address is refused', async () => {
    const resolve = resolveTo('8.8.8.8', '169.254.169.254')
    const url = new URL('https://siem.example.test:8443/konnect')
    expect(await checkEndpointAtConfigTime(url, { ...insecure, resolve })).toEqual({
      ok: false,
      refused: '169.254.169.254',
    })
    expect(resolve).toHaveBeenCalledWith('siem.example.test')
  })

  it('accepts a hostname whose addresses are all allowed', async () => {
    const resolve = resolveTo('10.1.2.3')
    const url = new URL('https://siem.internal.test/')
    expect(await checkEndpointAtConfigTime(url, { ...secure, resolve })).toEqual({ ok: false, refused: '10.1.2.3' })
    expect(await checkEndpointAtConfigTime(url, { ...insecure, resolve })).toEqual({ ok: true })
  })

  it('does not treat a DNS failure as an error', async () => {
    const resolve = vi.fn<ResolveHostname>(async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND siem.example.test'), { code: 'ENOTFOUND' })
    })
    expect(await checkEndpointAtConfigTime(new URL('https://siem.example.test/'), { ...secure, resolve })).toEqual({
      ok: true,
    })
  })
})

interface LookupResult {
  error: NodeJS.ErrnoException | null
  address: string | LookupAddress[]
  family: number | undefined
}

function lookupWith(
  lookup: LookupFunction,
  hostname: string,
  options: Parameters<LookupFunction>[1],
): Promise<LookupResult> {
  return new Promise((resolve) => {
    lookup(hostname, options, (error, address, family) => resolve({ error, address, family }))
  })
}

describe('createPinnedLookup', () => {
  const dualStack = () => resolveTo('8.8.8.8', '2001:4860::8888')

  it('returns exactly the checked addresses for all: true', async () => {
    const resolve = dualStack()
    const result = await lookupWith(createPinnedLookup({ ...secure, resolve }), 'siem.example.test', { all: true })
    expect(result).toEqual({
      error: null,
      address: [
        { address: '8.8.8.8', family: 4 },
        { address: '2001:4860::8888', family: 6 },
      ],
      family: undefined,
    })
    expect(resolve).toHaveBeenCalledWith('siem.example.test')
  })

  it('returns the first address and its family otherwise', async () => {
    const lookup = createPinnedLookup({ ...secure, resolve: dualStack() })
    expect(await lookupWith(lookup, 'siem.example.test', {})).toEqual({ error: null, address: '8.8.8.8', family: 4 })
  })

  it('honours a requested family, among addresses that were all checked', async () => {
    const lookup = createPinnedLookup({ ...secure, resolve: dualStack() })
    expect(await lookupWith(lookup, 'siem.example.test', { family: 6 })).toEqual({
      error: null,
      address: '2001:4860::8888',
      family: 6,
    })
    expect(await lookupWith(lookup, 'siem.example.test', { family: 'IPv4', all: true })).toEqual({
      error: null,
      address: [{ address: '8.8.8.8', family: 4 }],
      family: undefined,
    })
  })

  it.each([true, false])('fails the attempt if any address is refused (all: %s)', async (all) => {
    const lookup = createPinnedLookup({ ...insecure, resolve: resolveTo('8.8.8.8', '169.254.169.254') })
    const { error } = await lookupWith(lookup, 'siem.example.test', { all })
    expect(error).toBeInstanceOf(AddressNotAllowedError)
    expect(error).toMatchObject({
      code: 'EADDRNOTALLOWED',
      address: '169.254.169.254',
      message: 'address 169.254.169.254 is not allowed',
    })
  })

  it('still fails when the refused address is of a family that was not asked for', async () => {
    const lookup = createPinnedLookup({ ...secure, resolve: resolveTo('8.8.8.8', 'fe80::1') })
    const { error } = await lookupWith(lookup, 'siem.example.test', { family: 4, all: true })
    expect(error).toMatchObject({ code: 'EADDRNOTALLOWED', address: 'fe80::1' })
  })

  it('checks IP-literal hostnames directly, without DNS', async () => {
    const resolve = dualStack()
    const lookup = createPinnedLookup({ ...secure, resolve })
    expect((await lookupWith(lookup, '169.254.169.254', {})).error).toMatchObject({ code: 'EADDRNOTALLOWED' })
    expect(await lookupWith(lookup, '[2001:4860::8888]', { all: true })).toEqual({
      error: null,
      address: [{ address: '2001:4860::8888', family: 6 }],
      family: undefined,
    })
    expect(resolve).not.toHaveBeenCalled()
  })

  it('passes resolver errors through', async () => {
    const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND siem.example.test'), { code: 'ENOTFOUND' })
    const resolve = vi.fn<ResolveHostname>(async () => {
      throw notFound
    })
    expect((await lookupWith(createPinnedLookup({ ...secure, resolve }), 'siem.example.test', {})).error).toBe(notFound)
  })

  it('reports ENOTFOUND when no address (of the requested family) is left', async () => {
    const empty = createPinnedLookup({ ...secure, resolve: resolveTo() })
    expect((await lookupWith(empty, 'siem.example.test', { all: true })).error).toMatchObject({ code: 'ENOTFOUND' })
    const onlyV4 = createPinnedLookup({ ...secure, resolve: resolveTo('8.8.8.8') })
    expect((await lookupWith(onlyV4, 'siem.example.test', { family: 6 })).error).toMatchObject({ code: 'ENOTFOUND' })
  })
})

describe('createPinnedLookup on real loopback sockets', () => {
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup()
  })

  async function loopbackTcpServer() {
    const server = createServer((socket) => socket.end())
    let connections = 0
    server.on('connection', () => connections++)
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())))
    return { port: (server.address() as AddressInfo).port, connections: () => connections }
  }

  const askedForAll: Array<boolean | undefined> = []

  function connectVia(pinned: LookupFunction, port: number, autoSelectFamily: boolean) {
    const lookup: LookupFunction = (hostname, options, callback) => {
      askedForAll.push(options.all)
      pinned(hostname, options, callback)
    }
    return new Promise<{ remoteAddress: string | undefined } | { error: NodeJS.ErrnoException }>((resolve) => {
      const socket = netConnect({ host: 'example.test', port, lookup, autoSelectFamily })
      socket.once('connect', () => {
        resolve({ remoteAddress: socket.remoteAddress })
        socket.destroy()
      })
      socket.once('error', (error) => resolve({ error }))
    })
  }

  // autoSelectFamily (Node 20's default) asks with all: true; without it, for a single address.
  it.each([true, false])('net.connect reaches loopback only with allowInsecure (autoSelectFamily %s)', async (auto) => {
    const server = await loopbackTcpServer()
    const allowed = createPinnedLookup({ ...insecure, resolve: resolveTo('127.0.0.1') })
    expect(await connectVia(allowed, server.port, auto)).toEqual({ remoteAddress: '127.0.0.1' })

    const refused = createPinnedLookup({ ...secure, resolve: resolveTo('127.0.0.1') })
    const outcome = await connectVia(refused, server.port, auto)
    expect(outcome).toMatchObject({ error: { code: 'EADDRNOTALLOWED', message: 'address 127.0.0.1 is not allowed' } })
    expect(server.connections()).toBe(1)
    expect(askedForAll.splice(0)).toEqual(auto ? [true, true] : [undefined, undefined])
  })

  it('works as undici connect.lookup, sending the hostname in Host', async () => {
    const hosts: Array<string | undefined> = []
    const server = createHttpServer((req, res) => {
      hosts.push(req.headers.host)
      res.end('ok')
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())))
    const { port } = server.address() as AddressInfo
    const url = `http://example.test:${port}/`

    const allowed = new Agent({
      connect: { lookup: createPinnedLookup({ ...insecure, resolve: resolveTo('127.0.0.1') }) },
    })
    cleanups.push(() => allowed.close())
    const response = await request(url, { dispatcher: allowed })
    expect(response.statusCode).toBe(200)
    expect(await response.body.text()).toBe('ok')
    expect(hosts).toEqual([`example.test:${port}`])

    const refused = new Agent({
      connect: { lookup: createPinnedLookup({ ...secure, resolve: resolveTo('127.0.0.1') }) },
    })
    cleanups.push(() => refused.close())
    await expect(request(url, { dispatcher: refused })).rejects.toMatchObject({ code: 'EADDRNOTALLOWED' })
    expect(hosts).toHaveLength(1)
  })
})
