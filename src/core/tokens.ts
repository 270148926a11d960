// Owns API token secrets (SPEC.md §2): `kat_` + base64url of 32 random bytes (47 chars), their
// strict shape check, and the SHA-256 that is all the store ever keeps.

import { createHash, randomBytes } from 'node:crypto'
import { decodeBase64UrlStrict, encodeBase64Url } from '../util/base64url.js'

const PREFIX = 'kat_'

export function generateTokenSecret(): string {
  return `${PREFIX}${encodeBase64Url(randomBytes(32))}`
}

export function isWellFormedToken(text: string): boolean {
  return text.length === 47 && text.startsWith(PREFIX) && decodeBase64UrlStrict(text.slice(PREFIX.length), 32) !== null
}

/** Lowercase hex SHA-256 of the secret, the only form that is stored. */
export function hashTokenSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex')
}
