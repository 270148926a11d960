// Owns `profile list`: every saved profile with its server, whether it has a token, and which is
// current. Tokens are never shown.

import type { Column } from '../../../io/output.js'
import { writeJson, writeRows } from '../../../io/output.js'
import type { OptionsOf } from '../../define-command.js'
import { defineCommand } from '../../define-command.js'
import type { Factory } from '../../factory.js'

export const definition = defineCommand({
  name: 'profile list',
  summary: 'List saved profiles',
  args: [],
  flags: {},
  examples: ['konnect-audit profile list'],
})

interface ProfileRow {
  readonly name: string
  readonly server: string | null
  readonly current: boolean
  readonly has_token: boolean
}

const COLUMNS: Column<ProfileRow>[] = [
  { header: '', value: (row) => (row.current ? '*' : '') },
  { header: 'NAME', value: (row) => row.name },
  { header: 'SERVER', value: (row) => row.server },
  { header: 'TOKEN', value: (row) => (row.has_token ? 'yes' : 'no') },
]

export async function run(_options: OptionsOf<typeof definition>, f: Factory): Promise<void> {
  const profiles = await f.profiles()
  // With none chosen (the current one removed, say) commands use `default` (SPEC.md §9.1).
  const current = profiles.currentName() || 'default'
  const rows: ProfileRow[] = profiles.list().map(([name, profile]) => ({
    name,
    server: profile.server ?? null,
    current: name === current,
    has_token: profile.token !== undefined,
  }))
  if (f.globals.json) await writeJson(f.io, { data: rows, config_path: profiles.path })
  else {
    await writeRows(f.io, rows, COLUMNS)
    // stdout stays rows only, for scripts; the path goes beside them (SPEC.md §9.2).
    if (!f.globals.quiet) f.io.err(`Config: ${profiles.path}`)
  }
}
