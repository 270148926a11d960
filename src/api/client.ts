// Owns HTTP to the server (SPEC.md §9.1): undici with a 30 s timeout on the whole exchange, only
// GETs retried (≤ 3, on connection errors, 5xx and 429, Retry-After honoured up to 60 s), a
// User-Agent with the version, any answer but 2xx (a redirect too) turned into ApiError, and
// `--debug` lines and messages that never show a secret.

import type { Dispatcher } from 'undici'
import { request } from 'undici'
import { readCapped } from '../util/read-capped.js'
import { redactedUrl } from '../util/redact-url.js'
import { VERSION } from '../util/version.js'
import { ApiError, NetworkError, problemOf } from './errors.js'

export interface ApiResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly body: Buffer
  json<T>(): T
}

export interface RequestOptions {
  readonly query?: Readonly<Record<string, string | number | undefined>>
  readonly body?: unknown
  readonly headers?: Readonly<Record<string, string>>
}

export interface ApiClientOptions {
  readonly baseUrl: string
  readonly token: string | null
  /** Receives one line per request for `--debug`. */
  readonly debug?: (line: string) => void
  readonly timeoutMs?: number
  readonly sleep?: (ms: number) => Promise<void>
  readonly dispatcher?: Dispatcher
}

const MAX_GET_RETRIES = 3
const MAX_RETRY_AFTER_MS = 60_000
/** More than any answer of the API (a pull page of 1000 lines of 16 KiB is 16 MiB). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024

export const USER_AGENT = `konnect-audit/${VERSION} (node ${process.versions.node}; ${process.platform})`

function retryAfterMs(header: string | string[] | undefined, attempt: number): number {
  const value = Array.isArray(header) ? header[0] : header
  const seconds = value === undefined ? Number.NaN : Number(value)
  const fromHeader = Number.isFinite(seconds) ? seconds * 1000 : value ? Date.parse(value) - Date.now() : Number.NaN
  const backoff = 250 * 2 ** attempt
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Number.isFinite(fromHeader) ? fromHeader : backoff))
}

export class ApiClient {
  private readonly baseUrl: string
  private readonly sleep: (ms: number) => Promise<void>

  constructor(private readonly options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '')
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)))
  }

  get hasToken(): boolean {
    return this.options.token !== null
  }

  url(path: string, query: RequestOptions['query'] = {}): string {
    const params = new URLSearchParams()
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value))
    const search = params.toString()
    return `${this.baseUrl}${path}${search ? (path.includes('?') ? '&' : '?') + search : ''}`
  }

  async send(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse> {
    const retries = method === 'GET' ? MAX_GET_RETRIES : 0
    for (let attempt = 0; ; attempt++) {
      let response: ApiResponse
      try {
        response = await this.attempt(method, path, options)
      } catch (error) {
        if (error instanceof NetworkError && error.retryable && attempt < retries) {
          await this.sleep(retryAfterMs(undefined, attempt))
          continue
        }
        throw error
      }
      const retryable = response.status === 429 || response.status >= 500
      if (retryable && attempt < retries) {
        await this.sleep(retryAfterMs(response.headers['retry-after'], attempt))
        continue
      }
      if (response.status >= 400) {
        throw new ApiError(response.status, problemOf(response.body), `HTTP ${response.status}`)
      }
      if (response.status >= 300) {
        // Redirects are never followed: a token must not travel to wherever the answer points.
        const location = response.headers.location
        const target = typeof location === 'string' ? ` to ${redactedUrl(location)}` : ''
        throw new ApiError(
          response.status,
          null,
          `the server answered with a redirect${target}; use that URL as --server`,
        )
      }
      return response
    }
  }

  private async attempt(method: string, path: string, options: RequestOptions): Promise<ApiResponse> {
    const url = this.url(path, options.query)
    const started = performance.now()
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, accept: 'application/json', ...options.headers }
    if (this.options.token !== null) headers.authorization = `Bearer ${this.options.token}`
    let payload: string | undefined
    if (options.body !== undefined) {
      payload = JSON.stringify(options.body)
      headers['content-type'] = 'application/json'
    }
    const timeoutMs = this.options.timeoutMs ?? 30_000
    // One deadline for the whole exchange: undici's own timeouts restart with every byte.
    const deadline = AbortSignal.timeout(timeoutMs)
    const shownUrl = redactedUrl(url)
    let result: Dispatcher.ResponseData
    let body: Buffer
    try {
      result = await request(url, {
        method: method as Dispatcher.HttpMethod,
        headers,
        ...(payload === undefined ? {} : { body: payload }),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: deadline,
        ...(this.options.dispatcher ? { dispatcher: this.options.dispatcher } : {}),
      })
      body = await readCapped(result.body, MAX_RESPONSE_BYTES, () => new Error('the answer is larger than 64 MiB'))
    } catch (error) {
      const reason = deadline.aborted ? `no complete answer within ${timeoutMs / 1000} s` : (error as Error).message
      this.options.debug?.(
        `${method} ${shownUrl} -> failed after ${(performance.now() - started).toFixed(0)} ms: ${reason}`,
      )
      throw new NetworkError(`cannot reach ${redactedUrl(this.baseUrl)}: ${reason}`, !isCertificateError(error))
    }
    const trace = result.headers['konnect-audit-trace-id']
    this.options.debug?.(
      `${method} ${shownUrl} -> ${result.statusCode} in ${(performance.now() - started).toFixed(0)} ms${trace ? `, trace ${trace}` : ''}`,
    )
    return {
      status: result.statusCode,
      headers: result.headers,
      body,
      json: <T>() => JSON.parse(body.toString('utf8')) as T,
    }
  }
}

/** A server certificate that does not verify: the same answer on every try. */
function isCertificateError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code)
}
