// Owns `whoami`: which profile, server and token this shell uses and what the server says about
// the token (SPEC.md §9.5). The token itself is never shown.

import { writeFields, writeJson } from '../../io/output.js'
import type { OptionsOf } from '../define-command.js'
import { defineCommand } from '../define-command.js'
import type { Factory } from '../factory.js'

export const definition = defineCommand({
  name: 'whoami',
  summary: 'Show the profile, server and token in use',
  args: [],
  flags: {},
  examples: ['konnect-audit whoami', 'konnect-audit whoami --json'],
})

interface WhoAmI {
  readonly token: {
    readonly id: string
    readonly name: string
    readonly role: string
    readonly expires_at: string | null
  }
  readonly org: { readonly id: string; readonly name: string }
  readonly server: { readonly version: string }
}

export async function run(_options: OptionsOf<typeof definition>, f: Factory): Promise<void> {
  const target = await f.target()
  const api = await f.api()
  const identity = (await api.send('GET', '/v1/whoami')).json<WhoAmI>()
  const configPath = (await f.profiles()).path
  const local = {
    profile: target.profile,
    server: target.server?.value ?? null,
    server_source: target.server?.source ?? null,
    token_source: target.token?.source ?? null,
    config_path: configPath,
  }
  if (f.globals.json) {
    await writeJson(f.io, {
      ...local,
      token: identity.token,
      org: identity.org,
      server_version: identity.server.version,
    })
    return
  }
  await writeFields(f.io, [
    ['Profile', target.profile],
    ['Server', `${local.server} (from ${local.server_source})`],
    ['Token', `${identity.token.name} (${identity.token.id}), from ${local.token_source}`],
    ['Role', identity.token.role],
    ['Expires', identity.token.expires_at ?? 'never'],
    ['Org', `${identity.org.name} (${identity.org.id})`],
    ['Server version', identity.server.version],
    ['Config', configPath],
  ])
}
