// Owns the server's signing keys in memory: one node:crypto Signer per org, built from the active
// key in the store on first use and dropped when the org's key rotates.

import { createPrivateKey } from 'node:crypto'
import type { Jwk } from '../../core/jwks.js'
import { jwkOf } from '../../core/jwks.js'
import type { Signer } from '../../core/signing.js'
import { createSigner, generatePrivateKey, kidOf, rawPublicKeyOf } from '../../core/signing.js'
import type { KeyRecord, Store } from '../../store/store.js'
import { SigningPool } from './signing-pool.js'

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

/** An org's active key: a Signer for this thread, and its PKCS#8 bytes for signing workers. */
export interface ActiveKey {
  readonly signer: Signer
  readonly kid: string
  readonly pkcs8: Buffer
}

export class SignerCache {
  private readonly keys = new Map<string, Promise<ActiveKey>>()
  private pool: SigningPool | null = null
  private closed = false

  constructor(private readonly store: Store) {}

  /** Signs UTF-8 lines with `key` on the signing workers (started on first use). */
  signOnWorkers(key: ActiveKey, lines: readonly string[]): Promise<readonly string[]> {
    if (this.closed) return Promise.reject(new Error('the server is stopping; nothing more is signed'))
    this.pool ??= new SigningPool()
    return this.pool.sign(key, lines)
  }

  async close(): Promise<void> {
    this.closed = true
    await this.pool?.close()
  }

  activeKey(orgId: string): Promise<ActiveKey> {
    let key = this.keys.get(orgId)
    if (!key) {
      key = this.store.activeKey(orgId).then((record) => ({
        signer: createSigner(createPrivateKey({ key: record.privateKey, format: 'der', type: 'pkcs8' })),
        kid: record.kid,
        pkcs8: record.privateKey,
      }))
      key.catch(() => this.keys.delete(orgId))
      this.keys.set(orgId, key)
    }
    return key
  }

  async signerFor(orgId: string): Promise<Signer> {
    return (await this.activeKey(orgId)).signer
  }

  forget(orgId: string): void {
    this.keys.delete(orgId)
  }

  /** The org's JWKS entries: active key first, then retired keys newest first (SPEC.md §4.7). */
  async jwks(orgId: string): Promise<Jwk[]> {
    return (await this.store.listKeys(orgId)).map((key) => jwkOf(key.publicKey, key.status))
  }
}
