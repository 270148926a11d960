// Owns token administration (SPEC.md §5.3): creating a token (its secret returned once, only its
// hash stored), listing without secrets, and revoking with the last-admin guard.

import { randomUUID } from 'node:crypto'
import { serverTime } from '../../contract/common.js'
import { generateTokenSecret, hashTokenSecret } from '../../core/tokens.js'
import type { Role, Store, TokenRecord } from '../../store/store.js'
import { badRequest, ProblemError } from '../problem.js'

export const MAX_UNREVOKED_TOKENS = 1000

export function tokenView(token: TokenRecord) {
  return {
    id: token.id,
    name: token.name,
    role: token.role,
    created_at: serverTime(token.createdAt),
    expires_at: token.expiresAt === null ? null : serverTime(token.expiresAt),
    last_used_at: serverTime(token.lastUsedAt),
    revoked_at: serverTime(token.revokedAt),
  }
}

export interface CreateTokenInput {
  readonly name: string
  readonly role: Role
  readonly expiresAtMs: number | null
}

/** A new token record for the org and its secret (generated unless given), shown once, never stored. */
export function newToken(
  orgId: string,
  input: CreateTokenInput,
  nowMs: number,
  secret: string = generateTokenSecret(),
): { record: TokenRecord; secret: string } {
  const record: TokenRecord = {
    id: randomUUID(),
    orgId,
    name: input.name,
    role: input.role,
    secretHash: hashTokenSecret(secret),
    createdAt: nowMs,
    expiresAt: input.expiresAtMs,
    lastUsedAt: null,
    revokedAt: null,
  }
  return { record, secret }
}

export async function createToken(store: Store, orgId: string, input: CreateTokenInput, nowMs: number) {
  if (Buffer.byteLength(input.name) > 100) {
    throw badRequest([
      { field: 'name', rule: 'max_length', maximum: 100, reason: 'must be at most 100 bytes', source: 'body' },
    ])
  }
  if (input.expiresAtMs !== null && input.expiresAtMs <= nowMs) {
    throw badRequest([{ field: 'expires_at', rule: 'invalid', reason: 'must be in the future', source: 'body' }])
  }
  if ((await store.countUnrevokedTokens(orgId)) >= MAX_UNREVOKED_TOKENS) {
    throw new ProblemError(409, `An org can have at most ${MAX_UNREVOKED_TOKENS} unrevoked tokens`)
  }
  const { record, secret } = newToken(orgId, input, nowMs)
  await store.insertToken(record)
  const { last_used_at: _used, revoked_at: _revoked, ...view } = tokenView(record)
  return { ...view, org_id: orgId, token: secret }
}

export async function revokeToken(store: Store, orgId: string, id: string, nowMs: number): Promise<void> {
  const outcome = await store.revokeToken(orgId, id, nowMs)
  if (outcome === 'not_found') throw new ProblemError(404, `Token ${id} not found`)
  if (outcome === 'last_admin') throw new ProblemError(409, 'Cannot revoke the last admin token')
}
