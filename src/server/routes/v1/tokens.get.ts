// GET /v1/tokens: the org's tokens without secrets, paged by an opaque cursor.

import type { Static } from 'typebox'
import { ListTokensQuery } from '../../../contract/tokens.js'
import { authOf } from '../../auth/request-auth.js'
import { decodeCursor, pageLink } from '../../services/paging.js'
import { tokenView } from '../../services/tokens.js'
import { ADMIN, defineRoute } from '../define-route.js'

export const route = defineRoute({
  method: 'GET',
  url: '/v1/tokens',
  permission: { resource: 'tokens', action: 'list', roles: ADMIN },
  schema: { querystring: ListTokensQuery },
  handler: async (request, _reply, { store }) => {
    const query = request.query as Static<typeof ListTokensQuery>
    const size = query['page[size]'] ?? 100
    const after = query['page[after]'] === undefined ? null : decodeCursor(query['page[after]'], 'page[after]')
    const tokens = await store.listTokens(authOf(request).org.id, after, size + 1)
    const page = tokens.slice(0, size)
    const last = page.at(-1)
    const next = tokens.length > size && last ? pageLink('/v1/tokens', size, last.id) : null
    return { data: page.map(tokenView), meta: { next, previous: null, size } }
  },
})
