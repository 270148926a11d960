// PUT /v3/audit-log-replay-job: the same as under /v2: accepts a replay of a time window (202) or
// says why not (SPEC.md §5.6).

import type { PutReplayJobRequest } from '../../../contract/replay.js'
import { PutReplayJobBody, ReplayJobBody } from '../../../contract/replay.js'
import { authOf } from '../../auth/request-auth.js'
import { submitReplayJob } from '../../services/replay.js'
import { ADMIN, defineRoute } from '../define-route.js'

export const route = defineRoute({
  method: 'PUT',
  url: '/v3/audit-log-replay-job',
  permission: { resource: 'audit-log-replay-job', action: 'edit', roles: ADMIN },
  schema: { body: PutReplayJobBody, response: { 202: ReplayJobBody } },
  handler: async (request, reply, services) => {
    const job = await submitReplayJob(services, authOf(request).org.id, request.body as PutReplayJobRequest)
    return reply.code(202).send(job)
  },
})
