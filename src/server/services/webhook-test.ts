// Owns the webhook test (SPEC.md §5.5): picks the candidate or the stored configuration, renders
// the test request's own authorization event (committed before the handler, §3.4) in the chosen
// format, and makes exactly one attempt with no retries. It saves nothing, and leaves the
// delivery status and cursor alone.

import type { Static } from 'typebox'
import type { TestWebhookBody } from '../../contract/webhook.js'
import type { Rule } from '../../core/problem-fields.js'
import type { EndpointSettings, Store } from '../../store/store.js'
import { checkEndpointUrl } from '../outbound/endpoint-policy.js'
import type { AttemptResult, TlsDetails } from '../outbound/sender.js'
import { EndpointSender } from '../outbound/sender.js'
import type { InvalidParameter } from '../problem.js'
import { badRequest } from '../problem.js'
import { renderBatch } from './delivery-lines.js'
import type { Services } from './services.js'
import { endpointSettingsProblems } from './webhook.js'

type Candidate = NonNullable<Static<typeof TestWebhookBody>>

/** What the route knows about the test request itself. */
export interface TestRequest {
  readonly orgId: string
  /** The request's trace id, which its authorization event carries. */
  readonly traceId: string
  /** The sequence of that committed authorization event. */
  readonly authorizationSequence: number | null
}

/** The candidate's unset fields (SPEC.md §5.5): no authorization, cef, TLS verified. */
const CANDIDATE_DEFAULTS = { authorization: null, logFormat: 'cef', skipSslVerification: false } as const

function bodyProblem(field: string, reason: string, rule: Rule): InvalidParameter {
  return { field, rule, reason, source: 'body' }
}

/**
 * The candidate's problems, as PATCH words them: URL rules and the authorization. Address rules
 * are left to the attempt, which reports a refused address as its outcome (code 0).
 */
async function candidateProblems(candidate: Candidate & { endpoint: string }, allowInsecure: boolean) {
  const problems: InvalidParameter[] = []
  if (candidate.endpoint.trim() === '') problems.push(bodyProblem('endpoint', 'cannot be blank', 'required'))
  else {
    const urlCheck = checkEndpointUrl(candidate.endpoint, { allowInsecure })
    if (!urlCheck.ok) problems.push(bodyProblem('endpoint', urlCheck.reason, 'invalid'))
  }
  const authorization = candidate.authorization ?? null
  problems.push(...(await endpointSettingsProblems({ authorization }, allowInsecure)))
  return problems
}

/** The settings to test: the candidate over its defaults, else the stored configuration (even disabled). */
async function settingsUnderTest(
  store: Store,
  orgId: string,
  body: Static<typeof TestWebhookBody>,
  allowInsecure: boolean,
): Promise<EndpointSettings> {
  const candidate = body ?? {}
  const { endpoint } = candidate
  if (endpoint !== undefined) {
    const problems = await candidateProblems({ ...candidate, endpoint }, allowInsecure)
    if (problems.length > 0) throw badRequest(problems)
    return {
      endpoint,
      authorization: candidate.authorization ?? CANDIDATE_DEFAULTS.authorization,
      logFormat: candidate.log_format ?? CANDIDATE_DEFAULTS.logFormat,
      skipSslVerification: candidate.skip_ssl_verification ?? CANDIDATE_DEFAULTS.skipSslVerification,
    }
  }
  const given = Object.keys(candidate)
  if (given.length > 0) {
    throw badRequest([
      bodyProblem(
        'endpoint',
        `is required with ${given.join(', ')}: a candidate is tested only with its endpoint; send no body to test the stored configuration`,
        'required',
      ),
    ])
  }
  const webhook = await store.getWebhook(orgId)
  if (webhook === null) {
    throw badRequest(
      [bodyProblem('endpoint', 'cannot be blank', 'required')],
      'The audit log webhook is not configured: give a candidate endpoint to test',
    )
  }
  return webhook.target.mode === 'inline' ? webhook.target.settings : webhook.target.destination
}

/** The stored line of the test request's authorization event: every line a receiver gets is in the store. */
async function authorizationLine(store: Store, request: TestRequest) {
  const sequence = request.authorizationSequence
  if (sequence === null) throw new Error(`the authorization event of request ${request.traceId} was not committed`)
  const [event] = await store.readEvents({
    orgId: request.orgId,
    afterSequence: sequence - 1,
    throughSequence: sequence,
    limit: 1,
  })
  if (event === undefined) throw new Error(`the authorization event ${sequence} of request ${request.traceId} is gone`)
  return event
}

function tlsView(tls: TlsDetails | null) {
  if (tls === null) return null
  const { certificate } = tls
  return {
    protocol: tls.protocol,
    verified: tls.verified,
    skipped: tls.skipped,
    error: tls.error,
    certificate:
      certificate === null
        ? null
        : {
            subject: certificate.subject,
            issuer: certificate.issuer,
            not_after: certificate.notAfterMs === null ? null : new Date(certificate.notAfterMs).toISOString(),
          },
  }
}

/** `tls` is null for http: the sender records no handshake there. */
function resultView(settings: EndpointSettings, traceId: string, result: AttemptResult) {
  return {
    ok: result.statusCode >= 200 && result.statusCode <= 299,
    endpoint: settings.endpoint,
    log_format: settings.logFormat,
    trace_id: traceId,
    response_code: result.statusCode,
    response_message: result.message,
    latency_ms: Math.round(result.latencyMs),
    tls: tlsView(result.tls),
    error: result.failure === null ? null : result.message,
  }
}

/** POST /v2/audit-log-webhook/test: one attempt, answered with its outcome whatever the receiver said. */
export async function testWebhook(services: Services, request: TestRequest, body: Static<typeof TestWebhookBody>) {
  const { store, signers, config } = services
  const allowInsecure = config.allowInsecureEndpoints
  const settings = await settingsUnderTest(store, request.orgId, body, allowInsecure)
  const event = await authorizationLine(store, request)
  const batch = await renderBatch([event], settings.logFormat, { signers, orgId: request.orgId }, 1)
  const sender = new EndpointSender(
    {
      url: settings.endpoint,
      authorization: settings.authorization,
      skipSslVerification: settings.skipSslVerification,
    },
    { allowInsecure },
  )
  try {
    const result = await sender.send({ orgId: request.orgId, delivery: { kind: 'test' }, body: batch.body })
    return resultView(settings, request.traceId, result)
  } finally {
    await sender.close()
  }
}
