// POST /v1/tokens: creates a token; the response is the only place its secret ever appears.

import type { Static } from 'typebox'
import { CreateTokenBody } from '../../../contract/tokens.js'
import { parseRfc3339Ms } from '../../../util/rfc3339.js'
import { authOf } from '../../auth/request-auth.js'
import { createToken } from '../../services/tokens.js'
import { ADMIN, defineRoute } from '../define-route.js'

export const route = defineRoute({
  method: 'POST',
  url: '/v1/tokens',
  permission: { resource: 'tokens', action: 'create', roles: ADMIN },
  schema: { body: CreateTokenBody },
  handler: async (request, reply, { store, clock }) => {
    const body = request.body as Static<typeof CreateTokenBody>
    const expiresAtMs = body.expires_at === undefined ? null : parseRfc3339Ms(body.expires_at)
    const created = await createToken(
      store,
      authOf(request).org.id,
      { name: body.name, role: body.role as 'admin' | 'auditor' | 'ingest', expiresAtMs },
      clock.now(),
    )
    return reply.code(201).send(created)
  },
})
