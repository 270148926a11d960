// Owns `webhook set` (SPEC.md §9.5): one v2 PATCH carrying only the fields given, or, with
// --destination, one v3 PATCH that points the webhook at a destination. --endpoint is needed only
// while the webhook is unconfigured; the Authorization value comes from stdin or a masked prompt.
// With --test the resulting configuration is tested first and saved only if the receiver answers 2xx.

import type { ApiClient } from '../../../api/client.js'
import { writeFields, writeJson } from '../../../io/output.js'
import type { OptionsOf } from '../../define-command.js'
import { defineCommand } from '../../define-command.js'
import { UsageError } from '../../errors.js'
import type { Factory } from '../../factory.js'
import { resolveDestination } from '../destinations/list.js'
import { askText, LOG_FORMATS, readAuthorization, SKIP_TLS_FLAGS, skipTlsOf, warnSkipTls } from './endpoint-input.js'
import type { WebhookView } from './get.js'
import { hint, UNCONFIGURED, WEBHOOK_PATH, writeWebhook } from './get.js'
import type { TestCandidate } from './test.js'
import { outcomeText, sendWebhookTest, testFailed, writeTestResult } from './test.js'

export const definition = defineCommand({
  name: 'webhook set',
  summary: 'Configure the webhook: endpoint, format, Authorization, TLS check, or a destination',
  args: [],
  flags: {
    endpoint: { kind: 'string', placeholder: 'url', help: 'Receiver URL (required while the webhook is unconfigured)' },
    format: { kind: 'enum', choices: LOG_FORMATS, help: 'Log format' },
    authHeaderStdin: { kind: 'boolean', help: 'Read the Authorization header value from stdin (or a masked prompt)' },
    clearAuthHeader: { kind: 'boolean', help: 'Remove the stored Authorization header value' },
    ...SKIP_TLS_FLAGS,
    enable: { kind: 'boolean', help: 'Also enable delivery' },
    test: {
      kind: 'boolean',
      help: 'Send a test event to the resulting configuration first; save only if the receiver answers 2xx',
    },
    destination: {
      kind: 'string',
      placeholder: 'id|name',
      help: 'Deliver to this destination instead of inline settings (v3)',
    },
  },
  examples: [
    'printf %s "$SIEM_AUTH" | konnect-audit webhook set --endpoint https://siem.example.com/konnect --format json --auth-header-stdin --enable',
    'konnect-audit webhook set --format cef',
    'printf %s "$SIEM_AUTH" | konnect-audit webhook set --endpoint https://siem.example.com/konnect --auth-header-stdin --test --enable',
    'konnect-audit webhook set --destination splunk-prod --enable',
  ],
})

type Options = OptionsOf<typeof definition>

/** The v2 PATCH body: only what the flags name (SPEC.md §5.5). */
interface WebhookPatch {
  endpoint?: string
  authorization?: string | null
  enabled?: boolean
  log_format?: string
  skip_ssl_verification?: boolean
}

const V3_WEBHOOK_PATH = '/v3/audit-log-webhook'

const INLINE_FLAGS = [
  ['endpoint', '--endpoint'],
  ['format', '--format'],
  ['authHeaderStdin', '--auth-header-stdin'],
  ['clearAuthHeader', '--clear-auth-header'],
  ['skipTlsVerify', '--[no-]skip-tls-verify'],
  ['noSkipTlsVerify', '--no-skip-tls-verify'],
] as const

function refuseConflictingFlags(options: Options): void {
  if (options.authHeaderStdin === true && options.clearAuthHeader === true) {
    throw new UsageError('--auth-header-stdin and --clear-auth-header cannot be combined')
  }
  if (options.destination === undefined) return
  if (options.test === true) {
    throw new UsageError(
      '--test cannot be combined with --destination: point the webhook at the destination, then run konnect-audit webhook test',
    )
  }
  const inline = INLINE_FLAGS.filter(([key]) => options[key] !== undefined).map(([, flag]) => flag)
  if (inline.length > 0) {
    throw new UsageError(
      `--destination cannot be combined with ${inline.join(', ')}: the destination holds those settings (change them with konnect-audit destinations update)`,
    )
  }
}

/** The fields the flags set, except the endpoint and the authorization, which may need input. */
function flagFields(options: Options): WebhookPatch {
  const skipTls = skipTlsOf(options)
  return {
    ...(options.format === undefined ? {} : { log_format: options.format }),
    ...(skipTls === undefined ? {} : { skip_ssl_verification: skipTls }),
    ...(options.enable === true ? { enabled: true } : {}),
  }
}

/** The current webhook, fetched at most once per run and only when needed. */
type CurrentWebhook = () => Promise<WebhookView>

function currentWebhookOf(api: ApiClient): CurrentWebhook {
  let current: Promise<WebhookView> | null = null
  return () => {
    current ??= api.send('GET', WEBHOOK_PATH).then((response) => response.json<WebhookView>())
    return current
  }
}

const isInline = (webhook: WebhookView) =>
  webhook.endpoint !== UNCONFIGURED && webhook.audit_log_destination_id === undefined

/** --endpoint, or when it is missing and the webhook is unconfigured, one asked for on a terminal. */
async function endpointField(options: Options, f: Factory, currentWebhook: CurrentWebhook): Promise<WebhookPatch> {
  if (options.endpoint !== undefined) return { endpoint: options.endpoint }
  const current = await currentWebhook()
  if (current.endpoint !== UNCONFIGURED || current.audit_log_destination_id !== undefined) return {}
  const endpoint = await askText(f, 'Endpoint URL', 'the webhook is not configured yet, so --endpoint URL is required')
  return { endpoint }
}

async function authorizationField(options: Options, f: Factory): Promise<WebhookPatch> {
  if (options.clearAuthHeader === true) return { authorization: null }
  if (options.authHeaderStdin !== true) return {}
  const authorization = await readAuthorization(f, {
    command: 'webhook set',
    flagGiven: true,
    emptyHint: '; to remove it, use --clear-auth-header',
  })
  return { authorization }
}

/**
 * SPEC.md §9.5: the stored Authorization is never read back, so a candidate that would keep it
 * cannot be tested; the user must give the value again or clear it.
 */
function refuseUntestableAuthorization(options: Options, current: WebhookView): void {
  if (options.authHeaderStdin === true || options.clearAuthHeader === true) return
  if (!isInline(current) || current.authorization_configured !== true) return
  throw new UsageError(
    '--test needs --auth-header-stdin or --clear-auth-header: the webhook has an Authorization value stored, which the server never returns, so the candidate cannot be tested with it',
  )
}

/**
 * The configuration the PATCH would produce (SPEC.md §5.5): the given fields over the current
 * inline settings, or over the defaults when switching to inline. Without --endpoint in
 * destination mode nothing inline changes, so the stored configuration itself is tested (null).
 */
function candidateOf(current: WebhookView, patch: WebhookPatch): TestCandidate | null {
  const inline = isInline(current)
  if (patch.endpoint === undefined && !inline) return null
  return {
    endpoint: patch.endpoint ?? current.endpoint,
    authorization: patch.authorization ?? null,
    log_format: patch.log_format ?? (inline ? current.log_format : 'cef'),
    skip_ssl_verification: patch.skip_ssl_verification ?? (inline ? current.skip_ssl_verification : false),
  }
}

/** Tests the candidate; a failure is printed as data and ends the run (exit 1) before anything is saved. */
async function testBeforeSaving(f: Factory, api: ApiClient, candidate: TestCandidate | null): Promise<void> {
  const result = await sendWebhookTest(api, candidate)
  if (!result.ok) {
    await writeTestResult(f, result)
    throw testFailed(result, ', so nothing was saved')
  }
  if (!f.globals.json && !f.globals.quiet) {
    f.io.err(`Test delivery to ${result.endpoint}: ${outcomeText(result)} in ${result.latency_ms} ms; saving`)
  }
}

async function setInline(options: Options, f: Factory): Promise<void> {
  const api = await f.api()
  const currentWebhook = currentWebhookOf(api)
  if (options.test === true) refuseUntestableAuthorization(options, await currentWebhook())
  const patch: WebhookPatch = {
    ...(await endpointField(options, f, currentWebhook)),
    ...(await authorizationField(options, f)),
    ...flagFields(options),
  }
  if (Object.keys(patch).length === 0) {
    throw new UsageError(
      'nothing to change: give --endpoint, --format, --auth-header-stdin, --clear-auth-header, --[no-]skip-tls-verify or --enable',
    )
  }
  if (patch.skip_ssl_verification === true) warnSkipTls(f, patch.endpoint ?? 'the webhook receiver')
  if (options.test === true) await testBeforeSaving(f, api, candidateOf(await currentWebhook(), patch))
  const webhook = (await api.send('PATCH', WEBHOOK_PATH, { body: patch })).json<WebhookView>()
  await writeWebhook(f, webhook)
  if (!webhook.enabled) hint(f, 'The webhook is disabled: run konnect-audit webhook enable to start delivery')
}

/** GET /v3/audit-log-webhook and its PATCH answer (SPEC.md §5.8). */
interface V3Webhook {
  readonly audit_log_destination_id?: string
  readonly enabled: boolean
}

async function setDestination(reference: string, options: Options, f: Factory): Promise<void> {
  const api = await f.api()
  const { id, name } = await resolveDestination(api, reference)
  const body = { audit_log_destination_id: id, ...(options.enable === true ? { enabled: true } : {}) }
  const webhook = (await api.send('PATCH', V3_WEBHOOK_PATH, { body })).json<V3Webhook>()
  if (f.globals.json) return writeJson(f.io, webhook)
  await writeFields(f.io, [
    ['Destination', name === null ? id : `${name} (${id})`],
    ['Enabled', webhook.enabled ? 'yes' : 'no'],
  ])
  if (!webhook.enabled) hint(f, 'The webhook is disabled: run konnect-audit webhook enable to start delivery')
}

export async function run(options: Options, f: Factory): Promise<void> {
  refuseConflictingFlags(options)
  if (options.destination !== undefined) return setDestination(options.destination, options, f)
  await setInline(options, f)
}
