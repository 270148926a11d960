// Owns `tokens list`: every token of the org, all pages followed, without secrets (SPEC.md §5.3).

import type { Column } from '../../../io/output.js'
import { writeJson, writeRows } from '../../../io/output.js'
import type { OptionsOf } from '../../define-command.js'
import { defineCommand } from '../../define-command.js'
import type { Factory } from '../../factory.js'
import { sendV1 } from '../v1-route.js'

export const definition = defineCommand({
  name: 'tokens list',
  summary: "List the org's API tokens (never their secrets)",
  args: [],
  flags: {},
  examples: ['konnect-audit tokens list', 'konnect-audit tokens list --json'],
})

interface TokenRow {
  readonly id: string
  readonly name: string
  readonly role: string
  readonly created_at: string
  readonly expires_at: string | null
  readonly last_used_at: string
  readonly revoked_at: string
}

interface TokenPage {
  readonly data: TokenRow[]
  readonly meta?: { readonly next?: string | null }
}

const TOKENS_PATH = '/v1/tokens'

function columns(tty: boolean): Column<TokenRow>[] {
  return [
    { header: 'ID', value: (row) => row.id },
    { header: 'NAME', value: (row) => row.name },
    { header: 'ROLE', value: (row) => row.role },
    { header: 'CREATED', value: (row) => row.created_at, time: true },
    // No expiry reads "never" on a terminal; a script gets an empty field, never a past time.
    { header: 'EXPIRES', value: (row) => row.expires_at ?? (tty ? 'never' : null), time: true },
    { header: 'LAST USED', value: (row) => row.last_used_at, time: true },
    { header: 'REVOKED', value: (row) => row.revoked_at, time: true },
  ]
}

export async function run(_options: OptionsOf<typeof definition>, f: Factory): Promise<void> {
  const api = await f.api()
  const tokens: TokenRow[] = []
  const seen = new Set<string>()
  for (let path: string | null = TOKENS_PATH; path !== null && !seen.has(path); ) {
    seen.add(path)
    const page: TokenPage = (await sendV1(api, 'GET', path)).json<TokenPage>()
    tokens.push(...page.data)
    path = nextPath(page.meta?.next)
  }
  if (f.globals.json) await writeJson(f.io, { data: tokens })
  else await writeRows(f.io, tokens, columns(f.io.stdoutIsTTY))
}

/** `meta.next` as a path under the server URL: it may be relative or absolute, with a prefix. */
function nextPath(next: string | null | undefined): string | null {
  if (!next) return null
  const at = next.indexOf(TOKENS_PATH)
  return at >= 0 ? next.slice(at) : null
}
