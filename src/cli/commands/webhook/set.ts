// Owns `webhook set` (SPEC.md §9.5): one v2 PATCH carrying only the fields given, or, with
// --destination, one v3 PATCH that points the webhook at a destination. --endpoint is needed only
// while the webhook is unconfigured; the Authorization value comes from stdin or a masked prompt.

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
    destination: {
      kind: 'string',
      placeholder: 'id|name',
      help: 'Deliver to this destination instead of inline settings (v3)',
    },
  },
  examples: [
    'printf %s "$SIEM_AUTH" | konnect-audit webhook set --endpoint https://siem.example.com/konnect --format json --auth-header-stdin --enable',
    'konnect-audit webhook set --format cef',
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

/** --endpoint, or when it is missing and the webhook is unconfigured, one asked for on a terminal. */
async function endpointField(options: Options, f: Factory, api: ApiClient): Promise<WebhookPatch> {
  if (options.endpoint !== undefined) return { endpoint: options.endpoint }
  const current = (await api.send('GET', WEBHOOK_PATH)).json<WebhookView>()
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

async function setInline(options: Options, f: Factory): Promise<void> {
  const api = await f.api()
  const patch: WebhookPatch = {
    ...(await endpointField(options, f, api)),
    ...(await authorizationField(options, f)),
    ...flagFields(options),
  }
  if (Object.keys(patch).length === 0) {
    throw new UsageError(
      'nothing to change: give --endpoint, --format, --auth-header-stdin, --clear-auth-header, --[no-]skip-tls-verify or --enable',
    )
  }
  if (patch.skip_ssl_verification === true) warnSkipTls(f, patch.endpoint ?? 'the webhook receiver')
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
