// Owns reading a server URL the user gave (--server, KONNECT_AUDIT_SERVER, a profile): anything but
// an absolute http(s) URL of an origin and an optional path prefix (no query, no fragment) is a
// usage error (exit 2) naming where it came from.

import { UsageError } from './errors.js'

export function parseServerUrl(value: string, from: string): URL {
  let url: URL | null = null
  try {
    url = new URL(value)
  } catch {
    // reported below
  }
  const isBase = url !== null && url.search === '' && url.hash === '' && !/[?#]/.test(value)
  if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:') || !isBase) {
    throw new UsageError(
      `the server URL from ${from} is not an http(s) URL: ${JSON.stringify(value)} (e.g. https://audit.example.com)`,
    )
  }
  return url
}
