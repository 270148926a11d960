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
import { route as jwks } from './v2/jwks.get.js'
import { route as pull } from './v3/audit-logs.get.js'

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
]
