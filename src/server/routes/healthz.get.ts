// GET /healthz: liveness and readiness in one (SPEC.md §5.11); 503 when the store cannot serve.

import { VERSION } from '../../util/version.js'
import { defineRoute } from './define-route.js'

export const route = defineRoute({
  method: 'GET',
  url: '/healthz',
  permission: null,
  handler: async (_request, reply, { store }) => {
    try {
      await store.ping()
      return { status: 'ok', version: VERSION, store: store.kind }
    } catch {
      return reply.code(503).send({ status: 'unavailable', version: VERSION, store: store.kind })
    }
  },
})
