// Owns first start (SPEC.md §9.6): on an empty store, in one transaction, the `default` org, its
// Ed25519 key and the admin token `initial-admin`, whose secret goes once to a 0600 file in the
// data dir (unless the operator supplied it) and never to the log.

import { randomUUID } from 'node:crypto'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { NewOrg, Store } from '../store/store.js'
import { newKeyRecord } from './services/signers.js'
import { newToken } from './services/tokens.js'

export const DEFAULT_ORG_NAME = 'default'

export interface BootstrapResult {
  readonly defaultOrgId: string
  /** Where the generated admin token was written, when this start created the org. */
  readonly tokenFile: string | null
  readonly created: boolean
}

/** A new org with its first key and an admin token; the secret is returned, never stored. */
export function newOrg(
  name: string,
  tokenName: string,
  nowMs: number,
  secret?: string,
): { init: NewOrg; secret: string } {
  const orgId = randomUUID()
  const token = newToken(orgId, { name: tokenName, role: 'admin', expiresAtMs: null }, nowMs, secret)
  return {
    init: { org: { id: orgId, name, createdAt: nowMs }, key: newKeyRecord(orgId, nowMs), adminToken: token.record },
    secret: token.secret,
  }
}

export function writeSecretFile(path: string, secret: string): void {
  writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'w' })
}

export async function bootstrapStore(
  store: Store,
  options: { dataDir: string; bootstrapToken: string | null; nowMs: number },
): Promise<BootstrapResult> {
  const existing = await store.findOrgByName(DEFAULT_ORG_NAME)
  if (existing) return { defaultOrgId: existing.id, tokenFile: null, created: false }
  const { init, secret } = newOrg(DEFAULT_ORG_NAME, 'initial-admin', options.nowMs, options.bootstrapToken ?? undefined)
  // The file is written before the commit, so an acknowledged first start never loses the token.
  const tokenFile = options.bootstrapToken === null ? join(options.dataDir, 'initial-admin-token') : null
  if (tokenFile) writeSecretFile(tokenFile, secret)
  const created = await store.bootstrap(init)
  if (!created) {
    // Another replica sharing this data dir may have won and written its own token there.
    if (tokenFile && readFileSync(tokenFile, 'utf8') === `${secret}\n`) rmSync(tokenFile, { force: true })
    const winner = await store.findOrgByName(DEFAULT_ORG_NAME)
    if (!winner) throw new Error('the store has orgs but none named default')
    return { defaultOrgId: winner.id, tokenFile: null, created: false }
  }
  return { defaultOrgId: init.org.id, tokenFile, created: true }
}
