// GET /v2/audit-log-webhook/jwks.json: the org's public keys, no auth and no events (SPEC.md §5.5).
// A valid bearer token selects its org; anything wrong with a token is ignored, never a 401.

import { Type } from 'typebox'
import { writeJwks } from '../../../core/jwks.js'
import { checkToken } from '../../auth/check-token.js'
import { ProblemError } from '../../problem.js'
import { defineRoute } from '../define-route.js'

export const route = defineRoute({
  method: 'GET',
  url: '/v2/audit-log-webhook/jwks.json',
  permission: null,
  schema: {
    querystring: Type.Object(
      { org_id: Type.Optional(Type.String({ maxLength: 64 })) },
      { additionalProperties: false },
    ),
  },
  handler: async (request, reply, { store, clock, signers, defaultOrgId }) => {
    const check = await checkToken(request.headers.authorization, store, clock.now())
    const requested = (request.query as { org_id?: string }).org_id
    let orgId = defaultOrgId
    if (check.outcome === 'success') orgId = check.token.orgId
    else if (requested !== undefined) {
      if (!(await store.findOrg(requested))) throw new ProblemError(404, `Org ${requested} not found`)
      orgId = requested
    }
    const jwks = writeJwks(await signers.jwks(orgId))
    // The org, and so the answer, may depend on the token: a shared cache must key on it.
    return reply
      .header('cache-control', 'public, max-age=300')
      .header('vary', 'Authorization')
      .type('application/json')
      .send(jwks)
  },
})
