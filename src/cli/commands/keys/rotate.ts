// Owns `keys rotate`: a new active signing key, the old one retired but kept in the JWKS so logs
// signed before still verify (SPEC.md §4.7). Prints the new kid; confirms unless --yes.

import { writeJson } from '../../../io/output.js'
import type { OptionsOf } from '../../define-command.js'
import { defineCommand } from '../../define-command.js'
import type { Factory } from '../../factory.js'
import { confirmAction } from '../confirm-action.js'
import { sendV1 } from '../v1-route.js'

export const definition = defineCommand({
  name: 'keys rotate',
  summary: 'Make a new signing key active and retire the current one',
  args: [],
  flags: { yes: { kind: 'boolean', help: 'Do not ask for confirmation' } },
  examples: [
    'konnect-audit keys rotate --yes',
    'konnect-audit keys rotate --yes && konnect-audit keys export -o jwks.json',
  ],
})

interface RotatedKey {
  readonly kid: string
  readonly status: string
  readonly created_at: string
}

export async function run(options: OptionsOf<typeof definition>, f: Factory): Promise<void> {
  const api = await f.api()
  await confirmAction(f, {
    yes: options.yes,
    question: 'Rotate the signing key? Receivers caching the JWKS must refresh it.',
    action: 'rotating the signing key',
    declined: 'not rotated',
  })
  const key = (await sendV1(api, 'POST', '/v1/keys/rotate')).json<RotatedKey>()
  if (f.globals.json) await writeJson(f.io, key)
  else await f.io.out(`${key.kid}\n`)
  if (!f.globals.quiet) {
    f.io.err(
      `New active key ${key.kid}; the old key is retired and stays in the JWKS. Receivers that cache the JWKS must refresh it (konnect-audit keys export).`,
    )
  }
}
