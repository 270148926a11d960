// GET /v3/audit-logs: stored lines of a snapshot, byte for byte, as a JSON page or as NDJSON
// (SPEC.md §5.9). Lines are spliced, never parsed, so 64-bit trace ids survive.

import { PullQuery } from '../../../contract/audit-logs.js'
import { authOf } from '../../auth/request-auth.js'
import { qualityOf } from '../../media-type.js'
import type { PullRequest } from '../../services/pull.js'
import { pullPage } from '../../services/pull.js'
import { defineRoute, READERS } from '../define-route.js'

const NEWLINE = Buffer.from('\n')
const COMMA = Buffer.from(',')

export const route = defineRoute({
  method: 'GET',
  url: '/v3/audit-logs',
  permission: { resource: 'audit-logs', action: 'list', roles: READERS },
  schema: { querystring: PullQuery },
  handler: async (request, reply, services) => {
    const page = await pullPage(services, authOf(request).org.id, request.query as PullRequest)
    const lines = page.events.map((event) => event.line)
    // NDJSON when the client asks for it at least as much as for JSON (q=0 refuses it).
    const ndjson = qualityOf(request.headers.accept, 'application/x-ndjson')
    if (ndjson > 0 && ndjson >= qualityOf(request.headers.accept, 'application/json')) {
      const links = [page.next && `<${page.next}>; rel="next"`, page.previous && `<${page.previous}>; rel="prev"`]
      const link = links.filter((value) => value !== null).join(', ')
      if (link !== '') reply.header('link', link)
      const body = Buffer.concat(lines.flatMap((line) => [line, NEWLINE]))
      return reply.type('application/x-ndjson; charset=utf-8').send(body)
    }
    const meta = JSON.stringify({ page: { next: page.next, previous: page.previous } })
    const data = lines.flatMap((line, i) => (i === 0 ? [line] : [COMMA, line]))
    const body = Buffer.concat([Buffer.from('{"data":['), ...data, Buffer.from(`],"meta":${meta}}`)])
    return reply.type('application/json; charset=utf-8').send(body)
  },
})
