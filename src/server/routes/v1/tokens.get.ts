// GET /v1/tokens: the org's tokens without secrets, paged both ways by opaque cursors (SPEC.md
// §5.3, paging as §5.7).

import type { Static } from 'typebox'
import { ListTokensQuery } from '../../../contract/tokens.js'
import { authOf } from '../../auth/request-auth.js'
import { badCursor, keysetPage, pageDirectionOf } from '../../services/paging.js'
import { tokenView } from '../../services/tokens.js'
import { ADMIN, defineRoute } from '../define-route.js'

const DEFAULT_PAGE_SIZE = 100

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** A token cursor: base64url JSON naming the token a page continues from (`token`: its id). */
function encodeTokenCursor(id: string): string {
  return Buffer.from(JSON.stringify({ token: id })).toString('base64url')
}

/** The token id of a cursor this list made; any other (another list's, a forged one) is a 400. */
function decodeTokenCursor(cursor: string, field: string): string {
  try {
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { token?: unknown } | null
    const id = decoded?.token
    if (typeof id === 'string' && UUID.test(id) && Object.keys(decoded ?? {}).length === 1) return id
  } catch {
    // falls through to the 400 below
  }
  throw badCursor(field)
}

export const route = defineRoute({
  method: 'GET',
  url: '/v1/tokens',
  permission: { resource: 'tokens', action: 'list', roles: ADMIN },
  schema: { querystring: ListTokensQuery },
  handler: async (request, _reply, { store }) => {
    const query = request.query as Static<typeof ListTokensQuery>
    const orgId = authOf(request).org.id
    const size = query['page[size]'] ?? DEFAULT_PAGE_SIZE
    const { page, next, previous } = await keysetPage({
      size,
      direction: pageDirectionOf(query, decodeTokenCursor),
      read: (direction, limit) => store.listTokens({ orgId, ...direction, limit }),
      positionOf: (token) => token.id,
      link: (cursor, id) =>
        `/v1/tokens?${new URLSearchParams({ 'page[size]': String(size), [cursor]: encodeTokenCursor(id) })}`,
    })
    return { data: page.map(tokenView), meta: { next, previous, size } }
  },
})
