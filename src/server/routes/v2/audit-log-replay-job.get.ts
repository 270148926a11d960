// GET /v2/audit-log-replay-job: the org's replay job with its progress; readable by auditors (SPEC.md §5.6).

import { ReplayJobBody } from '../../../contract/replay.js'
import { authOf } from '../../auth/request-auth.js'
import { getReplayJob } from '../../services/replay.js'
import { defineRoute, READERS } from '../define-route.js'

export const route = defineRoute({
  method: 'GET',
  url: '/v2/audit-log-replay-job',
  permission: { resource: 'audit-log-replay-job', action: 'retrieve', roles: READERS },
  schema: { response: { 200: ReplayJobBody } },
  handler: async (request, _reply, services) => getReplayJob(services, authOf(request).org.id),
})
