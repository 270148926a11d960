// Owns `logout`: forgets the profile's token (the server URL stays); the token is not revoked.

import { writeJson } from '../../io/output.js'
import type { OptionsOf } from '../define-command.js'
import { defineCommand } from '../define-command.js'
import type { Factory } from '../factory.js'

export const definition = defineCommand({
  name: 'logout',
  summary: "Remove the profile's token (it stays valid on the server)",
  args: [],
  flags: {},
  examples: ['konnect-audit logout', 'konnect-audit logout --profile staging'],
})

export async function run(_options: OptionsOf<typeof definition>, f: Factory): Promise<void> {
  const profiles = await f.profiles()
  const { profile } = await f.target()
  const saved = profiles.get(profile)
  const hadToken = saved?.token !== undefined
  if (hadToken) profiles.save(profile, saved?.server === undefined ? {} : { server: saved.server })
  if (f.globals.json) await writeJson(f.io, { profile, token_removed: hadToken })
  else if (f.globals.quiet) return
  else if (!hadToken) f.io.err(`Profile ${profile} has no token; nothing to do`)
  else f.io.err(`Removed the token of profile ${profile} (revoke it on the server with konnect-audit tokens revoke)`)
}
