// Owns `tokens create`: makes an API token in the caller's org (SPEC.md §5.3, §9.5). The secret
// goes to stdout alone (the one place a token is ever printed); details and the hint go to stderr.

import { writeJson } from '../../../io/output.js'
import { parseDurationMs } from '../../../util/duration.js'
import { parseRfc3339Ms } from '../../../util/rfc3339.js'
import type { OptionsOf } from '../../define-command.js'
import { defineCommand } from '../../define-command.js'
import { UsageError } from '../../errors.js'
import type { Factory } from '../../factory.js'
import { sendV1 } from '../v1-route.js'

export const definition = defineCommand({
  name: 'tokens create',
  summary: 'Create an API token and print its secret once',
  args: [],
  flags: {
    name: { kind: 'string', placeholder: 'name', required: true, help: 'Token name (1-100 bytes)' },
    role: { kind: 'enum', choices: ['admin', 'auditor', 'ingest'], help: 'What the token may do (required)' },
    expiresIn: { kind: 'string', placeholder: 'duration', help: 'Expire after this long, e.g. 90d' },
    expiresAt: { kind: 'string', placeholder: 'time', help: 'Expire at this time (RFC 3339)' },
  },
  examples: [
    'konnect-audit tokens create --name ci-ingest --role ingest --expires-in 90d > ingest-token.txt',
    'konnect-audit tokens create --name siem-auditor --role auditor --json',
  ],
})

interface CreatedToken {
  readonly id: string
  readonly name: string
  readonly role: string
  readonly org_id: string
  readonly created_at: string
  readonly expires_at: string | null
  readonly token: string
}

export async function run(options: OptionsOf<typeof definition>, f: Factory): Promise<void> {
  if (options.role === undefined) throw new UsageError('--role is required: admin, auditor or ingest')
  const expiresAt = expiresAtFrom(options, Date.now())
  const api = await f.api()
  const body = { name: options.name, role: options.role, ...(expiresAt === null ? {} : { expires_at: expiresAt }) }
  const created = (await sendV1(api, 'POST', '/v1/tokens', { body })).json<CreatedToken>()
  if (f.globals.json) {
    await writeJson(f.io, created)
    return
  }
  await f.io.out(`${created.token}\n`)
  if (f.globals.quiet || !f.io.stderrIsTTY) return
  f.io.err(`Created ${created.role} token ${created.name} (${created.id}), expires ${created.expires_at ?? 'never'}`)
  f.io.err('Store it now: the secret is shown only this once and cannot be read back.')
}

/** The `expires_at` to send, in UTC, from --expires-in or --expires-at; null for no expiry. */
function expiresAtFrom(options: OptionsOf<typeof definition>, nowMs: number): string | null {
  if (options.expiresIn !== undefined && options.expiresAt !== undefined) {
    throw new UsageError('--expires-in and --expires-at exclude each other; pass one')
  }
  if (options.expiresIn !== undefined) {
    const durationMs = parseDurationMs(options.expiresIn)
    const at = new Date(nowMs + (durationMs ?? 0))
    if (durationMs === null || durationMs === 0 || Number.isNaN(at.getTime())) {
      throw new UsageError(`--expires-in ${options.expiresIn} is not a usable duration; use e.g. 12h, 90d or 1w`)
    }
    return at.toISOString()
  }
  if (options.expiresAt !== undefined) {
    const atMs = parseRfc3339Ms(options.expiresAt)
    if (atMs === null) {
      throw new UsageError(`--expires-at ${options.expiresAt} is not an RFC 3339 time; use e.g. 2027-01-31T00:00:00Z`)
    }
    return new Date(atMs).toISOString()
  }
  return null
}
