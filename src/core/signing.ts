// Owns Ed25519 keys, signing and the kid derivation of SPEC.md §2, all through node:crypto.
// A KeyObject is created once per key and reused; private keys never leave this module's callers.

import type { KeyObject } from 'node:crypto'
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto'

/** Signs messages with one private key; `kid` names its public half. */
export interface Signer {
  readonly kid: string
  sign(message: Uint8Array): Buffer
}

// PKCS#8 and SPKI DER prefixes for a raw 32-byte Ed25519 seed or public key (RFC 8410).
const PKCS8_SEED_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

/** `kid`: lowercase hex of the first 20 bytes of SHA-256 over the raw public key. */
export function kidOf(rawPublicKey: Uint8Array): string {
  return createHash('sha256').update(rawPublicKey).digest('hex').slice(0, 40)
}

export function rawPublicKeyOf(key: KeyObject): Buffer {
  const der = createPublicKey(key).export({ format: 'der', type: 'spki' })
  return der.subarray(SPKI_PREFIX.length)
}

export function publicKeyFromRaw(rawPublicKey: Uint8Array): KeyObject {
  return createPublicKey({
    key: Buffer.concat([SPKI_PREFIX, rawPublicKey]),
    format: 'der',
    type: 'spki',
  })
}

export function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw new RangeError('an Ed25519 seed is 32 bytes')
  return createPrivateKey({ key: Buffer.concat([PKCS8_SEED_PREFIX, seed]), format: 'der', type: 'pkcs8' })
}

export function generatePrivateKey(): KeyObject {
  return generateKeyPairSync('ed25519').privateKey
}

export function createSigner(privateKey: KeyObject): Signer {
  const kid = kidOf(rawPublicKeyOf(privateKey))
  return { kid, sign: (message) => sign(null, message, privateKey) }
}
