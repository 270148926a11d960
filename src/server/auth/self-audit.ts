// Owns the events the core records about its own API (SPEC.md §3.4): the authentication and
// authorization decision, committed before a protected handler runs, and the access event of a
// mutating request, written after its response.

import type { FastifyBaseLogger } from 'fastify'
import { severityOf } from '../../core/severity.js'
import type { CommittedEvent, EventDraft } from '../../store/store.js'
import type { TraceId } from '../../util/u64.js'
import type { Permission } from '../routes/define-route.js'
import type { UncommittedEvent } from '../services/event-draft.js'
import { draftOf } from '../services/event-draft.js'
import type { EventWriter } from '../services/event-writer.js'
import type { SignerCache } from '../services/signers.js'
import type { TokenCheck } from './check-token.js'

/** What the core knows about a request when it records events for it. */
export interface RequestFacts {
  readonly traceId: TraceId
  /** Arrival time as `YYYY-MM-DDTHH:MM:SSZ`. */
  readonly arrivalTs: string
  readonly src: string
  readonly userAgent: string
  /** Path without the query. */
  readonly path: string
  readonly method: string
  /** Compact JSON object of the query parameters, keys sorted (SPEC.md §3.4). */
  readonly query: string
}

const OUTCOME_NAMES: Record<TokenCheck['outcome'], string> = {
  success: 'SUCCESS',
  not_found: 'NOT_FOUND',
  expired: 'TOKEN_EXPIRED',
  revoked: 'DISABLED',
  invalid: 'INVALID',
}

const COMMON = { cef_version: '0', event_vendor: 'KongInc', event_version: '1.0', event_product: 'Konnect' } as const

function identity(facts: RequestFacts, orgId: string, principalId: string) {
  return {
    ...COMMON,
    event_ts: facts.arrivalTs,
    src: facts.src,
    org_id: orgId,
    principal_id: principalId,
    trace_id: facts.traceId,
    user_agent: facts.userAgent,
  }
}

export function authenticationEvent(facts: RequestFacts, check: TokenCheck, orgId: string): UncommittedEvent {
  const name = `AUTHENTICATION_OUTCOME_${OUTCOME_NAMES[check.outcome]}`
  const event = {
    ...identity(facts, orgId, check.token?.id ?? ''),
    type: 'authentication' as const,
    event_class_id: check.outcome === 'invalid' ? 'AUTHENTICATION_TYPE_INVALID' : 'AUTHENTICATION_TYPE_PAT',
    name,
    request: facts.path,
    success: check.outcome === 'success',
  }
  return { ...event, severity: severityOf(event) }
}

export function authorizationEvent(
  facts: RequestFacts,
  principalId: string,
  orgId: string,
  permission: Permission,
  granted: boolean,
): UncommittedEvent {
  const event = {
    ...identity(facts, orgId, principalId),
    type: 'authorization' as const,
    event_class_id: 'konnect-audit',
    name: `Authz.${permission.resource}`,
    action: permission.action,
    granted,
  }
  return { ...event, severity: severityOf(event) }
}

export function accessEvent(facts: RequestFacts, principalId: string, orgId: string, status: number): UncommittedEvent {
  const event = {
    ...identity(facts, orgId, principalId),
    type: 'gateway_access' as const,
    event_class_id: 'KongGateway',
    name: 'Ingress',
    act: facts.method,
    status,
    query: facts.query,
    request: facts.path,
  }
  return { ...event, severity: severityOf(event) }
}

/** Commits the core's own events to the right org, or only logs them when there is none. */
export class SelfAudit {
  constructor(
    private readonly writer: EventWriter,
    private readonly signers: SignerCache,
  ) {}

  /**
   * Commits the events in one transaction; a failure propagates (the request then gets 503).
   * Without an org (`--unattributed-events-org none`) they go to the operational log only.
   * Returns what was committed, in the order given (nothing without an org).
   */
  record(orgId: string | null, events: readonly UncommittedEvent[], log: FastifyBaseLogger) {
    return this.commit(orgId, events, log, (org, drafts) => this.writer.append(org, drafts))
  }

  /**
   * Commits the events with the org's next write, or within a few ms: for the access event of a
   * request already answered, which no client waits for. Without an org they are only logged.
   */
  recordSoon(orgId: string | null, events: readonly UncommittedEvent[], log: FastifyBaseLogger) {
    return this.commit(orgId, events, log, (org, drafts) => this.writer.appendSoon(org, drafts))
  }

  private async commit(
    orgId: string | null,
    events: readonly UncommittedEvent[],
    log: FastifyBaseLogger,
    append: (orgId: string, drafts: readonly EventDraft[]) => Promise<CommittedEvent[]>,
  ): Promise<readonly CommittedEvent[]> {
    if (orgId === null) {
      for (const { type, name, src, trace_id } of events)
        log.info({ type, name, src, trace_id }, 'unattributed audit event')
      return []
    }
    const signer = await this.signers.signerFor(orgId)
    return append(
      orgId,
      events.map((event) => draftOf(event, signer)),
    )
  }
}
