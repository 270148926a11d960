// Owns the JWKS of SPEC.md §4.7: writing one from raw public keys and reading one into usable
// verification keys under the §4.5 usability rule. Unusable entries become warnings, not errors.

import type { KeyObject } from 'node:crypto'
import { decodeBase64UrlStrict, encodeBase64Url } from '../util/base64url.js'
import { kidOf, publicKeyFromRaw } from './signing.js'

export type KeyStatus = 'active' | 'retired'

export interface Jwk {
  readonly kty: 'OKP'
  readonly crv: 'Ed25519'
  readonly alg: 'EdDSA'
  readonly use: 'sig'
  readonly kid: string
  readonly x: string
  readonly status: KeyStatus
}

export interface VerificationKey {
  /** The JWK's `kid`, or `#<index>` when it has none. */
  readonly kid: string
  readonly key: KeyObject
}

export interface ReadJwks {
  readonly keys: VerificationKey[]
  /** One message per skipped entry. */
  readonly warnings: string[]
}

export class JwksError extends Error {
  override readonly name = 'JwksError'
}

export function jwkOf(rawPublicKey: Uint8Array, status: KeyStatus): Jwk {
  return {
    kty: 'OKP',
    crv: 'Ed25519',
    alg: 'EdDSA',
    use: 'sig',
    kid: kidOf(rawPublicKey),
    x: encodeBase64Url(rawPublicKey),
    status,
  }
}

/** Compact JWKS text; callers pass the active key first, then retired keys newest first. */
export function writeJwks(keys: readonly Jwk[]): string {
  return JSON.stringify({ keys })
}

function unusableBecause(entry: Record<string, unknown>): string | null {
  if (entry.kty !== 'OKP') return 'kty is not OKP'
  if (entry.crv !== 'Ed25519') return 'crv is not Ed25519'
  if (entry.alg !== undefined && entry.alg !== 'EdDSA') return 'alg is not EdDSA'
  if (entry.use !== undefined && entry.use !== 'sig') return 'use is not sig'
  if (typeof entry.x !== 'string' || decodeBase64UrlStrict(entry.x, 32) === null) {
    return 'x is not 43 base64url characters encoding 32 bytes'
  }
  return null
}

/** Reads JWKS text; throws JwksError when it is not a JWKS or has no usable Ed25519 key. */
export function readJwks(text: string): ReadJwks {
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch {
    throw new JwksError('the JWKS is not valid JSON')
  }
  const entries = (document as { keys?: unknown } | null)?.keys
  if (!Array.isArray(entries)) throw new JwksError('the JWKS has no "keys" array')
  const keys: VerificationKey[] = []
  const warnings: string[] = []
  entries.forEach((entry: unknown, index) => {
    const fields = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>
    const kid = typeof fields.kid === 'string' && fields.kid !== '' ? fields.kid : `#${index}`
    const reason = unusableBecause(fields)
    if (reason) warnings.push(`JWKS key ${kid} skipped: ${reason}`)
    else keys.push({ kid, key: publicKeyFromRaw(decodeBase64UrlStrict(fields.x as string, 32) as Buffer) })
  })
  if (keys.length === 0) throw new JwksError('the JWKS has no usable Ed25519 key')
  return { keys, warnings }
}
