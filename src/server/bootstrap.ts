// Owns first start (SPEC.md §9.6): on an empty store, in one transaction, the `default` org, its
// Ed25519 key and the admin token `initial-admin`, whose secret goes once to a 0600 file in the
// data dir (unless the operator supplied it) and never to the log. Processes starting together on
// one data dir (PostgreSQL replicas, an operator subcommand beside a first `serve`) share that
// file's secret, so whichever commits the org, the file holds its token.

import { randomUUID } from 'node:crypto'
import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateTokenSecret, hashTokenSecret, isWellFormedToken } from '../core/tokens.js'
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

/** Writes `secret` to a new 0600 file; a file that exists is refused (EEXIST), never overwritten. */
export function writeSecretFile(path: string, secret: string): void {
  writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' })
}

/**
 * Creates the token file with `secret`, atomically and only if it does not exist; otherwise (another
 * process sharing the data dir got there first) returns the secret the file already holds.
 */
function claimTokenFile(path: string, secret: string): string {
  const temp = `${path}.${process.pid}.${randomUUID()}.tmp`
  writeSecretFile(temp, secret)
  try {
    linkSync(temp, path)
    return secret
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    const existing = readFileSync(path, 'utf8').trim()
    if (!isWellFormedToken(existing)) throw new Error(`${path} holds no admin token; remove it and start again`)
    return existing
  } finally {
    rmSync(temp, { force: true })
  }
}

export async function bootstrapStore(
  store: Store,
  options: { dataDir: string; bootstrapToken: string | null; nowMs: number },
): Promise<BootstrapResult> {
  const existing = await store.findOrgByName(DEFAULT_ORG_NAME)
  if (existing) return { defaultOrgId: existing.id, tokenFile: null, created: false }
  // The file is written before the commit, so an acknowledged first start never loses the token.
  let tokenFile: string | null = null
  let secret = options.bootstrapToken
  if (secret === null) {
    tokenFile = join(options.dataDir, 'initial-admin-token')
    secret = claimTokenFile(tokenFile, generateTokenSecret())
  }
  const { init } = newOrg(DEFAULT_ORG_NAME, 'initial-admin', options.nowMs, secret)
  const created = await store.bootstrap(init)
  if (!created) {
    // Another process created the org: the file stays only if its secret is that org's token.
    if (tokenFile && (await store.findTokenByHash(hashTokenSecret(secret))) === null) {
      rmSync(tokenFile, { force: true })
    }
    const winner = await store.findOrgByName(DEFAULT_ORG_NAME)
    if (!winner) throw new Error('the store has orgs but none named default')
    return { defaultOrgId: winner.id, tokenFile: null, created: false }
  }
  return { defaultOrgId: init.org.id, tokenFile, created: true }
}
