// Owns the audit event model of SPEC.md §3: the three event types and their exact field types.
// An event here is the unsigned content of one line; its bytes are made by canonical-json.ts.

import type { TraceId } from '../util/u64.js'

export const EVENT_TYPES = ['authentication', 'authorization', 'gateway_access'] as const
export type EventType = (typeof EVENT_TYPES)[number]

export type EventProduct = 'Konnect' | 'Dev-Portal'

/** Members every event carries (SPEC.md §3.2). */
interface CommonFields {
  readonly cef_version: '0'
  readonly event_vendor: 'KongInc'
  readonly event_version: '1.0'
  readonly event_product: EventProduct
  readonly event_class_id: string
  readonly name: string
  /** 0–10, derived by the server (SPEC.md §3.3). */
  readonly severity: number
  /** `YYYY-MM-DDTHH:MM:SSZ`. */
  readonly event_ts: string
  /** Commit time, ms since epoch. */
  readonly rt: number
  readonly src: string
  readonly org_id: string
  readonly principal_id: string
  readonly principal_name?: string
  readonly trace_id: TraceId
  readonly user_agent: string
}

export interface AuthenticationEvent extends CommonFields {
  readonly type: 'authentication'
  readonly request: string
  readonly success: boolean
  readonly portal_id?: string
}

export interface AuthorizationEvent extends CommonFields {
  readonly type: 'authorization'
  readonly action: string
  readonly granted: boolean
  readonly actor_id?: string
  readonly kong_initiated?: 'true'
}

export interface GatewayAccessEvent extends CommonFields {
  readonly type: 'gateway_access'
  readonly request: string
  readonly act: string
  readonly status: number
  /** JSON object text, `"{}"` when there is none. */
  readonly query: string
  readonly kong_initiated?: 'true'
}

/** `type` is metadata (the store keeps it beside the line); it is not a member of the line. */
export type AuditEvent = AuthenticationEvent | AuthorizationEvent | GatewayAccessEvent

/** Members that are integers on the wire; every other member is a string or a boolean. */
export const INTEGER_MEMBERS: ReadonlySet<string> = new Set(['rt', 'severity', 'status', 'trace_id'])
