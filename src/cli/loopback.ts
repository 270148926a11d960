// Whether a URL's host is this machine, so plain http to it exposes nothing on the network:
// localhost, 127.0.0.0/8, ::1, and 127.0.0.0/8 mapped into IPv6 (`[::ffff:127.0.0.1]`, which the
// URL parser writes as `[::ffff:7f00:1]`).

const IPV4_LOOPBACK = /^127\.\d+\.\d+\.\d+$/
const IPV4_MAPPED = /^::ffff:([0-9a-f]{1,4}):[0-9a-f]{1,4}$/i

export function isLoopbackUrl(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (host === 'localhost' || host === '::1' || IPV4_LOOPBACK.test(host)) return true
  const mapped = IPV4_MAPPED.exec(host)
  return mapped !== null && Number.parseInt(mapped[1] as string, 16) >> 8 === 127
}
