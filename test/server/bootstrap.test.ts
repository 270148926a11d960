// First start when several processes share one data dir (PostgreSQL replicas, or an operator
// subcommand beside a first `serve`): exactly one creates the org, and the initial-admin-token file
// holds the token of the org that was created, whoever created it.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { generateTokenSecret, hashTokenSecret } from '../../src/core/tokens.js'
import { bootstrapStore } from '../../src/server/bootstrap.js'
import { openPostgresStore } from '../../src/store/postgres/index.js'
import { openSqliteStore } from '../../src/store/sqlite/index.js'
import type { Store } from '../../src/store/store.js'
import {
  dropTestSchemas,
  freshSchemaName,
  requirePostgres,
  SKIP_POSTGRES,
  TEST_DATABASE_URL,
} from '../helpers/postgres.js'

const dirs: string[] = []
const stores: Store[] = []
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ka-bootstrap-'))
  dirs.push(dir)
  return dir
}
const keep = (store: Store) => {
  stores.push(store)
  return store
}

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close()
})
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** Starts `stores` together on one data dir; returns what each start said and the token file's secret. */
async function startTogether(sharing: readonly Store[], dataDir: string) {
  const starts = await Promise.all(
    sharing.map((store) => bootstrapStore(store, { dataDir, bootstrapToken: null, nowMs: 1000 })),
  )
  const tokenFile = join(dataDir, 'initial-admin-token')
  return { starts, secret: readFileSync(tokenFile, 'utf8').trim(), mode: statSync(tokenFile).mode & 0o777 }
}

async function expectAdminToken(store: Store, secret: string): Promise<void> {
  expect(await store.findTokenByHash(hashTokenSecret(secret))).toMatchObject({ name: 'initial-admin', role: 'admin' })
}

describe('first start on a shared data dir', () => {
  it('SQLite: two connections starting together create one org whose token is in the file', async () => {
    const dataDir = freshDir()
    const path = join(dataDir, 'konnect-audit.db')
    const sharing = [keep(await openSqliteStore({ path })), keep(await openSqliteStore({ path }))]
    const { starts, secret, mode } = await startTogether(sharing, dataDir)

    expect(starts.filter((start) => start.created)).toHaveLength(1)
    expect(new Set(starts.map((start) => start.defaultOrgId)).size).toBe(1)
    expect(mode).toBe(0o600)
    await expectAdminToken(sharing[0] as Store, secret)
    expect(readdirSync(dataDir).filter((name) => name.endsWith('.tmp'))).toEqual([])
  })

  it('keeps a token file left by a first start that never committed, and uses its secret', async () => {
    const dataDir = freshDir()
    const secret = generateTokenSecret()
    writeFileSync(join(dataDir, 'initial-admin-token'), `${secret}\n`, { mode: 0o600 })
    const store = keep(await openSqliteStore({ path: join(dataDir, 'konnect-audit.db') }))
    const { starts, secret: inFile } = await startTogether([store], dataDir)

    expect(starts[0]?.created).toBe(true)
    expect(inFile).toBe(secret)
    await expectAdminToken(store, secret)
  })

  it('removes its token file when another process created the org with a token of its own', async () => {
    const dataDir = freshDir()
    const path = join(dataDir, 'konnect-audit.db')
    const other = keep(await openSqliteStore({ path }))
    const opened = keep(await openSqliteStore({ path }))
    // This start looks before the other process commits, and commits after it.
    const racing: Store = {
      ...opened,
      findOrgByName: async (name) => {
        const before = await opened.findOrgByName(name)
        await bootstrapStore(other, { dataDir: freshDir(), bootstrapToken: generateTokenSecret(), nowMs: 1000 })
        return before
      },
    }
    const start = await bootstrapStore(racing, { dataDir, bootstrapToken: null, nowMs: 1000 })

    expect(start).toMatchObject({ created: false, tokenFile: null })
    expect(existsSync(join(dataDir, 'initial-admin-token'))).toBe(false)
  })

  describe.skipIf(SKIP_POSTGRES)('PostgreSQL', () => {
    beforeAll(requirePostgres)
    afterAll(dropTestSchemas)

    it('three replicas starting together create one org whose token is in the file', async () => {
      const schema = freshSchemaName()
      const sharing = await Promise.all(
        [0, 1, 2].map(async () => keep(await openPostgresStore({ url: TEST_DATABASE_URL, schema }))),
      )
      const dataDir = freshDir()
      const { starts, secret } = await startTogether(sharing, dataDir)

      expect(starts.filter((start) => start.created)).toHaveLength(1)
      await expectAdminToken(sharing[2] as Store, secret)
    })
  })
})
