// Owns `keys export`: the org's JWKS (active and retired public keys), compact, for offline
// `verify --jwks FILE`. Sent with the token, so the server answers with this org's keys (§5.5).

import { writeFile } from 'node:fs/promises'
import { JwksError, readJwks } from '../../../core/jwks.js'
import { writeJson } from '../../../io/output.js'
import type { OptionsOf } from '../../define-command.js'
import { defineCommand } from '../../define-command.js'
import { CliError } from '../../errors.js'
import type { Factory } from '../../factory.js'

export const definition = defineCommand({
  name: 'keys export',
  summary: "Write the org's JWKS (public keys) for offline verification",
  args: [],
  flags: {
    output: { kind: 'string', short: 'o', placeholder: 'file', help: 'Write to FILE instead of stdout (- for stdout)' },
  },
  examples: [
    'konnect-audit keys export -o jwks.json',
    'konnect-audit keys export -o jwks.json && konnect-audit verify audit.ndjson.gz --jwks jwks.json',
  ],
})

export async function run(options: OptionsOf<typeof definition>, f: Factory): Promise<void> {
  const api = await f.api()
  const text = (await api.send('GET', '/v2/audit-log-webhook/jwks.json')).body.toString('utf8')
  let kids: string[]
  try {
    kids = readJwks(text).keys.map((key) => key.kid)
  } catch (error) {
    if (error instanceof JwksError) throw new CliError(`the server sent an unusable JWKS: ${error.message}`)
    throw error
  }
  const compact = `${JSON.stringify(JSON.parse(text))}\n`
  if (options.output === undefined || options.output === '-') {
    await f.io.out(compact)
    return
  }
  try {
    await writeFile(options.output, compact)
  } catch (error) {
    throw new CliError(`cannot write ${options.output}: ${(error as Error).message}`)
  }
  // The JWKS went to the file; --json still prints one document saying what was written.
  if (f.globals.json) await writeJson(f.io, { output: options.output, kids })
  else if (!f.globals.quiet) {
    f.io.err(`Wrote the JWKS (${kids.length} key${kids.length === 1 ? '' : 's'}) to ${options.output}`)
  }
}
