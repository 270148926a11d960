// Owns the operator subcommands' access to the store (SPEC.md §9.6): the same data dir or
// database as `serve`, opened directly without the data-dir lock (SQLite's own locking suffices,
// so they work while a server runs; PostgreSQL serves many clients), first-start initialisation included.

import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { systemClock } from '../core/clock.js'
import type { OrgRecord, Role, Store } from '../store/store.js'
import { StoreError } from '../store/store.js'
import { bootstrapStore, newOrg, writeSecretFile } from './bootstrap.js'
import type { ServeFlags } from './config.js'
import { resolveServerConfig } from './config.js'
import { ensureDataDir } from './data-dir.js'
import { openConfiguredStore } from './open-store.js'
import { newToken } from './services/tokens.js'

export interface OperatorSession {
  readonly store: Store
  readonly dataDir: string
  readonly nowMs: number
  close(): Promise<void>
}

export async function openOperatorSession(
  flags: ServeFlags,
  env: Readonly<Record<string, string | undefined>>,
): Promise<OperatorSession> {
  const config = resolveServerConfig(flags, env)
  ensureDataDir(config.dataDir)
  const store = await openConfiguredStore(config)
  const nowMs = systemClock.now()
  await bootstrapStore(store, { dataDir: config.dataDir, bootstrapToken: config.bootstrapToken, nowMs })
  return { store, dataDir: config.dataDir, nowMs, close: () => store.close() }
}

/** A secret file the operator named already exists: a token's secret is never overwritten. */
export class SecretFileExistsError extends Error {
  constructor(readonly path: string) {
    super(`${path} already exists; choose a new file (a token secret is never overwritten)`)
  }
}

/**
 * Writes `secret` to a new 0600 file, then runs `store`; the file is removed again if `store`
 * fails, so a file never holds a secret the store does not know.
 */
async function withNewSecretFile<T>(path: string, secret: string, store: () => Promise<T>): Promise<T> {
  try {
    writeSecretFile(path, secret)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new SecretFileExistsError(path)
    throw error
  }
  try {
    return await store()
  } catch (error) {
    rmSync(path, { force: true })
    throw error
  }
}

/** Creates an org with its key and admin token; the token goes to `tokenFile` (0600), never to output. */
export async function createOrgWithAdmin(session: OperatorSession, name: string, tokenFile: string | undefined) {
  if (await session.store.findOrgByName(name)) {
    throw new StoreError('conflict', `an org named ${name} already exists; see konnect-audit serve org list`)
  }
  const { init, secret } = newOrg(name, 'initial-admin', session.nowMs)
  const path = tokenFile ?? join(session.dataDir, `org-${init.org.id}-admin-token`)
  await withNewSecretFile(path, secret, () => session.store.createOrg(init))
  return { org: init.org, tokenFile: path }
}

/** A break-glass token for any org (by id or name), written to `tokenFile` (0600). */
export async function createOperatorToken(
  session: OperatorSession,
  input: { org: string; role: Role; name: string; tokenFile: string },
): Promise<{ id: string; org: OrgRecord }> {
  const org = (await session.store.findOrg(input.org)) ?? (await session.store.findOrgByName(input.org))
  if (!org) throw new StoreError('not_found', `no org with id or name ${input.org}; see konnect-audit serve org list`)
  const { record, secret } = newToken(org.id, { name: input.name, role: input.role, expiresAtMs: null }, session.nowMs)
  await withNewSecretFile(input.tokenFile, secret, () => session.store.insertToken(record))
  return { id: record.id, org }
}
