// GET /v1/keys: the org's signing keys (never the private halves), active first.

import { serverTime } from '../../../contract/common.js'
import { authOf } from '../../auth/request-auth.js'
import { defineRoute, READERS } from '../define-route.js'

export const route = defineRoute({
  method: 'GET',
  url: '/v1/keys',
  permission: { resource: 'keys', action: 'list', roles: READERS },
  handler: async (request, _reply, { store }) => {
    const keys = await store.listKeys(authOf(request).org.id)
    return {
      data: keys.map((key) => ({
        kid: key.kid,
        status: key.status,
        created_at: serverTime(key.createdAt),
        retired_at: serverTime(key.retiredAt),
      })),
    }
  },
})
