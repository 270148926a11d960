// POST /v1/keys/rotate: a new active key, the old one retired in the same transaction; its public
// half stays in the JWKS so logs signed before still verify (SPEC.md §4.7).

import { serverTime } from '../../../contract/common.js'
import { authOf } from '../../auth/request-auth.js'
import { newKeyRecord } from '../../services/signers.js'
import { ADMIN, defineRoute } from '../define-route.js'

export const route = defineRoute({
  method: 'POST',
  url: '/v1/keys/rotate',
  permission: { resource: 'keys', action: 'edit', roles: ADMIN },
  handler: async (request, reply, { store, clock, signers }) => {
    const orgId = authOf(request).org.id
    const key = newKeyRecord(orgId, clock.now())
    await store.rotateKey(orgId, key, key.createdAt)
    signers.forget(orgId)
    return reply.code(201).send({ kid: key.kid, status: 'active', created_at: serverTime(key.createdAt) })
  },
})
