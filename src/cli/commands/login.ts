// Owns `login`: stores a server URL and a token in a profile and makes it current, after checking
// the token with GET /v1/whoami (SPEC.md §9.5). The token comes from stdin or a masked prompt.

import { ApiError } from '../../api/errors.js'
import { writeJson } from '../../io/output.js'
import { canPrompt, promptSecret, readStdinText } from '../../io/secret-input.js'
import type { OptionsOf } from '../define-command.js'
import { defineCommand } from '../define-command.js'
import { NotAuthenticatedError, UsageError } from '../errors.js'
import type { Factory } from '../factory.js'

export const definition = defineCommand({
  name: 'login',
  summary: 'Save a server and token in a profile (token from stdin or a prompt)',
  args: [],
  flags: {
    withToken: { kind: 'boolean', help: 'Read the token from stdin' },
  },
  examples: [
    'konnect-audit login --server http://127.0.0.1:8080',
    'konnect-audit login --server https://audit.example.com --with-token < token.txt',
  ],
})

interface WhoAmI {
  readonly token: { readonly id: string; readonly name: string; readonly role: string }
  readonly org: { readonly id: string; readonly name: string }
}

export async function run(options: OptionsOf<typeof definition>, f: Factory): Promise<void> {
  if (f.env.KONNECT_AUDIT_TOKEN) {
    throw new UsageError('KONNECT_AUDIT_TOKEN is set and would override a stored token; unset it to log in')
  }
  const target = await f.target()
  if (!target.server) throw new UsageError('no server to log in to: pass --server URL')
  const token = await readToken(options.withToken === true, f)
  if (token === '') throw new UsageError('the token is empty')
  const api = await f.api({ token })
  let identity: WhoAmI | null = null
  try {
    identity = (await api.send('GET', '/v1/whoami')).json<WhoAmI>()
  } catch (error) {
    if (error instanceof ApiError && error.status === 401)
      throw new NotAuthenticatedError('the server rejected this token; nothing was stored')
    if (!(error instanceof ApiError && error.status === 404)) throw error
  }
  const profiles = await f.profiles()
  profiles.save(target.profile, { server: target.server.value, token })
  profiles.use(target.profile)
  if (f.globals.json) {
    await writeJson(f.io, {
      profile: target.profile,
      server: target.server.value,
      validated: identity !== null,
      whoami: identity,
    })
    return
  }
  if (f.globals.quiet) return
  f.io.err(
    identity
      ? `Logged in to ${target.server.value} as ${identity.token.name} (${identity.token.role}) in org ${identity.org.name}; profile ${target.profile}`
      : `Saved profile ${target.profile} for ${target.server.value} (token not validated: the server has no /v1/whoami)`,
  )
}

async function readToken(fromStdin: boolean, f: Factory): Promise<string> {
  if (fromStdin) return readStdinText(f.io)
  if (canPrompt(f.io, f.globals.input)) return promptSecret(f.io, 'Token')
  throw new UsageError('no token: pipe it to --with-token (e.g. konnect-audit login --with-token < token.txt)')
}
