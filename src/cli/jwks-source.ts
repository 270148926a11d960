// Owns getting JWKS text for verification: a local file, an https URL (http only for loopback),
// or the server's own /v2/audit-log-webhook/jwks.json. At most 1 MiB, fetched once, 30 s budget.

import { createReadStream } from 'node:fs'
import { request } from 'undici'
import { readCapped } from '../util/read-capped.js'
import { redactedUrl } from '../util/redact-url.js'
import { CliError, UsageError } from './errors.js'
import { isLoopbackUrl } from './loopback.js'
import { parseServerUrl } from './server-url.js'

export type JwksSource = 'file' | 'url' | 'network'

export interface LoadedJwks {
  readonly text: string
  readonly source: JwksSource
}

const MAX_JWKS_BYTES = 1024 * 1024
const FETCH_TIMEOUT_MS = 30_000

async function readJwksText(chunks: AsyncIterable<Uint8Array>, what: string): Promise<string> {
  const tooLarge = () => new CliError(`${what} is larger than 1 MiB; is it really a JWKS?`)
  return (await readCapped(chunks, MAX_JWKS_BYTES, tooLarge)).toString('utf8')
}

async function fetchJwks(url: URL, token: string | undefined): Promise<string> {
  try {
    const response = await request(url, {
      method: 'GET',
      headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    })
    if (response.statusCode < 200 || response.statusCode > 299) {
      await response.body.dump()
      throw new CliError(`fetching the JWKS from ${redactedUrl(url.href)} failed: HTTP ${response.statusCode}`)
    }
    return await readJwksText(response.body, `the JWKS at ${redactedUrl(url.href)}`)
  } catch (error) {
    if (error instanceof CliError) throw error
    const reason = !(error instanceof Error)
      ? String(error)
      : error.name === 'TimeoutError'
        ? 'timed out after 30s'
        : error.message
    throw new CliError(`fetching the JWKS from ${redactedUrl(url.href)} failed: ${reason}`)
  }
}

/**
 * Whether the server answers 401 to this token. The JWKS route ignores a bad token (it never
 * answers 401), so without this check a stale token would silently select the default org.
 */
async function isRejected(base: string, token: string): Promise<boolean> {
  try {
    const response = await request(`${base}/v1/whoami`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    })
    await response.body.dump()
    return response.statusCode === 401
  } catch {
    return false
  }
}

/** Where the JWKS of the server comes from when no --jwks is given (SPEC.md §9.7). */
export interface ServerTarget {
  readonly server: string | undefined
  readonly token: string | undefined
  warn(message: string): void
}

export async function loadJwks(jwks: string | undefined, target: ServerTarget): Promise<LoadedJwks> {
  if (jwks === undefined) {
    if (!target.server) {
      throw new UsageError('no keys to verify with: pass --jwks FILE|URL, or --server URL to use that server JWKS')
    }
    if (!target.token) target.warn('Warning: no token set, so the JWKS is fetched anonymously (the default org keys)')
    const base = parseServerUrl(target.server, 'the server setting').href.replace(/\/+$/, '')
    const url = new URL(`${base}/v2/audit-log-webhook/jwks.json`)
    const text = await fetchJwks(url, target.token)
    if (target.token && (await isRejected(base, target.token))) {
      target.warn('Warning: the server rejects this token, so the JWKS came back anonymously (the default org keys)')
    }
    return { text, source: 'network' }
  }
  if (/^https?:\/\//i.test(jwks)) {
    const url = new URL(jwks)
    if (url.protocol === 'http:' && !isLoopbackUrl(url)) {
      throw new UsageError(
        `--jwks ${redactedUrl(jwks)} uses http; use https (http is allowed only for loopback addresses)`,
      )
    }
    return { text: await fetchJwks(url, undefined), source: 'url' }
  }
  try {
    return { text: await readJwksText(createReadStream(jwks), `JWKS file ${jwks}`), source: 'file' }
  } catch (error) {
    if (error instanceof CliError) throw error
    throw new CliError(`cannot read JWKS file ${jwks}: ${(error as Error).message}`)
  }
}
