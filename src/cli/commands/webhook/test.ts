// Owns `webhook test` (SPEC.md §5.5, §9.5): one POST …/test for the stored configuration or a
// candidate given by flags, and how its outcome (response, latency, TLS) is printed. `webhook set
// --test` reuses the request and the printing. Exit 0 only when the receiver answered 2xx.

import { Chalk } from 'chalk'
import type { ApiClient } from '../../../api/client.js'
import { ApiError } from '../../../api/errors.js'
import { relativeTime, writeFields, writeJson } from '../../../io/output.js'
import type { OptionsOf } from '../../define-command.js'
import { defineCommand } from '../../define-command.js'
import { CliError, UsageError } from '../../errors.js'
import type { Factory } from '../../factory.js'
import { LOG_FORMATS, readAuthorization, warnSkipTls } from './endpoint-input.js'

export const definition = defineCommand({
  name: 'webhook test',
  summary: 'Send one signed test event to the webhook (or a candidate endpoint) and report the outcome',
  args: [],
  flags: {
    endpoint: {
      kind: 'string',
      placeholder: 'url',
      help: 'Test this candidate endpoint instead of the stored configuration (nothing is saved)',
    },
    format: { kind: 'enum', choices: LOG_FORMATS, help: "The candidate's log format (default cef; needs --endpoint)" },
    authHeaderStdin: {
      kind: 'boolean',
      help: "Read the candidate's Authorization header value from stdin or a masked prompt (needs --endpoint)",
    },
    skipTlsVerify: {
      kind: 'boolean',
      help: "Do not verify the candidate's TLS certificate (insecure; warns; needs --endpoint)",
    },
  },
  examples: [
    'konnect-audit webhook test',
    'printf %s "$SIEM_AUTH" | konnect-audit webhook test --endpoint https://siem.example.com/konnect --format json --auth-header-stdin',
    'konnect-audit webhook test --json',
  ],
})

type Options = OptionsOf<typeof definition>

export const TEST_PATH = '/v2/audit-log-webhook/test'

/** A candidate to test (SPEC.md §5.5); unset fields are no Authorization, cef, TLS verified. */
export interface TestCandidate {
  readonly endpoint: string
  readonly authorization?: string | null
  readonly log_format?: string
  readonly skip_ssl_verification?: boolean
}

/** The body of POST /v2/audit-log-webhook/test (SPEC.md §5.5). */
export interface WebhookTestResult {
  readonly ok: boolean
  readonly endpoint: string
  readonly log_format: string
  readonly trace_id: string
  readonly response_code: number
  readonly response_message: string
  readonly latency_ms: number
  readonly tls: {
    readonly protocol: string | null
    readonly verified: boolean
    readonly skipped: boolean
    readonly error: string | null
    readonly certificate: {
      readonly subject: string
      readonly issuer: string
      readonly not_after: string | null
    } | null
  } | null
  readonly error: string | null
}

/** One test attempt: the candidate's, or the stored configuration's when there is none. Konnect lacks the route. */
export async function sendWebhookTest(api: ApiClient, candidate: TestCandidate | null): Promise<WebhookTestResult> {
  try {
    const response = await api.send('POST', TEST_PATH, candidate === null ? {} : { body: candidate })
    return response.json<WebhookTestResult>()
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      throw new CliError(
        `not supported by this server: it has no POST ${TEST_PATH} (only a konnect-audit server can test a webhook)`,
      )
    }
    throw error
  }
}

/** What the receiver answered, or why nothing was answered. */
export function outcomeText(result: WebhookTestResult): string {
  if (result.response_code === 0) return result.error ?? result.response_message
  return `HTTP ${result.response_code}${result.response_message === '' ? '' : ` ${result.response_message}`}`
}

function tlsText(result: WebhookTestResult): string {
  const { tls } = result
  if (tls === null) {
    return result.endpoint.toLowerCase().startsWith('https:')
      ? 'no handshake (the attempt ended before TLS)'
      : 'none (http)'
  }
  if (tls.protocol === null) return `handshake failed: ${tls.error ?? 'unknown error'}`
  if (tls.verified) return `${tls.protocol}, certificate verified`
  const why = tls.error === null ? '' : ` (${tls.error})`
  return tls.skipped
    ? `${tls.protocol}, verification skipped; the certificate is not trusted${why}`
    : `${tls.protocol}, certificate refused${why}`
}

function certificateText(result: WebhookTestResult, f: Factory): string | null {
  const certificate = result.tls?.certificate
  if (certificate === undefined || certificate === null) return null
  const notAfter = certificate.not_after
  const expiry =
    notAfter === null ? '' : `, expires ${f.io.stdoutIsTTY ? relativeTime(notAfter, Date.now()) : notAfter}`
  return `${certificate.subject}, issued by ${certificate.issuer}${expiry}`
}

/** The body unchanged with --json; else one field per line (outcome, latency, TLS). */
export async function writeTestResult(f: Factory, result: WebhookTestResult): Promise<void> {
  if (f.globals.json) return writeJson(f.io, result)
  const chalk = new Chalk({ level: f.io.stdoutIsTTY && f.globals.color ? 1 : 0 })
  const certificate = certificateText(result, f)
  await writeFields(f.io, [
    ['Result', result.ok ? chalk.green('ok') : chalk.red('failed')],
    ['Endpoint', result.endpoint],
    ['Format', result.log_format],
    ['Response', outcomeText(result)],
    ['Latency', `${result.latency_ms} ms`],
    ['TLS', tlsText(result)],
    ...(certificate === null ? [] : [['Certificate', certificate] as const]),
    ['Trace', result.trace_id],
  ])
}

/** The exit-1 error of a failed test; `consequence` says what did not happen because of it. */
export function testFailed(result: WebhookTestResult, consequence = ''): CliError {
  return new CliError(`the test delivery to ${result.endpoint} failed: ${outcomeText(result)}${consequence}`)
}

const CANDIDATE_FLAGS = [
  ['format', '--format'],
  ['authHeaderStdin', '--auth-header-stdin'],
  ['skipTlsVerify', '--skip-tls-verify'],
] as const

async function candidateOf(options: Options, f: Factory): Promise<TestCandidate | null> {
  if (options.endpoint === undefined) {
    const given = CANDIDATE_FLAGS.filter(([key]) => options[key] !== undefined).map(([, flag]) => flag)
    if (given.length > 0) {
      throw new UsageError(
        `${given.join(', ')} describe a candidate: give --endpoint URL too, or leave them out to test the stored configuration`,
      )
    }
    return null
  }
  const authorization =
    options.authHeaderStdin === true
      ? await readAuthorization(f, { command: 'webhook test', flagGiven: true })
      : undefined
  if (options.skipTlsVerify === true) warnSkipTls(f, options.endpoint)
  return {
    endpoint: options.endpoint,
    ...(authorization === undefined ? {} : { authorization }),
    ...(options.format === undefined ? {} : { log_format: options.format }),
    ...(options.skipTlsVerify === true ? { skip_ssl_verification: true } : {}),
  }
}

export async function run(options: Options, f: Factory): Promise<void> {
  const candidate = await candidateOf(options, f)
  const api = await f.api()
  const result = await sendWebhookTest(api, candidate)
  await writeTestResult(f, result)
  if (!result.ok) throw testFailed(result)
}
