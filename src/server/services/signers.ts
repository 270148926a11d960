// Owns the server's signing keys in memory: one node:crypto Signer per org, built from the active
// key in the store on first use and dropped when the org's key rotates.

import { createPrivateKey } from 'node:crypto'
import type { Jwk } from '../../core/jwks.js'
import { jwkOf } from '../../core/jwks.js'
import type { Signer } from '../../core/signing.js'
import { createSigner, generatePrivateKey, kidOf, rawPublicKeyOf } from '../../core/signing.js'
import type { KeyRecord, Store } from '../../store/store.js'

export function newKeyRecord(orgId: string, nowMs: number): KeyRecord {
  const privateKey = generatePrivateKey()
  const publicKey = rawPublicKeyOf(privateKey)
  return {
    kid: kidOf(publicKey),
    orgId,
    status: 'active',
    publicKey,
    privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }),
    createdAt: nowMs,
    retiredAt: null,
  }
}

export class SignerCache {
  private readonly signers = new Map<string, Promise<Signer>>()

  constructor(private readonly store: Store) {}

  signerFor(orgId: string): Promise<Signer> {
    let signer = this.signers.get(orgId)
    if (!signer) {
      signer = this.store
        .activeKey(orgId)
        .then((key) => createSigner(createPrivateKey({ key: key.privateKey, format: 'der', type: 'pkcs8' })))
      signer.catch(() => this.signers.delete(orgId))
      this.signers.set(orgId, signer)
    }
    return signer
  }

  forget(orgId: string): void {
    this.signers.delete(orgId)
  }

  /** The org's JWKS entries: active key first, then retired keys newest first (SPEC.md §4.7). */
  async jwks(orgId: string): Promise<Jwk[]> {
    return (await this.store.listKeys(orgId)).map((key) => jwkOf(key.publicKey, key.status))
  }
}
