// Owns the list of every route the server serves.

import type { RouteDefinition } from './define-route.js'
import { route as healthz } from './healthz.get.js'
import { route as ingest } from './v1/audit-events.post.js'
import { route as keysList } from './v1/keys.get.js'
import { route as keysRotate } from './v1/keys-rotate.post.js'
import { route as tokensRevoke } from './v1/tokens.delete.js'
import { route as tokensList } from './v1/tokens.get.js'
import { route as tokensCreate } from './v1/tokens.post.js'
import { route as whoami } from './v1/whoami.get.js'
import { route as replayJobGetV2 } from './v2/audit-log-replay-job.get.js'
import { route as replayJobPutV2 } from './v2/audit-log-replay-job.put.js'
import { route as webhookGet } from './v2/audit-log-webhook.get.js'
import { route as webhookPatch } from './v2/audit-log-webhook.patch.js'
import { route as webhookStatusV2 } from './v2/audit-log-webhook-status.get.js'
import { route as webhookTest } from './v2/audit-log-webhook-test.post.js'
import { route as jwks } from './v2/jwks.get.js'
import { route as destinationsList } from './v3/audit-log-destinations.get.js'
import { route as destinationsCreate } from './v3/audit-log-destinations.post.js'
import { route as destinationDelete } from './v3/audit-log-destinations-by-id.delete.js'
import { route as destinationGet } from './v3/audit-log-destinations-by-id.get.js'
import { route as destinationPatch } from './v3/audit-log-destinations-by-id.patch.js'
import { route as replayJobGetV3 } from './v3/audit-log-replay-job.get.js'
import { route as replayJobPutV3 } from './v3/audit-log-replay-job.put.js'
import { route as webhookV3Delete } from './v3/audit-log-webhook.delete.js'
import { route as webhookV3Get } from './v3/audit-log-webhook.get.js'
import { route as webhookV3Patch } from './v3/audit-log-webhook.patch.js'
import { route as webhookStatusV3 } from './v3/audit-log-webhook-status.get.js'
import { route as pull } from './v3/audit-logs.get.js'
import { route as counts } from './v3/audit-logs-counts.get.js'
import { route as stream } from './v3/audit-logs-stream.get.js'

export const routes: readonly RouteDefinition[] = [
  healthz,
  jwks,
  whoami,
  tokensCreate,
  tokensList,
  tokensRevoke,
  keysList,
  keysRotate,
  ingest,
  pull,
  counts,
  stream,
  webhookGet,
  webhookPatch,
  webhookStatusV2,
  webhookTest,
  webhookStatusV3,
  webhookV3Get,
  webhookV3Patch,
  webhookV3Delete,
  replayJobPutV2,
  replayJobGetV2,
  replayJobPutV3,
  replayJobGetV3,
  destinationsList,
  destinationsCreate,
  destinationGet,
  destinationPatch,
  destinationDelete,
]
