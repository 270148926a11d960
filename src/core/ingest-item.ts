// Owns the validation of one ingest item (SPEC.md §3.5): either an event draft the server completes
// with org_id, trace_id and rt, or every invalid_parameters entry the item earns (at most one per
// property). Pure: the time comes in through the context, never from a clock.

import { formatUtcSeconds, parseRfc3339Ms } from '../util/rfc3339.js'
import type { TraceId } from '../util/u64.js'
import { parseTraceId } from '../util/u64.js'
import { appendSig, unsignedJsonLine } from './canonical-json.js'
import type { AuditEvent, AuthenticationEvent, EventProduct, EventType } from './events.js'
import { EVENT_TYPES } from './events.js'
import type { InvalidParameter, Rule } from './problem-fields.js'
import { AUTHENTICATION_NAME_PREFIX, AUTHENTICATION_OUTCOMES, severityOf } from './severity.js'

/** The `<T>` of `AUTHENTICATION_TYPE_<T>` (SPEC.md §3.1); the `<O>` list is AUTHENTICATION_OUTCOMES. */
export const AUTHENTICATION_TYPES = [
  'INVALID',
  'BASIC',
  'SSO',
  'PAT',
  'SPAT',
  'GOOGLE',
  'GITHUB',
  'WINDOWSLIVE',
  'FEDERATED',
] as const
export const AUTHENTICATION_EVENT_CLASS_IDS: readonly string[] = AUTHENTICATION_TYPES.map(
  (type) => `AUTHENTICATION_TYPE_${type}`,
)
export const AUTHENTICATION_NAMES: readonly string[] = AUTHENTICATION_OUTCOMES.map(
  (outcome) => `${AUTHENTICATION_NAME_PREFIX}${outcome}`,
)
const EVENT_PRODUCTS: readonly EventProduct[] = ['Konnect', 'Dev-Portal']

const MAX_SIGNED_LINE_BYTES = 16 * 1024
const FUTURE_TOLERANCE_MS = 5 * 60_000
const RESERVED_AUTHORIZATION_CLASS_ID = 'konnect-audit'
// The size check assumes the longest values the server can assign (SPEC.md §3.5: "would produce").
const LONGEST_TRACE_ID = parseTraceId('18446744073709551615')
const LONGEST_RT_MS = 9_999_999_999_999
const SIG_PLACEHOLDER = 'A'.repeat(86)

/** Assigned once per item by the server and rejected on input, whatever their value. */
const SERVER_ONLY_PROPERTIES = ['org_id', 'trace_id', 'rt', 'sig'] as const
const COMMON_PROPERTIES = [
  'type',
  'trace_ref',
  'event_ts',
  'event_product',
  'src',
  'principal_id',
  'principal_name',
  'user_agent',
  'event_class_id',
  'name',
  'cef_version',
  'event_vendor',
  'event_version',
  'severity',
  ...SERVER_ONLY_PROPERTIES,
]
const KNOWN_PROPERTIES: Readonly<Record<EventType, ReadonlySet<string>>> = {
  authentication: new Set([...COMMON_PROPERTIES, 'request', 'success', 'portal_id']),
  authorization: new Set([...COMMON_PROPERTIES, 'action', 'granted', 'actor_id', 'kong_initiated']),
  gateway_access: new Set([...COMMON_PROPERTIES, 'request', 'act', 'status', 'query', 'kong_initiated']),
}

type ServerAssigned = 'org_id' | 'trace_id' | 'rt'
type DraftOf<E> = E extends AuditEvent ? Omit<E, ServerAssigned> : never
/** An event complete but for the members the server assigns at commit. */
export type IngestEventDraft = DraftOf<AuditEvent>
type CommonDraft = Pick<
  AuthenticationEvent,
  | 'cef_version'
  | 'event_vendor'
  | 'event_version'
  | 'event_product'
  | 'event_ts'
  | 'src'
  | 'principal_id'
  | 'principal_name'
  | 'user_agent'
>

export interface ValidIngestItem {
  readonly type: EventType
  /** Items of one request with equal trace_ref share one trace_id (SPEC.md §3.5). */
  readonly traceRef?: string
  readonly draft: IngestEventDraft
}

export interface IngestContext {
  /** The org the items are stored in; part of the line whose size is checked. */
  readonly orgId: string
  readonly nowMs: number
  readonly retentionMs: number
  /** Arrival time as `YYYY-MM-DDTHH:MM:SSZ`, the default `event_ts`. */
  readonly arrivalTs: string
}

export type IngestItemResult =
  | { readonly ok: true; readonly item: ValidIngestItem }
  | { readonly ok: false; readonly problems: InvalidParameter[] }

export interface AssignedMembers {
  readonly orgId: string
  readonly traceId: TraceId
  readonly rt: number
}

interface TextRule {
  readonly required?: boolean
  readonly minBytes?: number
  readonly maxBytes?: number
  /** LF and CR are allowed except in event_product, event_class_id and name. */
  readonly lineBreaks?: boolean
  readonly pattern?: { readonly regex: RegExp; readonly reason: string }
}

const TRACE_REF_RULE: TextRule = { minBytes: 1, maxBytes: 128 }
const PRINCIPAL_ID_RULE: TextRule = { required: true, maxBytes: 256 }
const DISPLAY_NAME_RULE: TextRule = { minBytes: 1, maxBytes: 256 }
const USER_AGENT_RULE: TextRule = { maxBytes: 1024 }
const REQUEST_RULE: TextRule = { required: true, minBytes: 1, maxBytes: 2048 }
const QUERY_RULE: TextRule = { maxBytes: 4096 }
const AUTHORIZATION_CLASS_ID_RULE: TextRule = {
  required: true,
  lineBreaks: false,
  pattern: {
    regex: /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    reason: 'must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
  },
}
const AUTHORIZATION_NAME_RULE: TextRule = {
  required: true,
  lineBreaks: false,
  pattern: {
    regex: /^Authz\.[\x21-\x7E]{1,200}$/,
    reason: 'must be "Authz." followed by 1 to 200 printable ASCII characters other than space',
  },
}
const ACTION_RULE: TextRule = {
  required: true,
  pattern: { regex: /^[A-Za-z0-9_.-]{1,64}$/, reason: 'must match ^[A-Za-z0-9_.-]{1,64}$' },
}
const ACT_RULE: TextRule = {
  required: true,
  pattern: { regex: /^[A-Z]{1,16}$/, reason: 'must match ^[A-Z]{1,16}$' },
}
const UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/
const IPV4 = /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/

/** U+0000–U+0008, U+000B, U+000C, U+000E–U+001F and U+007F: forbidden in every string (SPEC.md §3.5). */
export function isForbiddenControl(codePoint: number): boolean {
  if (codePoint <= 0x1f) return codePoint !== 0x09 && codePoint !== 0x0a && codePoint !== 0x0d
  return codePoint === 0x7f
}

function codePointLabel(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`
}

const isHighSurrogate = (unit: number) => unit >= 0xd800 && unit <= 0xdbff
const isLowSurrogate = (unit: number) => unit >= 0xdc00 && unit <= 0xdfff

/** Why `text` may not be stored, or null when it may. */
function forbiddenCharacterIn(text: string, lineBreaksAllowed: boolean): string | null {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (isForbiddenControl(unit)) return `must not contain the control character ${codePointLabel(unit)}`
    if (!lineBreaksAllowed && (unit === 0x0a || unit === 0x0d)) {
      return `must not contain a line break (${codePointLabel(unit)})`
    }
    if (isHighSurrogate(unit) && isLowSurrogate(text.charCodeAt(i + 1))) i++
    else if (isHighSurrogate(unit) || isLowSurrogate(unit)) return 'must not contain an unpaired surrogate'
  }
  return null
}

function ipv4Words(dotted: string): [number, number] {
  const [a = 0, b = 0, c = 0, d = 0] = dotted.split('.').map(Number)
  return [(a << 8) | b, (c << 8) | d]
}

function hexGroups(text: string): number[] | null {
  if (text === '') return []
  const groups = text.split(':')
  return groups.every((group) => HEX_GROUP.test(group)) ? groups.map((group) => Number.parseInt(group, 16)) : null
}

/** The eight 16-bit words of an IPv6 literal (an embedded dotted IPv4 tail allowed), or null. */
function ipv6Words(text: string): number[] | null {
  const tailStart = text.lastIndexOf(':') + 1
  const tail = text.slice(tailStart)
  let hexText = text
  if (tail.includes('.')) {
    if (tailStart === 0 || !IPV4.test(tail)) return null
    hexText = `${text.slice(0, tailStart)}${ipv4Words(tail)
      .map((word) => word.toString(16))
      .join(':')}`
  }
  const halves = hexText.split('::')
  const head = hexGroups(halves[0] ?? '')
  if (halves.length === 1) return head?.length === 8 ? head : null
  const rest = hexGroups(halves[1] ?? '')
  if (halves.length > 2 || head === null || rest === null || head.length + rest.length > 7) return null
  return [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest]
}

/** The first longest run of zero words (RFC 5952 §4.2.3 breaks ties by taking the first). */
function longestZeroRun(words: readonly number[]): { start: number; length: number } {
  let longest = { start: 0, length: 0 }
  let start = 0
  while (start < words.length) {
    let length = 0
    while (words[start + length] === 0) length++
    if (length > longest.length) longest = { start, length }
    start += length + 1
  }
  return longest
}

/** RFC 5952: lowercase, no leading zeros, and `::` only for a run of two or more zero words. */
function formatIpv6(words: readonly number[]): string {
  const hex = words.map((word) => word.toString(16))
  const run = longestZeroRun(words)
  if (run.length < 2) return hex.join(':')
  return `${hex.slice(0, run.start).join(':')}::${hex.slice(run.start + run.length).join(':')}`
}

/**
 * The stored form of an IP literal (SPEC.md §3.5), or null when `text` is none: IPv4 dotted quad
 * (no leading zeros), RFC 5952 IPv6, and IPv4-mapped IPv6 (`::ffff:a.b.c.d`) as dotted IPv4.
 * A zone id (`fe80::1%eth0`) is not an address here: its `%` fails the grammar.
 */
export function canonicalIpAddress(text: string): string | null {
  if (IPV4.test(text)) return text
  const words = ipv6Words(text)
  if (words === null) return null
  const [w0, w1, w2, w3, w4, w5, w6 = 0, w7 = 0] = words
  if (w0 === 0 && w1 === 0 && w2 === 0 && w3 === 0 && w4 === 0 && w5 === 0xffff) {
    return [w6 >> 8, w6 & 0xff, w7 >> 8, w7 & 0xff].join('.')
  }
  return formatIpv6(words)
}

function isJsonObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isJsonObjectText(text: string): boolean {
  try {
    return isJsonObject(JSON.parse(text))
  } catch {
    return false
  }
}

function isOneOf<T extends string>(value: string, choices: readonly T[]): value is T {
  return (choices as readonly string[]).includes(value)
}

type ProblemDetails = Pick<InvalidParameter, 'choices' | 'minimum' | 'maximum'>

/** Reads the members of one item and collects its problems; a reader returns undefined when absent or reported. */
class ItemCheck {
  readonly problems: InvalidParameter[] = []
  private readonly reported = new Set<string>()

  constructor(
    private readonly members: ReadonlyMap<string, unknown>,
    private readonly path: string,
  ) {}

  has(name: string): boolean {
    return this.members.has(name)
  }

  value(name: string): unknown {
    return this.members.get(name)
  }

  passed(name: string): boolean {
    return !this.reported.has(name)
  }

  names(): Iterable<string> {
    return this.members.keys()
  }

  report(name: string, rule: Rule, reason: string, details: ProblemDetails = {}): undefined {
    this.reported.add(name)
    this.problems.push({ field: `${this.path}.${name}`, rule, source: 'body', reason, ...details })
    return undefined
  }

  text(name: string, rule: TextRule): string | undefined {
    const value = this.members.get(name)
    if (value === undefined) return rule.required ? this.report(name, 'required', 'is required') : undefined
    if (typeof value !== 'string') return this.report(name, 'is_string', 'must be a string')
    const forbidden = forbiddenCharacterIn(value, rule.lineBreaks ?? true)
    if (forbidden !== null) return this.report(name, 'invalid', forbidden)
    return this.sized(name, value, rule)
  }

  private sized(name: string, value: string, rule: TextRule): string | undefined {
    const bytes = Buffer.byteLength(value, 'utf8')
    if (rule.minBytes !== undefined && bytes < rule.minBytes) {
      const reason = `must be at least ${rule.minBytes} bytes long (UTF-8)`
      return this.report(name, 'min_length', reason, { minimum: rule.minBytes })
    }
    if (rule.maxBytes !== undefined && bytes > rule.maxBytes) {
      const reason = `must be at most ${rule.maxBytes} bytes long (UTF-8)`
      return this.report(name, 'max_length', reason, { maximum: rule.maxBytes })
    }
    if (rule.pattern && !rule.pattern.regex.test(value)) return this.report(name, 'matches_regex', rule.pattern.reason)
    return value
  }

  choice<T extends string>(name: string, choices: readonly T[], required: boolean): T | undefined {
    const value = this.text(name, { required, lineBreaks: false })
    if (value === undefined || isOneOf(value, choices)) return value
    return this.report(name, 'enum', `must be one of: ${choices.join(', ')}`, { choices: [...choices] })
  }

  flag(name: string, required: boolean): boolean | undefined {
    const value = this.members.get(name)
    if (value === undefined) return required ? this.report(name, 'required', 'is required') : undefined
    return typeof value === 'boolean' ? value : this.report(name, 'is_boolean', 'must be a boolean')
  }

  /** A required integer in [minimum, maximum]. */
  integer(name: string, minimum: number, maximum: number): number | undefined {
    const value = this.members.get(name)
    if (value === undefined) return this.report(name, 'required', 'is required')
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      return this.report(name, 'is_integer', 'must be an integer')
    }
    if (value < minimum) return this.report(name, 'min', `must be at least ${minimum}`, { minimum })
    if (value > maximum) return this.report(name, 'max', `must be at most ${maximum}`, { maximum })
    return value
  }

  /** A member the server assigns: accepted when absent or equal to the assigned value. */
  assigned(name: string, expected: string | number | boolean): void {
    if (this.has(name) && this.value(name) !== expected) {
      this.report(name, 'invalid', `is assigned by the server; omit it or send ${JSON.stringify(expected)}`)
    }
  }
}

function readEventTs(check: ItemCheck, context: IngestContext): string | undefined {
  const value = check.value('event_ts')
  if (value === undefined) return context.arrivalTs
  const eventMs = typeof value === 'string' ? parseRfc3339Ms(value) : null
  if (eventMs === null) {
    return check.report('event_ts', 'is_date_time', 'must be an RFC 3339 timestamp, e.g. 2026-11-26T09:14:03Z')
  }
  const earliestMs = context.nowMs - context.retentionMs
  const latestMs = context.nowMs + FUTURE_TOLERANCE_MS
  if (eventMs < earliestMs || eventMs > latestMs) {
    const window = `${formatUtcSeconds(earliestMs)} (now minus retention) and ${formatUtcSeconds(latestMs)} (now plus 5 minutes)`
    return check.report('event_ts', 'invalid', `must be between ${window}`)
  }
  return formatUtcSeconds(eventMs)
}

function readSrc(check: ItemCheck): string | undefined {
  const value = check.value('src')
  if (value === undefined) return check.report('src', 'required', 'is required')
  const canonical = typeof value === 'string' ? canonicalIpAddress(value) : null
  if (canonical !== null) return canonical
  const zoned = typeof value === 'string' && value.includes('%')
  return check.report('src', 'is_ip', `must be an IPv4 or IPv6 address${zoned ? ' without a zone id' : ''}`)
}

function readUuid(check: ItemCheck, name: string): string | undefined {
  const value = check.value(name)
  if (value === undefined || (typeof value === 'string' && UUID.test(value))) return value
  return check.report(name, 'is_uuid', 'must be a UUID')
}

function readQuery(check: ItemCheck): string | undefined {
  const query = check.text('query', QUERY_RULE)
  if (query === undefined) return check.passed('query') ? '{}' : undefined
  if (isJsonObjectText(query)) return query
  return check.report('query', 'invalid', 'must be the text of a JSON object, e.g. {"q":"term"}')
}

function readAuthorizationClassId(check: ItemCheck): string | undefined {
  const classId = check.text('event_class_id', AUTHORIZATION_CLASS_ID_RULE)
  if (classId !== RESERVED_AUTHORIZATION_CLASS_ID) return classId
  return check.report(
    'event_class_id',
    'invalid',
    `${RESERVED_AUTHORIZATION_CLASS_ID} is reserved for the server's own events`,
  )
}

function rejectServerOnly(check: ItemCheck): void {
  for (const name of SERVER_ONLY_PROPERTIES) {
    if (check.has(name)) check.report(name, 'invalid', 'is assigned by the server')
  }
}

function rejectUnknown(check: ItemCheck, type: EventType): void {
  for (const name of check.names()) {
    if (!KNOWN_PROPERTIES[type].has(name)) check.report(name, 'unknown_property', `is not a property of ${type} items`)
  }
}

/** Members every type has; undefined when a required one is missing or reported. */
function readCommon(check: ItemCheck, context: IngestContext): CommonDraft | undefined {
  const eventTs = readEventTs(check, context)
  const product = check.choice('event_product', EVENT_PRODUCTS, false)
  const src = readSrc(check)
  const principalId = check.text('principal_id', PRINCIPAL_ID_RULE)
  const principalName = check.text('principal_name', DISPLAY_NAME_RULE)
  const userAgent = check.text('user_agent', USER_AGENT_RULE)
  check.assigned('cef_version', '0')
  check.assigned('event_vendor', 'KongInc')
  check.assigned('event_version', '1.0')
  if (eventTs === undefined || src === undefined || principalId === undefined) return undefined
  return {
    cef_version: '0',
    event_vendor: 'KongInc',
    event_version: '1.0',
    event_product: product ?? 'Konnect',
    event_ts: eventTs,
    src,
    principal_id: principalId,
    ...(principalName === undefined ? {} : { principal_name: principalName }),
    user_agent: userAgent ?? '',
  }
}

/** Dev-Portal requires type authentication and portal_id; portal_id requires Dev-Portal. */
function checkDevPortal(check: ItemCheck, type: EventType): void {
  if (!check.passed('event_product') || !check.passed('portal_id')) return
  const devPortal = check.value('event_product') === 'Dev-Portal'
  if (devPortal && type !== 'authentication') {
    check.report('event_product', 'invalid', 'Dev-Portal is allowed only with type authentication')
  } else if (devPortal && !check.has('portal_id')) {
    check.report('portal_id', 'required', 'is required when event_product is Dev-Portal')
  } else if (!devPortal && check.has('portal_id')) {
    check.report('portal_id', 'invalid', 'is allowed only when event_product is Dev-Portal')
  }
}

function readAuthentication(check: ItemCheck, common: CommonDraft | undefined): IngestEventDraft | undefined {
  const eventClassId = check.choice('event_class_id', AUTHENTICATION_EVENT_CLASS_IDS, true)
  const name = check.choice('name', AUTHENTICATION_NAMES, true)
  const request = check.text('request', REQUEST_RULE)
  const portalId = readUuid(check, 'portal_id')
  if (name === undefined) return undefined
  const severity = severityOf({ type: 'authentication', name })
  const success = name.endsWith('_SUCCESS')
  check.assigned('severity', severity)
  check.assigned('success', success)
  if (common === undefined || eventClassId === undefined || request === undefined) return undefined
  return {
    type: 'authentication',
    ...common,
    event_class_id: eventClassId,
    name,
    severity,
    request,
    success,
    ...(portalId === undefined ? {} : { portal_id: portalId }),
  }
}

function readAuthorization(check: ItemCheck, common: CommonDraft | undefined): IngestEventDraft | undefined {
  const eventClassId = readAuthorizationClassId(check)
  const name = check.text('name', AUTHORIZATION_NAME_RULE)
  const action = check.text('action', ACTION_RULE)
  const granted = check.flag('granted', true)
  const actorId = check.text('actor_id', DISPLAY_NAME_RULE)
  const kongInitiated = check.flag('kong_initiated', false)
  if (granted === undefined) return undefined
  const severity = severityOf({ type: 'authorization', granted })
  check.assigned('severity', severity)
  if (common === undefined || eventClassId === undefined || name === undefined || action === undefined) return undefined
  return {
    type: 'authorization',
    ...common,
    event_class_id: eventClassId,
    name,
    severity,
    action,
    granted,
    ...(actorId === undefined ? {} : { actor_id: actorId }),
    ...(kongInitiated === true ? { kong_initiated: 'true' } : {}),
  }
}

function readGatewayAccess(check: ItemCheck, common: CommonDraft | undefined): IngestEventDraft | undefined {
  check.assigned('event_class_id', 'KongGateway')
  check.assigned('name', 'Ingress')
  const request = check.text('request', REQUEST_RULE)
  const act = check.text('act', ACT_RULE)
  const status = check.integer('status', 100, 599)
  const query = readQuery(check)
  const kongInitiated = check.flag('kong_initiated', false)
  if (status === undefined) return undefined
  const severity = severityOf({ type: 'gateway_access', status })
  check.assigned('severity', severity)
  if (common === undefined || request === undefined || act === undefined || query === undefined) return undefined
  return {
    type: 'gateway_access',
    ...common,
    event_class_id: 'KongGateway',
    name: 'Ingress',
    severity,
    request,
    act,
    status,
    query,
    ...(kongInitiated === true ? { kong_initiated: 'true' } : {}),
  }
}

const READERS: Readonly<
  Record<EventType, (check: ItemCheck, common: CommonDraft | undefined) => IngestEventDraft | undefined>
> = {
  authentication: readAuthentication,
  authorization: readAuthorization,
  gateway_access: readGatewayAccess,
}

function withAssigned(draft: IngestEventDraft, assigned: AssignedMembers): AuditEvent {
  return { ...draft, org_id: assigned.orgId, trace_id: assigned.traceId, rt: assigned.rt }
}

/** The event of a valid item once the server has assigned its org, trace id and commit time. */
export function buildEvent(item: ValidIngestItem, assigned: AssignedMembers): AuditEvent {
  return withAssigned(item.draft, assigned)
}

function longestSignedLineBytes(draft: IngestEventDraft, orgId: string): number {
  const event = withAssigned(draft, { orgId, traceId: LONGEST_TRACE_ID, rt: LONGEST_RT_MS })
  return Buffer.byteLength(appendSig(unsignedJsonLine(event), SIG_PLACEHOLDER), 'utf8')
}

/** Bytes a JSON-escaped member can take at most: 6 per UTF-16 unit (`\u00xx`) plus key and quotes. */
function memberBytesBound(key: string, value: unknown): number {
  return key.length + 6 + (typeof value === 'string' ? value.length * 6 : 24)
}

/**
 * Whether the signed line could exceed the limit. A cheap bound settles almost every item; only
 * items near the limit pay for building their line.
 */
function mayExceedLineLimit(draft: IngestEventDraft, orgId: string): boolean {
  let bound = 2 + memberBytesBound('org_id', orgId) + 2 * 24 + SIG_PLACEHOLDER.length + 10
  for (const [key, value] of Object.entries(draft)) bound += memberBytesBound(key, value)
  return bound > MAX_SIGNED_LINE_BYTES && longestSignedLineBytes(draft, orgId) > MAX_SIGNED_LINE_BYTES
}

/**
 * Validates one parsed item (a JSON.parse result) of an ingest request. `index` is its zero-based
 * position among the request's non-blank items and names the fields (`items[<index>].<property>`).
 * A draft is returned only when the item earned no problem at all.
 */
export function validateIngestItem(value: unknown, index: number, context: IngestContext): IngestItemResult {
  const path = `items[${index}]`
  if (!isJsonObject(value)) {
    return { ok: false, problems: [{ field: path, rule: 'type', source: 'body', reason: 'must be a JSON object' }] }
  }
  const check = new ItemCheck(new Map(Object.entries(value)), path)
  const type = check.choice('type', EVENT_TYPES, true)
  const traceRef = check.text('trace_ref', TRACE_REF_RULE)
  rejectServerOnly(check)
  const common = readCommon(check, context)
  // Without a valid type neither the own members nor the unknown ones can be told apart.
  if (type === undefined) return { ok: false, problems: check.problems }
  rejectUnknown(check, type)
  const draft = READERS[type](check, common)
  checkDevPortal(check, type)
  if (draft === undefined || check.problems.length > 0) return { ok: false, problems: check.problems }
  // With a UUID org_id the longest valid item signs to 15,926 B today; this keeps the 16 KiB limit
  // of SPEC.md §3.5 true whatever the field limits and org ids become.
  if (mayExceedLineLimit(draft, context.orgId)) {
    const reason = `would produce a signed line over ${MAX_SIGNED_LINE_BYTES} bytes (16 KiB); shorten its strings`
    const problem: InvalidParameter = {
      field: path,
      rule: 'max_length',
      source: 'body',
      reason,
      maximum: MAX_SIGNED_LINE_BYTES,
    }
    return { ok: false, problems: [problem] }
  }
  return { ok: true, item: { type, ...(traceRef === undefined ? {} : { traceRef }), draft } }
}
