// Owns the webhook endpoint rules of SPEC.md §6.6: URL rules, the address table, and the pinned
// DNS lookup that applies the table at connect time. It must not open connections, keep state,
// or read the clock; the only I/O is the default resolver, which callers and tests can replace.
import { promises as dnsPromises, type LookupAddress } from 'node:dns'
import { BlockList, isIP, type LookupFunction } from 'node:net'

export interface EndpointPolicyOptions {
  /** `serve --allow-insecure-endpoints`: permits http and loopback/private addresses. */
  readonly allowInsecure: boolean
}

/** A refusal for length carries the limit, for a `max_length` problem. */
export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string; maximumBytes?: number }
export type AddressCheck = { ok: true } | { ok: false; refused: string }
export type ResolveHostname = (hostname: string) => Promise<ReadonlyArray<{ address: string; family: number }>>

export interface ResolvingPolicyOptions extends EndpointPolicyOptions {
  /** Replaces the system resolver; tests of refused ranges must use it (SPEC.md §6.6). */
  readonly resolve?: ResolveHostname
}

const maxEndpointBytes = 2048

/** SPEC.md §6.6 URL rules; reasons are the `endpoint` phrases of SPEC.md §5.5. */
export function checkEndpointUrl(text: string, options: EndpointPolicyOptions): UrlCheck {
  if (Buffer.byteLength(text) > maxEndpointBytes) return tooLong()
  const url = parseStrictUrl(text)
  if (url === null) return urlRefused('must be a valid URL')
  if (!isAllowedScheme(url.protocol, options)) return urlRefused('must use https')
  // Checked on the text: the WHATWG parser accepts `https:host` and `https:///host` and drops an empty `@`.
  const authority = rawAuthority(text)
  if (authority === null || authority === '') return urlRefused('must have a host')
  if (authority.includes('@') || url.username !== '' || url.password !== '') {
    return urlRefused('must not contain credentials')
  }
  if (text.includes('#')) return urlRefused('must not contain a fragment')
  // Normalisation (punycode, percent-encoding) can lengthen the URL that is actually used.
  if (Buffer.byteLength(url.href) > maxEndpointBytes) return tooLong()
  return { ok: true, url }
}

function urlRefused(reason: string): UrlCheck {
  return { ok: false, reason }
}

function tooLong(): UrlCheck {
  return { ok: false, reason: `must be at most ${maxEndpointBytes} bytes`, maximumBytes: maxEndpointBytes }
}

/** The WHATWG parser silently strips or drops spaces and control characters; we refuse them instead. */
function parseStrictUrl(text: string): URL | null {
  if (hasSpaceOrControl(text)) return null
  try {
    return new URL(text)
  } catch {
    return null
  }
}

function hasSpaceOrControl(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index)
    if (code <= 0x20 || code === 0x7f) return true
  }
  return false
}

function isAllowedScheme(protocol: string, options: EndpointPolicyOptions): boolean {
  return protocol === 'https:' || (protocol === 'http:' && options.allowInsecure)
}

/** The authority as written (`//` up to the first `/`, `\`, `?` or `#`), or null when there is no `//`. */
function rawAuthority(text: string): string | null {
  const match = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/\\?#]*)/.exec(text)
  return match?.[1] ?? null
}

/** metadata: link-local and cloud metadata; reserved: multicast and 240/4; private: loopback, unspecified, private. */
export type AddressClass = 'metadata' | 'reserved' | 'private' | 'public'

/**
 * Rows of the SPEC.md §6.6 table, most restrictive first so that overlaps resolve to the stricter
 * row (`100.100.100.200` inside `100.64.0.0/10`, `fd00:ec2::254` inside `fc00::/7`).
 */
const addressTable: ReadonlyArray<{ addressClass: AddressClass; subnets: readonly string[] }> = [
  { addressClass: 'metadata', subnets: ['169.254.0.0/16', '100.100.100.200/32', 'fe80::/10', 'fd00:ec2::254/128'] },
  { addressClass: 'reserved', subnets: ['224.0.0.0/4', '240.0.0.0/4', 'ff00::/8'] },
  {
    addressClass: 'private',
    subnets: [
      '127.0.0.0/8',
      '0.0.0.0/8',
      '10.0.0.0/8',
      '172.16.0.0/12',
      '192.168.0.0/16',
      '100.64.0.0/10',
      '::1/128',
      '::/128',
      'fc00::/7',
    ],
  },
]

const addressRows = addressTable.map(({ addressClass, subnets }) => ({ addressClass, list: blockListOf(subnets) }))

function blockListOf(subnets: readonly string[]): BlockList {
  const list = new BlockList()
  for (const subnet of subnets) {
    const [network = '', prefix = ''] = subnet.split('/')
    list.addSubnet(network, Number(prefix), isIP(network) === 4 ? 'ipv4' : 'ipv6')
  }
  return list
}

/** The §6.6 row an address falls in. Throws a TypeError for a string that is not an IP address. */
export function classifyAddress(ip: string): AddressClass {
  const judged = addressToJudge(ip)
  for (const row of addressRows) {
    if (row.list.check(judged.address, judged.type)) return row.addressClass
  }
  return 'public'
}

/** IPv4-mapped and IPv4-compatible IPv6 addresses are judged by their IPv4 part (SPEC.md §6.6). */
function addressToJudge(ip: string): { address: string; type: 'ipv4' | 'ipv6' } {
  const family = isIP(ip)
  if (family === 4) return { address: ip, type: 'ipv4' }
  if (family !== 6) throw new TypeError(`${JSON.stringify(ip)} is not an IP address`)
  const withoutZone = ip.split('%')[0] ?? ip
  const embedded = embeddedIpv4(ipv6Groups(withoutZone))
  return embedded === null ? { address: withoutZone, type: 'ipv6' } : { address: embedded, type: 'ipv4' }
}

/** The eight 16-bit groups of an IPv6 address already validated by `isIP`. */
function ipv6Groups(ip: string): number[] {
  const [head = '', tail] = ip.split('::')
  const headGroups = groupsOf(head)
  if (tail === undefined) return headGroups
  const tailGroups = groupsOf(tail)
  const zeros = new Array<number>(8 - headGroups.length - tailGroups.length).fill(0)
  return [...headGroups, ...zeros, ...tailGroups]
}

function groupsOf(part: string): number[] {
  if (part === '') return []
  return part.split(':').flatMap((piece) => {
    if (!piece.includes('.')) return [Number.parseInt(piece, 16)]
    const [a = 0, b = 0, c = 0, d = 0] = piece.split('.').map(Number)
    return [(a << 8) | b, (c << 8) | d]
  })
}

/**
 * `::ffff:a.b.c.d` (mapped) or `::a.b.c.d` (compatible), in dotted or hex form. `::` and `::1` are
 * left to their own IPv6 rows, as RFC 4291 excludes them from the compatible range.
 */
function embeddedIpv4(groups: readonly number[]): string | null {
  if (groups.length !== 8 || groups.slice(0, 5).some((group) => group !== 0)) return null
  const [marker = 0, high = 0, low = 0] = groups.slice(5)
  const isMapped = marker === 0xffff
  const isCompatible = marker === 0 && (high !== 0 || low > 1)
  if (!isMapped && !isCompatible) return null
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.')
}

/** False for anything that is not an IP address, so a malformed resolver answer fails closed. */
export function isAddressAllowed(ip: string, options: EndpointPolicyOptions): boolean {
  if (isIP(ip) === 0) return false
  const addressClass = classifyAddress(ip)
  return addressClass === 'public' || (addressClass === 'private' && options.allowInsecure)
}

/** The `endpoint` 400 reason of SPEC.md §5.5, also the message of a refused attempt. */
const IPV4_MAPPED_HEX = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i

/** An IPv4-mapped address in the mixed notation RFC 5952 §5 recommends (`::ffff:10.0.0.1`). */
function displayedAddress(ip: string): string {
  const mapped = IPV4_MAPPED_HEX.exec(ip)
  if (mapped === null) return ip
  const [high, low] = [Number.parseInt(mapped[1] as string, 16), Number.parseInt(mapped[2] as string, 16)]
  return `::ffff:${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`
}

export function addressNotAllowedReason(ip: string): string {
  return `address ${displayedAddress(ip)} is not allowed`
}

/** One refused address fails the whole set; it is never narrowed to the allowed ones (SPEC.md §6.6). */
export function checkResolvedAddresses(addresses: readonly string[], options: EndpointPolicyOptions): AddressCheck {
  const refused = addresses.find((address) => !isAddressAllowed(address, options))
  return refused === undefined ? { ok: true } : { ok: false, refused }
}

/**
 * Checks an endpoint whose host is an IP literal; hostnames pass, since the pinned lookup checks
 * them at connect time. Delivery must call this before connecting: Node's net and tls skip the
 * `lookup` option entirely for IP-literal hosts.
 */
export function checkLiteralHost(url: URL, options: EndpointPolicyOptions): AddressCheck {
  const literal = literalAddress(url.hostname)
  return literal === null ? { ok: true } : checkResolvedAddresses([literal], options)
}

/** URL hostnames keep IPv6 brackets; the WHATWG parser has already normalised IPv4 forms like `0x7f.1`. */
function literalAddress(host: string): string | null {
  const unbracketed = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
  return isIP(unbracketed) === 0 ? null : unbracketed
}

/**
 * PATCH/POST address check: IP literals directly, hostnames through the resolver. A DNS failure
 * is not an error at configuration time (SPEC.md §6.6); every attempt checks again anyway.
 */
export async function checkEndpointAtConfigTime(url: URL, options: ResolvingPolicyOptions): Promise<AddressCheck> {
  const literal = literalAddress(url.hostname)
  if (literal !== null) return checkResolvedAddresses([literal], options)
  const resolve = options.resolve ?? resolveWithSystem
  let resolved: ReadonlyArray<{ address: string }>
  try {
    resolved = await resolve(url.hostname)
  } catch {
    return { ok: true }
  }
  return checkResolvedAddresses(
    resolved.map(({ address }) => address),
    options,
  )
}

/** The error a pinned lookup fails an attempt with; delivery treats it as non-retryable (SPEC.md §6.3). */
export class AddressNotAllowedError extends Error {
  readonly code = 'EADDRNOTALLOWED'
  readonly address: string

  constructor(address: string) {
    super(addressNotAllowedReason(address))
    this.name = 'AddressNotAllowedError'
    this.address = address
  }
}

/**
 * A `dns.lookup`-compatible function for undici's `connect.lookup` and `net.connect`: it resolves,
 * refuses the attempt if ANY address is refused, and otherwise hands back exactly the checked
 * addresses, so the socket can only be pinned to one of them.
 */
export function createPinnedLookup(options: ResolvingPolicyOptions): LookupFunction {
  const resolve = options.resolve ?? resolveWithSystem
  return (hostname, lookupOptions, callback) => {
    resolveChecked(hostname, resolve, options).then(
      (addresses) => {
        const candidates = addressesOfFamily(addresses, lookupOptions.family)
        const [first] = candidates
        if (first === undefined) callback(notFoundError(hostname), [])
        else if (lookupOptions.all === true) callback(null, candidates)
        else callback(null, first.address, first.family)
      },
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), []),
    )
  }
}

async function resolveChecked(
  hostname: string,
  resolve: ResolveHostname,
  options: EndpointPolicyOptions,
): Promise<LookupAddress[]> {
  const literal = literalAddress(hostname)
  const resolved = literal === null ? await resolve(hostname) : [{ address: literal, family: isIP(literal) }]
  const addresses = resolved.map(({ address, family }) => ({ address, family }))
  const check = checkResolvedAddresses(
    addresses.map(({ address }) => address),
    options,
  )
  if (!check.ok) throw new AddressNotAllowedError(check.refused)
  return addresses
}

type LookupFamily = Parameters<LookupFunction>[1]['family']

/** All addresses were checked above; a family request only chooses among them, as `dns.lookup` would. */
function addressesOfFamily(addresses: LookupAddress[], family: LookupFamily): LookupAddress[] {
  const wanted = family === 'IPv4' ? 4 : family === 'IPv6' ? 6 : (family ?? 0)
  return wanted === 0 ? addresses : addresses.filter((address) => address.family === wanted)
}

function notFoundError(hostname: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`no usable address found for ${hostname}`)
  error.code = 'ENOTFOUND'
  return error
}

function resolveWithSystem(hostname: string): Promise<LookupAddress[]> {
  return dnsPromises.lookup(hostname, { all: true })
}
