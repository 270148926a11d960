// Owns the request and response bodies of the replay-job routes (SPEC.md §5.6), identical under
// /v2 and /v3. `progress` and `error` are our additions to Konnect's body.

import type { Static } from 'typebox'
import { Type } from 'typebox'
import { NullableString } from './webhook.js'

/** Both bounds required, RFC 3339 with any offset; the service truncates fractions and checks the window. */
export const PutReplayJobBody = Type.Object(
  {
    start_at: Type.String({ format: 'date-time' }),
    end_at: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
)
export type PutReplayJobRequest = Static<typeof PutReplayJobBody>

export const REPLAY_JOB_STATUSES = ['unconfigured', 'accepted', 'pending', 'running', 'completed', 'failed'] as const

export const ReplayJobBody = Type.Object(
  {
    /** UTC whole seconds as given (`2026-11-25T09:00:00Z`), or `0001-01-01T00:00:00Z` before any job. */
    start_at: Type.String(),
    end_at: Type.String(),
    status: Type.Enum([...REPLAY_JOB_STATUSES]),
    /** Server time with milliseconds, or `0001-01-01T00:00:00Z` before any job. */
    updated_at: Type.String(),
    progress: Type.Object(
      {
        /** Events selected when the job started running (0 before). */
        total: Type.Integer(),
        /** Selected events the receiver acknowledged with a 2xx. */
        sent: Type.Integer(),
      },
      { additionalProperties: false },
    ),
    /** Why the job failed, e.g. `batch 5: HTTP 401 Unauthorized`; null otherwise. */
    error: NullableString,
  },
  { additionalProperties: false },
)
export type ReplayJobResponse = Static<typeof ReplayJobBody>
