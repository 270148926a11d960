// A graceful stop loses no audit event: the access event of the last request, written after its
// response and waiting to ride along with a later write, is committed before the store closes.

import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SQLITE_FILE } from '../../src/server/data-dir.js'
import { openSqliteStore } from '../../src/store/sqlite/index.js'
import { jsonBody, startTestServer } from '../helpers/server.js'
import { storedEvents } from '../helpers/stored-events.js'

describe('graceful stop', () => {
  it('commits the access event of the last request before closing the store', async () => {
    const server = await startTestServer()
    const orgId = server.services.defaultOrgId
    const response = await server.request('/v1/tokens', {
      method: 'POST',
      ...jsonBody({ name: 'last', role: 'auditor' }),
    })
    expect(response.status).toBe(201)
    await response.arrayBuffer()
    const traceId = response.headers.get('konnect-audit-trace-id')
    await server.close()

    const store = await openSqliteStore({ path: join(server.dataDir, SQLITE_FILE) })
    try {
      const names = (await storedEvents(store, orgId))
        .filter((event) => event.traceId === traceId)
        .map((event) => event.fields.name)
      expect(names).toEqual(['AUTHENTICATION_OUTCOME_SUCCESS', 'Authz.tokens', 'Ingress'])
    } finally {
      await store.close()
    }
  })
})
