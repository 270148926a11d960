// Owns the token check of SPEC.md §3.4: what an Authorization header proves, from a valid
// token to a malformed one. It looks tokens up by hash and records nothing itself.

import { hashTokenSecret, isWellFormedToken } from '../../core/tokens.js'
import type { Store, TokenRecord } from '../../store/store.js'

export type TokenCheck =
  | { readonly outcome: 'success' | 'expired' | 'revoked'; readonly token: TokenRecord }
  | { readonly outcome: 'not_found' | 'invalid'; readonly token: null }

export async function checkToken(authorization: string | undefined, store: Store, nowMs: number): Promise<TokenCheck> {
  const match = /^Bearer (\S+)$/i.exec(authorization ?? '')
  const secret = match?.[1]
  if (secret === undefined || !isWellFormedToken(secret)) return { outcome: 'invalid', token: null }
  const token = await store.findTokenByHash(hashTokenSecret(secret))
  if (!token) return { outcome: 'not_found', token: null }
  return { outcome: standingOf(token, nowMs), token }
}

/** Whether a stored token may act at `nowMs`: revoked first, then expired. */
export function standingOf(token: TokenRecord, nowMs: number): 'success' | 'expired' | 'revoked' {
  if (token.revokedAt !== null) return 'revoked'
  if (token.expiresAt !== null && token.expiresAt <= nowMs) return 'expired'
  return 'success'
}
