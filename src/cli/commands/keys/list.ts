// Owns `keys list`: the org's signing keys, active first, by kid (never a private half).

import type { Column } from '../../../io/output.js'
import { writeJson, writeRows } from '../../../io/output.js'
import type { OptionsOf } from '../../define-command.js'
import { defineCommand } from '../../define-command.js'
import type { Factory } from '../../factory.js'
import { sendV1 } from '../v1-route.js'

export const definition = defineCommand({
  name: 'keys list',
  summary: "List the org's signing keys",
  args: [],
  flags: {},
  examples: ['konnect-audit keys list', 'konnect-audit keys list --json'],
})

interface KeyRow {
  readonly kid: string
  readonly status: string
  readonly created_at: string
  readonly retired_at: string
}

const COLUMNS: Column<KeyRow>[] = [
  { header: 'KID', value: (row) => row.kid },
  { header: 'STATUS', value: (row) => row.status },
  { header: 'CREATED', value: (row) => row.created_at, time: true },
  { header: 'RETIRED', value: (row) => row.retired_at, time: true },
]

export async function run(_options: OptionsOf<typeof definition>, f: Factory): Promise<void> {
  const api = await f.api()
  const keys = (await sendV1(api, 'GET', '/v1/keys')).json<{ data: KeyRow[] }>()
  if (f.globals.json) await writeJson(f.io, keys)
  else await writeRows(f.io, keys.data, COLUMNS)
}
