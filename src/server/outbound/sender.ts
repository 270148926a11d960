// Owns one outbound HTTP attempt to a webhook endpoint (SPEC.md §6.1, §6.2, §6.6), shared by live
// delivery, replay and the webhook test: URL and address policy, pinned DNS, TLS ≥ 1.2 verified
// unless skipped, the gzip body and headers, one time budget, at most 4 KiB of the answer read.
// It never retries, follows redirects or uses a proxy; deciding what an answer means is the caller's.

import { STATUS_CODES } from 'node:http'
import type { Certificate } from 'node:tls'
import { TLSSocket } from 'node:tls'
import { promisify } from 'node:util'
import { gzip } from 'node:zlib'
import { Agent, buildConnector } from 'undici'
import { VERSION } from '../../util/version.js'
import type { ResolveHostname } from './endpoint-policy.js'
import {
  AddressNotAllowedError,
  addressNotAllowedReason,
  checkEndpointUrl,
  checkLiteralHost,
  createPinnedLookup,
} from './endpoint-policy.js'

/** SPEC.md §6.2: DNS, connect, TLS, request and response headers together. */
const ATTEMPT_TIMEOUT_MS = 15_000
const MAX_RESPONSE_BODY_BYTES = 4096
const MAX_MESSAGE_BYTES = 256

const gzipAsync = promisify(gzip)

/** What kind of request this is (`Konnect-Audit-Delivery`); only live batches carry their sequence range. */
export type Delivery =
  | { readonly kind: 'live'; readonly firstSequence: number; readonly lastSequence: number }
  | { readonly kind: 'replay' }
  | { readonly kind: 'test' }

export interface OutboundBatch {
  readonly orgId: string
  readonly delivery: Delivery
  /** The uncompressed lines, each ending "\n"; the sender gzips them. */
  readonly body: Buffer
}

/** Where to send: an inline webhook's or a destination's settings, or a candidate under test. */
export interface SenderEndpoint {
  readonly url: string
  /** Sent verbatim as the Authorization header; null sends none. */
  readonly authorization: string | null
  readonly skipSslVerification: boolean
}

export interface SenderOptions {
  /** `serve --allow-insecure-endpoints`: http and loopback/private addresses are allowed. */
  readonly allowInsecure: boolean
  /** Replaces the system resolver; tests of refused addresses must stub it (SPEC.md §6.6). */
  readonly resolve?: ResolveHostname
  /** The attempt's budget; tests shorten it instead of waiting 15 s. */
  readonly timeoutMs?: number
}

/** Why an attempt got no HTTP status; `policy` is an address or URL refusal, `cancelled` the caller's abort. */
export type AttemptFailure = 'policy' | 'dns' | 'tls' | 'connection' | 'timeout' | 'cancelled'

export interface CertificateSummary {
  /** RFC 4514 order, e.g. `CN=siem.example.com`. */
  readonly subject: string
  readonly issuer: string
  readonly notAfterMs: number | null
}

/** The TLS side of the connection an attempt used (the webhook test reports it, SPEC.md §5.5). */
export interface TlsDetails {
  /** e.g. `TLSv1.3`; null when the handshake failed. */
  readonly protocol: string | null
  /** The certificate chain and hostname verified (also computed when verification is skipped). */
  readonly verified: boolean
  readonly skipped: boolean
  /** Why the handshake or verification failed; null when it did not. */
  readonly error: string | null
  readonly certificate: CertificateSummary | null
}

export interface AttemptResult {
  /** The HTTP status, or 0 when no response arrived (see `failure`). */
  readonly statusCode: number
  /** The reason phrase, else the first 256 B of the body; or what went wrong, e.g. `timeout after 15s`. */
  readonly message: string
  /** Null when an HTTP status arrived. */
  readonly failure: AttemptFailure | null
  /** The Retry-After header as received. */
  readonly retryAfter: string | null
  /** From sending the request to the response headers (or the failure). */
  readonly latencyMs: number
  /** Null for http, and when no TLS handshake was attempted. */
  readonly tls: TlsDetails | null
}

/** A certificate that failed verification, turned into a connect error so nothing is sent over it. */
class TlsVerificationError extends Error {
  override readonly name = 'TlsVerificationError'
}

/**
 * Sends batches to one endpoint over at most one connection, kept alive between attempts (its
 * address was checked when it was opened). Make one per target and close it when the target
 * changes or delivery stops; a single attempt (the webhook test) makes one, sends, and closes.
 */
export class EndpointSender {
  private readonly agent: Agent
  private readonly timeoutMs: number
  /** The last handshake's details; with one connection, those of the connection in use. */
  private tls: TlsDetails | null = null

  constructor(
    private readonly endpoint: SenderEndpoint,
    private readonly options: SenderOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? ATTEMPT_TIMEOUT_MS
    // No redirect interceptor and no proxy: a plain Agent follows neither (SPEC.md §6.2, §6.6).
    this.agent = new Agent({
      connect: this.connector(),
      connections: 1,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    })
  }

  /** One attempt; never throws: every outcome is an AttemptResult. */
  async send(batch: OutboundBatch, signal?: AbortSignal): Promise<AttemptResult> {
    const checked = this.checkPolicy()
    if (!checked.ok) return noResponse('policy', checked.reason, 0, null)
    const body = await gzipAsync(batch.body)
    const budget = AbortSignal.timeout(this.timeoutMs)
    const startedMs = performance.now()
    try {
      const response = await this.agent.request({
        origin: checked.url.origin,
        path: `${checked.url.pathname}${checked.url.search}`,
        method: 'POST',
        headers: this.headersOf(batch),
        body,
        signal: signal === undefined ? budget : AbortSignal.any([budget, signal]),
      })
      const latencyMs = performance.now() - startedMs
      const head = await readHead(response.body)
      return {
        statusCode: response.statusCode,
        message: responseMessage(response.statusCode, response.statusText, head),
        failure: null,
        retryAfter: firstHeader(response.headers['retry-after']),
        latencyMs,
        tls: this.tls,
      }
    } catch (error) {
      const latencyMs = performance.now() - startedMs
      if (signal?.aborted === true) return noResponse('cancelled', 'cancelled before an answer', latencyMs, this.tls)
      if (budget.aborted) return noResponse('timeout', `timeout after ${this.timeoutMs / 1000}s`, latencyMs, this.tls)
      const { failure, message } = describeError(error)
      return noResponse(failure, message, latencyMs, this.tls)
    }
  }

  /** Drops the connection at once, abandoning any attempt in flight. */
  close(): Promise<void> {
    return this.agent.destroy()
  }

  /**
   * URL rules again (the server may have restarted without --allow-insecure-endpoints), then IP
   * literals, which Node connects to without ever calling the pinned lookup.
   */
  private checkPolicy(): { ok: true; url: URL } | { ok: false; reason: string } {
    const policy = { allowInsecure: this.options.allowInsecure }
    const urlCheck = checkEndpointUrl(this.endpoint.url, policy)
    if (!urlCheck.ok) return { ok: false, reason: `endpoint ${urlCheck.reason}` }
    const literal = checkLiteralHost(urlCheck.url, policy)
    if (!literal.ok) return { ok: false, reason: addressNotAllowedReason(literal.refused) }
    return { ok: true, url: urlCheck.url }
  }

  private headersOf(batch: OutboundBatch): Record<string, string> {
    const { delivery } = batch
    const { authorization } = this.endpoint
    return {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Encoding': 'gzip',
      'User-Agent': `konnect-audit/${VERSION}`,
      'Konnect-Audit-Org-Id': batch.orgId,
      'Konnect-Audit-Delivery': delivery.kind,
      ...(delivery.kind === 'live'
        ? { 'Konnect-Audit-Sequence-Range': `${delivery.firstSequence}-${delivery.lastSequence}` }
        : {}),
      ...(authorization === null ? {} : { Authorization: authorization }),
    }
  }

  /**
   * undici's connector with the pinned lookup, TLS ≥ 1.2 and the system CAs (Node adds
   * NODE_EXTRA_CA_CERTS to them). Verification runs here rather than through rejectUnauthorized,
   * so a refused certificate can still be described; no request is written before it passes.
   */
  private connector(): buildConnector.connector {
    const connect = buildConnector({
      lookup: createPinnedLookup({
        allowInsecure: this.options.allowInsecure,
        ...(this.options.resolve === undefined ? {} : { resolve: this.options.resolve }),
      }),
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      timeout: this.timeoutMs,
    })
    const skipped = this.endpoint.skipSslVerification
    return (connectOptions, callback) => {
      this.tls = null
      connect(connectOptions, (error, socket) => {
        if (error !== null) {
          if (connectOptions.protocol === 'https:' && isTlsError(error)) this.tls = failedHandshake(error, skipped)
          callback(error, null)
          return
        }
        const refusal = socket instanceof TLSSocket ? this.checkTls(socket, skipped) : null
        if (refusal === null) callback(null, socket)
        else {
          socket.destroy()
          callback(refusal, null)
        }
      })
    }
  }

  private checkTls(socket: TLSSocket, skipped: boolean): TlsVerificationError | null {
    const verificationError = socket.authorized
      ? null
      : `certificate not verified (${String(socket.authorizationError)})`
    this.tls = {
      protocol: socket.getProtocol(),
      verified: socket.authorized,
      skipped,
      error: verificationError,
      certificate: certificateOf(socket),
    }
    return verificationError !== null && !skipped ? new TlsVerificationError(verificationError) : null
  }
}

function noResponse(
  failure: AttemptFailure,
  message: string,
  latencyMs: number,
  tls: TlsDetails | null,
): AttemptResult {
  return { statusCode: 0, message, failure, retryAfter: null, latencyMs, tls }
}

/** At most 4 KiB of the body; a reset or the budget running out mid-body keeps what arrived. */
async function readHead(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = []
  let bytes = 0
  try {
    // Leaving the loop early destroys the stream, so the rest is never read.
    for await (const chunk of body) {
      chunks.push(chunk)
      bytes += chunk.length
      if (bytes >= MAX_RESPONSE_BODY_BYTES) break
    }
  } catch {
    // The status line and headers already arrived; they decide the outcome.
  }
  return Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BODY_BYTES)
}

/** SPEC.md §5.5: the reason phrase, else the first 256 B of the body, else the standard phrase. */
function responseMessage(statusCode: number, reasonPhrase: string, head: Buffer): string {
  if (reasonPhrase.trim() !== '') return reasonPhrase.trim()
  const text = head.subarray(0, MAX_MESSAGE_BYTES).toString('utf8').trim()
  return text !== '' ? text : (STATUS_CODES[statusCode] ?? `HTTP ${statusCode}`)
}

function firstHeader(value: string | string[] | undefined): string | null {
  if (value === undefined) return null
  return typeof value === 'string' ? value : (value[0] ?? null)
}

type ErrorWithCode = Error & { code?: unknown }

/** The innermost cause: undici wraps some socket errors, and the pinned lookup's refusal matters most. */
function rootCause(error: unknown): ErrorWithCode {
  let current: unknown = error
  while (current instanceof Error && current.cause instanceof Error) current = current.cause
  return current instanceof Error ? current : new Error(String(current))
}

const DNS_ERROR_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME'])
const TIMEOUT_ERROR_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'ETIMEDOUT'])

function describeError(error: unknown): { failure: AttemptFailure; message: string } {
  const cause = rootCause(error)
  const code = typeof cause.code === 'string' ? cause.code : ''
  if (cause instanceof AddressNotAllowedError) return { failure: 'policy', message: cause.message }
  if (cause instanceof TlsVerificationError) return { failure: 'tls', message: `TLS error: ${cause.message}` }
  if (DNS_ERROR_CODES.has(code)) return { failure: 'dns', message: `DNS error: ${cause.message}` }
  if (TIMEOUT_ERROR_CODES.has(code)) return { failure: 'timeout', message: `timeout: ${cause.message}` }
  if (isTlsError(cause)) return { failure: 'tls', message: `TLS error: ${opensslReason(cause)}` }
  return { failure: 'connection', message: `connection error: ${cause.message}` }
}

function isTlsError(error: Error): boolean {
  const { code } = rootCause(error)
  return (
    error instanceof TlsVerificationError || (typeof code === 'string' && /^(ERR_SSL_|ERR_TLS_|EPROTO$)/.test(code))
  )
}

function failedHandshake(error: Error, skipped: boolean): TlsDetails {
  return { protocol: null, verified: false, skipped, error: opensslReason(rootCause(error)), certificate: null }
}

/** OpenSSL's short reason and code (`wrong version number (ERR_SSL_WRONG_VERSION_NUMBER)`), not its error stack. */
function opensslReason(error: ErrorWithCode & { reason?: unknown }): string {
  const reason = typeof error.reason === 'string' ? error.reason : (error.message.split('\n')[0] ?? '')
  return typeof error.code === 'string' ? `${reason} (${error.code})` : reason
}

function certificateOf(socket: TLSSocket): CertificateSummary | null {
  const certificate = socket.getPeerCertificate()
  if (certificate === null || Object.keys(certificate).length === 0) return null
  const notAfterMs = Date.parse(certificate.valid_to)
  return {
    subject: distinguishedName(certificate.subject),
    issuer: distinguishedName(certificate.issuer),
    notAfterMs: Number.isNaN(notAfterMs) ? null : notAfterMs,
  }
}

/** RFC 4514: the most specific RDN first, `,` between them, special characters escaped. */
function distinguishedName(name: Certificate | undefined): string {
  if (name === undefined) return ''
  return Object.entries(name)
    .reverse()
    .flatMap(([type, value]) =>
      value === undefined ? [] : [`${type}=${[value].flat().map(escapeRdnValue).join('+')}`],
    )
    .join(',')
}

function escapeRdnValue(value: string): string {
  return value.replace(/[,+"\\<>;]/g, (character) => `\\${character}`).replace(/^[ #]| $/g, (edge) => `\\${edge}`)
}
