import { describe, expect, it } from 'vitest'
import { signJsonLine, unsignedJsonLine } from '../../src/core/canonical-json.js'
import { EVENT_TYPES } from '../../src/core/events.js'
import type { IngestContext, ValidIngestItem } from '../../src/core/ingest-item.js'
import {
  AUTHENTICATION_EVENT_CLASS_IDS,
  AUTHENTICATION_NAMES,
  AUTHENTICATION_TYPES,
  buildEvent,
  canonicalIpAddress,
  validateIngestItem,
} from '../../src/core/ingest-item.js'
import type { InvalidParameter, Rule } from '../../src/core/problem-fields.js'
import { createSigner } from '../../src/core/signing.js'
import { parseTraceId } from '../../src/util/u64.js'
import { testPrivateKey, V2 } from '../fixtures/vectors.js'

const ORG_ID = '5b1f0c2e-8a4d-4c1e-9f3a-2d7e6b9c0a11'
const NOW_MS = Date.parse('2026-11-26T09:14:03.127Z')
const DAY_MS = 86_400_000
const context: IngestContext = {
  orgId: ORG_ID,
  nowMs: NOW_MS,
  retentionMs: 7 * DAY_MS,
  arrivalTs: '2026-11-26T09:14:03Z',
}
const assigned = { orgId: ORG_ID, traceId: parseTraceId('7340296126884321173'), rt: 1795684443127 }
const PORTAL_ID = 'f1e2d3c4-b5a6-4798-8a9b-0c1d2e3f4a5b'

const authentication = {
  type: 'authentication',
  src: '198.51.100.7',
  principal_id: 'u-1',
  event_class_id: 'AUTHENTICATION_TYPE_BASIC',
  name: 'AUTHENTICATION_OUTCOME_INVALID_PASSWORD',
  request: '/login',
}
const authorization = {
  type: 'authorization',
  src: '198.51.100.7',
  principal_id: 'u-1',
  event_class_id: 'identity',
  name: 'Authz.teams',
  action: 'list',
  granted: true,
}
const access = {
  type: 'gateway_access',
  src: '198.51.100.7',
  principal_id: 'u-1',
  request: '/api/v1/services',
  act: 'GET',
  status: 200,
}

function problemsOf(item: unknown, index = 0, ingestContext = context): InvalidParameter[] {
  const result = validateIngestItem(item, index, ingestContext)
  if (result.ok) throw new Error(`expected problems, got a valid ${result.item.type} item`)
  return result.problems
}

function validOf(item: unknown): ValidIngestItem {
  const result = validateIngestItem(item, 0, context)
  if (!result.ok) throw new Error(`expected a valid item, got ${JSON.stringify(result.problems)}`)
  return result.item
}

const lineOf = (item: unknown) => unsignedJsonLine(buildEvent(validOf(item), assigned))

type Details = Pick<InvalidParameter, 'choices' | 'minimum' | 'maximum'>
function problem(property: string, rule: Rule, reason: string, details: Details = {}): InvalidParameter {
  return { field: `items[0].${property}`, rule, source: 'body', reason, ...details }
}

const BY_SERVER = 'is assigned by the server'
const required = (property: string) => problem(property, 'required', 'is required')
const invalid = (property: string, reason: string) => problem(property, 'invalid', reason)
const tooLong = (property: string, maximum: number) =>
  problem(property, 'max_length', `must be at most ${maximum} bytes long (UTF-8)`, { maximum })
const tooShort = (property: string, minimum: number) =>
  problem(property, 'min_length', `must be at least ${minimum} bytes long (UTF-8)`, { minimum })
const control = (property: string, codePoint: string) =>
  invalid(property, `must not contain the control character ${codePoint}`)
const lineBreak = (property: string, codePoint: string) =>
  invalid(property, `must not contain a line break (${codePoint})`)
const notIp = problem('src', 'is_ip', 'must be an IPv4 or IPv6 address')

describe('validateIngestItem: bad items and their exact invalid_parameters', () => {
  const cases: Array<[string, unknown, InvalidParameter[]]> = [
    // Shape and type
    ['an array', [], [{ field: 'items[0]', rule: 'type', source: 'body', reason: 'must be a JSON object' }]],
    ['null', null, [{ field: 'items[0]', rule: 'type', source: 'body', reason: 'must be a JSON object' }]],
    [
      'a string',
      'authentication',
      [{ field: 'items[0]', rule: 'type', source: 'body', reason: 'must be a JSON object' }],
    ],
    ['no type', { ...authentication, type: undefined }, [required('type')]],
    [
      'an unknown type',
      { ...authentication, type: 'login' },
      [
        problem('type', 'enum', 'must be one of: authentication, authorization, gateway_access', {
          choices: [...EVENT_TYPES],
        }),
      ],
    ],
    ['a type that is no string', { ...authentication, type: 1 }, [problem('type', 'is_string', 'must be a string')]],
    [
      'an unknown type still gets its common members checked',
      { type: 'x', src: 'nope', org_id: ORG_ID },
      [
        problem('type', 'enum', 'must be one of: authentication, authorization, gateway_access', {
          choices: [...EVENT_TYPES],
        }),
        invalid('org_id', BY_SERVER),
        notIp,
        required('principal_id'),
      ],
    ],
    // Unknown properties, per property and per type
    [
      'unknown properties',
      { ...authentication, foo: 1, status: 200, kong_initiated: true },
      [
        problem('foo', 'unknown_property', 'is not a property of authentication items'),
        problem('status', 'unknown_property', 'is not a property of authentication items'),
        problem('kong_initiated', 'unknown_property', 'is not a property of authentication items'),
      ],
    ],
    [
      'success outside authentication',
      { ...authorization, success: true },
      [problem('success', 'unknown_property', 'is not a property of authorization items')],
    ],
    // Server-assigned members
    [
      'org_id, trace_id, rt and sig, whatever their value',
      { ...access, org_id: ORG_ID, trace_id: 1, rt: 1795684443127, sig: 'x' },
      [
        invalid('org_id', BY_SERVER),
        invalid('trace_id', BY_SERVER),
        invalid('rt', BY_SERVER),
        invalid('sig', BY_SERVER),
      ],
    ],
    [
      'server-assigned members with other values',
      { ...authentication, cef_version: 0, event_vendor: 'Kong', event_version: '1', severity: 7, success: true },
      [
        invalid('cef_version', `${BY_SERVER}; omit it or send "0"`),
        invalid('event_vendor', `${BY_SERVER}; omit it or send "KongInc"`),
        invalid('event_version', `${BY_SERVER}; omit it or send "1.0"`),
        invalid('severity', `${BY_SERVER}; omit it or send 1`),
        invalid('success', `${BY_SERVER}; omit it or send false`),
      ],
    ],
    [
      'an access event_class_id, name or severity of its own',
      { ...access, event_class_id: 'Gateway', name: 'Egress', severity: '1' },
      [
        invalid('event_class_id', `${BY_SERVER}; omit it or send "KongGateway"`),
        invalid('name', `${BY_SERVER}; omit it or send "Ingress"`),
        invalid('severity', `${BY_SERVER}; omit it or send 1`),
      ],
    ],
    // Wrong JSON types
    [
      'wrong types',
      { ...authorization, granted: 'yes', kong_initiated: 1, principal_id: 5, user_agent: null, src: 42 },
      [
        notIp,
        problem('principal_id', 'is_string', 'must be a string'),
        problem('user_agent', 'is_string', 'must be a string'),
        problem('granted', 'is_boolean', 'must be a boolean'),
        problem('kong_initiated', 'is_boolean', 'must be a boolean'),
      ],
    ],
    ['a status string', { ...access, status: '200' }, [problem('status', 'is_integer', 'must be an integer')]],
    ['a fractional status', { ...access, status: 200.5 }, [problem('status', 'is_integer', 'must be an integer')]],
    [
      'event_ts that is no RFC 3339 timestamp',
      { ...access, event_ts: '2026-11-26 09:14:03' },
      [problem('event_ts', 'is_date_time', 'must be an RFC 3339 timestamp, e.g. 2026-11-26T09:14:03Z')],
    ],
    [
      'event_ts as a number',
      { ...access, event_ts: NOW_MS },
      [problem('event_ts', 'is_date_time', 'must be an RFC 3339 timestamp, e.g. 2026-11-26T09:14:03Z')],
    ],
    [
      'a portal_id that is no UUID',
      { ...authentication, event_product: 'Dev-Portal', portal_id: 'portal-1' },
      [problem('portal_id', 'is_uuid', 'must be a UUID')],
    ],
    [
      'query as an object instead of its text',
      { ...access, query: { q: 'x' } },
      [problem('query', 'is_string', 'must be a string')],
    ],
    // Required members
    [
      'missing authorization members',
      { type: 'authorization' },
      [
        required('src'),
        required('principal_id'),
        required('event_class_id'),
        required('name'),
        required('action'),
        required('granted'),
      ],
    ],
    [
      'missing authentication members',
      { type: 'authentication', src: '::1', principal_id: '' },
      [required('event_class_id'), required('name'), required('request')],
    ],
    [
      'missing access members',
      { type: 'gateway_access', src: '::1', principal_id: '' },
      [required('request'), required('act'), required('status')],
    ],
    // Enums
    [
      'enums',
      {
        ...authentication,
        event_product: 'Portal',
        event_class_id: 'AUTHENTICATION_TYPE_OAUTH',
        name: 'AUTHENTICATION_OUTCOME_MAYBE',
      },
      [
        problem('event_product', 'enum', 'must be one of: Konnect, Dev-Portal', { choices: ['Konnect', 'Dev-Portal'] }),
        problem('event_class_id', 'enum', `must be one of: ${AUTHENTICATION_EVENT_CLASS_IDS.join(', ')}`, {
          choices: [...AUTHENTICATION_EVENT_CLASS_IDS],
        }),
        problem('name', 'enum', `must be one of: ${AUTHENTICATION_NAMES.join(', ')}`, {
          choices: [...AUTHENTICATION_NAMES],
        }),
      ],
    ],
    // Sizes in UTF-8 bytes, not characters
    [
      'too long by bytes with multi-byte characters',
      {
        ...authentication,
        trace_ref: 'ü'.repeat(65),
        principal_id: 'é'.repeat(129),
        principal_name: '日本'.repeat(43),
        user_agent: '€'.repeat(342),
        request: `/${'日'.repeat(683)}`,
      },
      [
        tooLong('trace_ref', 128),
        tooLong('principal_id', 256),
        tooLong('principal_name', 256),
        tooLong('user_agent', 1024),
        tooLong('request', 2048),
      ],
    ],
    [
      'too short',
      { ...authorization, trace_ref: '', principal_name: '', actor_id: '' },
      [tooShort('trace_ref', 1), tooShort('principal_name', 1), tooShort('actor_id', 1)],
    ],
    ['an empty request', { ...access, request: '' }, [tooShort('request', 1)]],
    ['a query over 4096 bytes', { ...access, query: `{"q":"${'ø'.repeat(2045)}"}` }, [tooLong('query', 4096)]],
    // Patterns
    [
      'authorization patterns',
      { ...authorization, event_class_id: '-identity', name: 'Authz.a b', action: 'list all' },
      [
        problem('event_class_id', 'matches_regex', 'must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
        problem(
          'name',
          'matches_regex',
          'must be "Authz." followed by 1 to 200 printable ASCII characters other than space',
        ),
        problem('action', 'matches_regex', 'must match ^[A-Za-z0-9_.-]{1,64}$'),
      ],
    ],
    [
      'authorization pattern lengths',
      { ...authorization, event_class_id: `a${'b'.repeat(64)}`, name: `Authz.${'x'.repeat(201)}`, action: '' },
      [
        problem('event_class_id', 'matches_regex', 'must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
        problem(
          'name',
          'matches_regex',
          'must be "Authz." followed by 1 to 200 printable ASCII characters other than space',
        ),
        problem('action', 'matches_regex', 'must match ^[A-Za-z0-9_.-]{1,64}$'),
      ],
    ],
    [
      'an authorization name without its prefix',
      { ...authorization, name: 'authz.teams' },
      [
        problem(
          'name',
          'matches_regex',
          'must be "Authz." followed by 1 to 200 printable ASCII characters other than space',
        ),
      ],
    ],
    [
      'the reserved event_class_id konnect-audit',
      { ...authorization, event_class_id: 'konnect-audit' },
      [invalid('event_class_id', "konnect-audit is reserved for the server's own events")],
    ],
    ['a lowercase act', { ...access, act: 'get' }, [problem('act', 'matches_regex', 'must match ^[A-Z]{1,16}$')]],
    [
      'a 17-letter act',
      { ...access, act: 'A'.repeat(17) },
      [problem('act', 'matches_regex', 'must match ^[A-Z]{1,16}$')],
    ],
    // Integer range
    ['status 99', { ...access, status: 99 }, [problem('status', 'min', 'must be at least 100', { minimum: 100 })]],
    ['status 600', { ...access, status: 600 }, [problem('status', 'max', 'must be at most 599', { maximum: 599 })]],
    // Dev-Portal
    [
      'Dev-Portal without portal_id',
      { ...authentication, event_product: 'Dev-Portal' },
      [problem('portal_id', 'required', 'is required when event_product is Dev-Portal')],
    ],
    [
      'portal_id without Dev-Portal',
      { ...authentication, portal_id: PORTAL_ID },
      [invalid('portal_id', 'is allowed only when event_product is Dev-Portal')],
    ],
    [
      'Dev-Portal on another type',
      { ...authorization, event_product: 'Dev-Portal' },
      [invalid('event_product', 'Dev-Portal is allowed only with type authentication')],
    ],
    [
      'portal_id on another type',
      { ...access, portal_id: PORTAL_ID },
      [problem('portal_id', 'unknown_property', 'is not a property of gateway_access items')],
    ],
    // query text
    [
      'query that is a JSON array',
      { ...access, query: '[1]' },
      [invalid('query', 'must be the text of a JSON object, e.g. {"q":"term"}')],
    ],
    [
      'query that is no JSON',
      { ...access, query: 'a=b' },
      [invalid('query', 'must be the text of a JSON object, e.g. {"q":"term"}')],
    ],
    [
      'query that is JSON null',
      { ...access, query: 'null' },
      [invalid('query', 'must be the text of a JSON object, e.g. {"q":"term"}')],
    ],
    // Forbidden characters, in any string
    [
      'forbidden control characters',
      {
        ...access,
        principal_id: 'a\u0000b',
        user_agent: 'ua\u007f',
        request: '/x\u001by',
        trace_ref: 'r\u0008',
        query: '{"a":"\u000b"}',
        act: 'GET\u000c',
      },
      [
        control('trace_ref', 'U+0008'),
        control('principal_id', 'U+0000'),
        control('user_agent', 'U+007F'),
        control('request', 'U+001B'),
        control('act', 'U+000C'),
        control('query', 'U+000B'),
      ],
    ],
    [
      'unpaired surrogates',
      { ...authorization, principal_name: 'x\uD800', user_agent: '\uDC00y', actor_id: '\uDE00\uD83D' },
      [
        invalid('principal_name', 'must not contain an unpaired surrogate'),
        invalid('user_agent', 'must not contain an unpaired surrogate'),
        invalid('actor_id', 'must not contain an unpaired surrogate'),
      ],
    ],
    [
      'LF or CR in name, event_class_id and event_product',
      { ...authorization, name: 'Authz.teams\n', event_class_id: 'identity\r', event_product: 'Konnect\n' },
      [lineBreak('event_product', 'U+000A'), lineBreak('event_class_id', 'U+000D'), lineBreak('name', 'U+000A')],
    ],
    [
      'LF in an authentication name',
      { ...authentication, name: 'AUTHENTICATION_OUTCOME_SUCCESS\n' },
      [lineBreak('name', 'U+000A')],
    ],
    // src
    [
      'a zone id',
      { ...access, src: 'fe80::1%eth0' },
      [problem('src', 'is_ip', 'must be an IPv4 or IPv6 address without a zone id')],
    ],
    ['a host name', { ...access, src: 'gateway.local' }, [notIp]],
    ['an IPv4 with leading zeros', { ...access, src: '192.000.2.1' }, [notIp]],
    // event_ts window [now − retention, now + 5 min]
    [
      'event_ts more than 5 minutes ahead',
      { ...access, event_ts: '2026-11-26T09:19:04Z' },
      [
        invalid(
          'event_ts',
          'must be between 2026-11-19T09:14:03Z (now minus retention) and 2026-11-26T09:19:03Z (now plus 5 minutes)',
        ),
      ],
    ],
    [
      'event_ts older than the retention',
      { ...access, event_ts: '2026-11-19T10:14:03+01:00' },
      [
        invalid(
          'event_ts',
          'must be between 2026-11-19T09:14:03Z (now minus retention) and 2026-11-26T09:19:03Z (now plus 5 minutes)',
        ),
      ],
    ],
  ]

  it.each(cases)('%s', (_label, item, expected) => {
    expect(problemsOf(item)).toEqual(expected)
  })

  it('names fields by the item index', () => {
    expect(problemsOf({ ...access, status: 600, src: '::g' }, 3)).toEqual([
      { field: 'items[3].src', rule: 'is_ip', source: 'body', reason: 'must be an IPv4 or IPv6 address' },
      { field: 'items[3].status', rule: 'max', source: 'body', reason: 'must be at most 599', maximum: 599 },
    ])
    expect(problemsOf(42, 7)).toEqual([
      { field: 'items[7]', rule: 'type', source: 'body', reason: 'must be a JSON object' },
    ])
  })

  it('rejects an item whose signed line would exceed 16 KiB', () => {
    // With a UUID org the largest valid item stays below the limit (see below), so a long org id stands in.
    const longOrg = { ...context, orgId: 'o'.repeat(2000) }
    const item = {
      ...access,
      user_agent: '"'.repeat(1024),
      request: '\\'.repeat(2048),
      query: `{"a":"${'\\"'.repeat(2044)}"}`,
    }
    expect(problemsOf(item, 2, longOrg)).toEqual([
      {
        field: 'items[2]',
        rule: 'max_length',
        source: 'body',
        reason: 'would produce a signed line over 16384 bytes (16 KiB); shorten its strings',
        maximum: 16384,
      },
    ])
  })

  it('accepts the largest item a UUID org can get: its signed line stays within 16 KiB', () => {
    const item = {
      ...access,
      src: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe',
      principal_id: '"'.repeat(256),
      principal_name: '"'.repeat(256),
      user_agent: '"'.repeat(1024),
      request: '"'.repeat(2048),
      act: 'A'.repeat(16),
      status: 599,
      query: `{"a":"${'\\"'.repeat(2044)}"}`,
      kong_initiated: true,
    }
    const event = buildEvent(validOf(item), {
      orgId: ORG_ID,
      traceId: parseTraceId('18446744073709551615'),
      rt: 9_999_999_999_999,
    })
    expect(Buffer.byteLength(unsignedJsonLine(event)) + ',"sig":""'.length + 86).toBe(15926)
  })
})

describe('validateIngestItem: valid items', () => {
  it('accepts server-assigned members sent with the values the server assigns', () => {
    const serverValues = { cef_version: '0', event_vendor: 'KongInc', event_version: '1.0' }
    expect(validOf({ ...authentication, ...serverValues, severity: 1, success: false }).type).toBe('authentication')
    expect(validOf({ ...authorization, ...serverValues, granted: false, severity: 6 }).type).toBe('authorization')
    expect(
      validOf({ ...access, ...serverValues, event_class_id: 'KongGateway', name: 'Ingress', status: 503, severity: 10 })
        .type,
    ).toBe('gateway_access')
  })

  it('builds an authentication event with the defaults and derived members', () => {
    expect(lineOf(authentication)).toBe(
      '{"cef_version":"0","event_class_id":"AUTHENTICATION_TYPE_BASIC","event_product":"Konnect",' +
        '"event_ts":"2026-11-26T09:14:03Z","event_vendor":"KongInc","event_version":"1.0",' +
        `"name":"AUTHENTICATION_OUTCOME_INVALID_PASSWORD","org_id":"${ORG_ID}","principal_id":"u-1",` +
        '"request":"/login","rt":1795684443127,"severity":1,"src":"198.51.100.7","success":false,' +
        '"trace_id":7340296126884321173,"user_agent":""}',
    )
  })

  it('builds a Dev-Portal authentication, normalising event_ts and an IPv4-mapped src', () => {
    const item = {
      ...authentication,
      event_product: 'Dev-Portal',
      portal_id: PORTAL_ID,
      event_class_id: 'AUTHENTICATION_TYPE_SSO',
      name: 'AUTHENTICATION_OUTCOME_SUCCESS',
      principal_name: 'Zoë',
      event_ts: '2026-11-26T10:14:02.999+01:00',
      src: '::FFFF:192.0.2.1',
      user_agent: 'portal/2\r\n(é)',
    }
    expect(lineOf(item)).toBe(
      '{"cef_version":"0","event_class_id":"AUTHENTICATION_TYPE_SSO","event_product":"Dev-Portal",' +
        '"event_ts":"2026-11-26T09:14:02Z","event_vendor":"KongInc","event_version":"1.0",' +
        `"name":"AUTHENTICATION_OUTCOME_SUCCESS","org_id":"${ORG_ID}","portal_id":"${PORTAL_ID}",` +
        '"principal_id":"u-1","principal_name":"Zoë","request":"/login","rt":1795684443127,"severity":0,' +
        '"src":"192.0.2.1","success":true,"trace_id":7340296126884321173,"user_agent":"portal/2\\r\\n(é)"}',
    )
  })

  it('builds an authorization event: kong_initiated true as "true", actor_id kept', () => {
    const item = { ...authorization, granted: false, kong_initiated: true, actor_id: 'svc=batch', src: '2001:DB8::0:1' }
    expect(lineOf(item)).toBe(
      '{"action":"list","actor_id":"svc=batch","cef_version":"0","event_class_id":"identity",' +
        '"event_product":"Konnect","event_ts":"2026-11-26T09:14:03Z","event_vendor":"KongInc",' +
        '"event_version":"1.0","granted":false,"kong_initiated":"true","name":"Authz.teams",' +
        `"org_id":"${ORG_ID}","principal_id":"u-1","rt":1795684443127,"severity":6,"src":"2001:db8::1",` +
        '"trace_id":7340296126884321173,"user_agent":""}',
    )
  })

  it('builds an access event: query defaults to "{}", kong_initiated false is dropped', () => {
    expect(lineOf({ ...access, kong_initiated: false, status: 403, user_agent: 'edge\nretry' })).toBe(
      '{"act":"GET","cef_version":"0","event_class_id":"KongGateway","event_product":"Konnect",' +
        '"event_ts":"2026-11-26T09:14:03Z","event_vendor":"KongInc","event_version":"1.0","name":"Ingress",' +
        `"org_id":"${ORG_ID}","principal_id":"u-1","query":"{}","request":"/api/v1/services",` +
        '"rt":1795684443127,"severity":6,"src":"198.51.100.7","status":403,"trace_id":7340296126884321173,' +
        '"user_agent":"edge\\nretry"}',
    )
  })

  it('reproduces the Appendix A V2 line byte for byte from ingest input', () => {
    const item = {
      type: 'gateway_access',
      trace_ref: 'batch-7',
      event_ts: '2026-11-26T10:13:58.640+01:00',
      src: '2001:0DB8:0000:0000:0000:0000:0000:0017',
      principal_id: 'a3d2699a-0ed3-4417-bb10-d8e74a1513a4',
      request: '/api/v1/services',
      act: 'POST',
      status: 201,
      query: '{"dry_run":"true","q":"a=b"}',
      user_agent: 'edge-gw/3.9 (zone=eu-1)\nretry',
    }
    const valid = validOf(item)
    expect(valid.traceRef).toBe('batch-7')
    const event = buildEvent(valid, { orgId: ORG_ID, traceId: parseTraceId('9007199254740993'), rt: 1795684443309 })
    expect(signJsonLine(event, createSigner(testPrivateKey()))).toBe(V2.json)
  })

  it('stores a query verbatim', () => {
    const query = ' { "b" : ["x", "y"], "a": "\\u00e9" } '
    expect(lineOf({ ...access, query })).toContain(`"query":${JSON.stringify(query)}`)
  })

  it('accepts the edges of every limit', () => {
    const item = {
      ...authorization,
      trace_ref: 'ü'.repeat(64),
      principal_id: 'é'.repeat(128),
      principal_name: '日',
      actor_id: 'a'.repeat(256),
      user_agent: '€'.repeat(341),
      event_class_id: `a${'b'.repeat(63)}`,
      name: `Authz.${'~'.repeat(200)}`,
      action: 'a'.repeat(64),
      event_ts: '2026-11-26T09:19:03.127Z',
    }
    expect(validOf(item).traceRef).toBe('ü'.repeat(64))
    expect(validOf({ ...access, status: 100, act: 'A'.repeat(16), request: '/'.repeat(2048) }).type).toBe(
      'gateway_access',
    )
    expect(validOf({ ...access, status: 599, event_ts: '2026-11-19T09:14:03.127Z' }).type).toBe('gateway_access')
    expect(validOf({ ...access, query: `{"q":"${'ø'.repeat(2044)}"}` }).type).toBe('gateway_access')
  })

  it('allows tab, LF and CR where line breaks are allowed', () => {
    expect(validOf({ ...access, request: '/a\tb\r\n', principal_id: 'x\ny' }).type).toBe('gateway_access')
  })
})

describe('authentication enums', () => {
  it('lists the <T> and <O> values of SPEC.md §3.1', () => {
    expect(AUTHENTICATION_TYPES).toEqual([
      'INVALID',
      'BASIC',
      'SSO',
      'PAT',
      'SPAT',
      'GOOGLE',
      'GITHUB',
      'WINDOWSLIVE',
      'FEDERATED',
    ])
    expect(AUTHENTICATION_EVENT_CLASS_IDS).toContain('AUTHENTICATION_TYPE_WINDOWSLIVE')
    expect(AUTHENTICATION_NAMES).toContain('AUTHENTICATION_OUTCOME_TOKEN_EXPIRED')
  })
})

describe('canonicalIpAddress', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['2001:0DB8:0000:0000:0000:0000:0000:0017', '2001:db8::17'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['1:2:3:4:5:6::7', '1:2:3:4:5:6:0:7'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['::FFFF:c000:0201', '192.0.2.1'],
    ['0:0:0:0:0:ffff:0.0.0.0', '0.0.0.0'],
    ['64:ff9b::192.0.2.1', '64:ff9b::c000:201'],
    ['::192.0.2.1', '::c000:201'],
    ['::ffff:0:192.0.2.1', '::ffff:0:c000:201'],
  ])('%s → %s', (text, canonical) => {
    expect(canonicalIpAddress(text)).toBe(canonical)
  })

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '1.2.3.04',
    '256.1.1.1',
    ' 1.2.3.4',
    'fe80::1%eth0',
    'fe80::1%1',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7::8',
    ':1::',
    '1::2:',
    '1:::2',
    '1::2::3',
    '12345::',
    'g::',
    '::ffff:1.2.3',
    '::ffff:1.2.3.256',
    '1.2.3.4::',
    '[::1]',
  ])('rejects %j', (text) => {
    expect(canonicalIpAddress(text)).toBeNull()
  })
})
