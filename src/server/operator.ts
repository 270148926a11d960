// Owns the operator subcommands' access to the store (SPEC.md §9.6): the same data dir or
// database as `serve`, opened directly without the data-dir lock (SQLite's own locking suffices,
// so they work while a server runs; PostgreSQL serves many clients), first-start initialisation included.

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

/** Creates an org with its key and admin token; the token goes to `tokenFile` (0600), never to output. */
export async function createOrgWithAdmin(session: OperatorSession, name: string, tokenFile: string | undefined) {
  const { init, secret } = newOrg(name, 'initial-admin', session.nowMs)
  const path = tokenFile ?? join(session.dataDir, `org-${init.org.id}-admin-token`)
  writeSecretFile(path, secret)
  await session.store.createOrg(init)
  return { org: init.org, tokenFile: path }
}

/** A break-glass token for any org, written to `tokenFile` (0600). */
export async function createOperatorToken(
  session: OperatorSession,
  input: { orgId: string; role: Role; name: string; tokenFile: string },
): Promise<{ id: string; org: OrgRecord }> {
  const org = await session.store.findOrg(input.orgId)
  if (!org) throw new StoreError('not_found', `no org with id ${input.orgId}; see konnect-audit serve org list`)
  const { record, secret } = newToken(org.id, { name: input.name, role: input.role, expiresAtMs: null }, session.nowMs)
  writeSecretFile(input.tokenFile, secret)
  await session.store.insertToken(record)
  return { id: record.id, org }
}
