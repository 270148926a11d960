// Owns `logout`: forgets the profile's token (the server URL stays); the token is not revoked.

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
  if (saved?.token === undefined) {
    if (!f.globals.quiet) f.io.err(`Profile ${profile} has no token; nothing to do`)
    return
  }
  profiles.save(profile, saved.server === undefined ? {} : { server: saved.server })
  if (!f.globals.quiet)
    f.io.err(`Removed the token of profile ${profile} (revoke it on the server with konnect-audit tokens revoke)`)
}
