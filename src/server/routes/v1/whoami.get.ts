// GET /v1/whoami: the calling token, its org and the server version (SPEC.md §5.3).

import { serverTime } from '../../../contract/common.js'
import { VERSION } from '../../../util/version.js'
import { authOf } from '../../auth/request-auth.js'
import { ALL_ROLES, defineRoute } from '../define-route.js'

export const route = defineRoute({
  method: 'GET',
  url: '/v1/whoami',
  permission: { resource: 'whoami', action: 'retrieve', roles: ALL_ROLES },
  handler: async (request) => {
    const { token, org } = authOf(request)
    return {
      token: {
        id: token.id,
        name: token.name,
        role: token.role,
        created_at: serverTime(token.createdAt),
        expires_at: token.expiresAt === null ? null : serverTime(token.expiresAt),
      },
      org: { id: org.id, name: org.name },
      server: { version: VERSION },
    }
  },
})
