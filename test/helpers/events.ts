// Builds sample events of each type and signing keys with their JWKS, for round-trip tests.

import type { KeyObject } from 'node:crypto'
import type { AuthenticationEvent, AuthorizationEvent, GatewayAccessEvent } from '../../src/core/events.js'
import type { KeyStatus } from '../../src/core/jwks.js'
import { jwkOf, writeJwks } from '../../src/core/jwks.js'
import type { Signer } from '../../src/core/signing.js'
import { createSigner, generatePrivateKey, rawPublicKeyOf } from '../../src/core/signing.js'
import { parseTraceId } from '../../src/util/u64.js'

const common = {
  cef_version: '0',
  event_vendor: 'KongInc',
  event_version: '1.0',
  event_product: 'Konnect',
  event_ts: '2026-11-26T09:14:03Z',
  rt: 1795684443127,
  src: '198.51.100.7',
  org_id: '5b1f0c2e-8a4d-4c1e-9f3a-2d7e6b9c0a11',
  principal_id: '0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a',
  trace_id: parseTraceId('18446744073709551615'),
  user_agent: 'konnect-audit/1.0.0 (linux; node 20.20.2)',
} as const

export function authenticationEvent(overrides: Partial<AuthenticationEvent> = {}): AuthenticationEvent {
  return {
    ...common,
    type: 'authentication',
    event_class_id: 'AUTHENTICATION_TYPE_PAT',
    name: 'AUTHENTICATION_OUTCOME_TOKEN_EXPIRED',
    severity: 1,
    request: '/v3/audit-logs',
    success: false,
    ...overrides,
  }
}

export function authorizationEvent(overrides: Partial<AuthorizationEvent> = {}): AuthorizationEvent {
  return {
    ...common,
    type: 'authorization',
    event_class_id: 'reports',
    name: 'Authz.reports|daily',
    severity: 6,
    action: 'list',
    granted: false,
    actor_id: 'svc=batch',
    ...overrides,
  }
}

export function gatewayAccessEvent(overrides: Partial<GatewayAccessEvent> = {}): GatewayAccessEvent {
  return {
    ...common,
    type: 'gateway_access',
    event_class_id: 'KongGateway',
    name: 'Ingress',
    severity: 10,
    request: '/api/v1/services',
    act: 'POST',
    status: 502,
    query: '{"q":"a=b"}',
    kong_initiated: 'true',
    ...overrides,
  }
}

export interface TestKey {
  readonly privateKey: KeyObject
  readonly signer: Signer
  readonly raw: Buffer
}

export function newTestKey(): TestKey {
  const privateKey = generatePrivateKey()
  return { privateKey, signer: createSigner(privateKey), raw: rawPublicKeyOf(privateKey) }
}

export function jwksOf(...keys: Array<[TestKey, KeyStatus]>): string {
  return writeJwks(keys.map(([key, status]) => jwkOf(key.raw, status)))
}
