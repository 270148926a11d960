// Owns `destinations create`: one POST with a name, endpoint, format and Authorization value
// (SPEC.md §5.7). Missing values are asked for on a terminal; without one, a usage error names
// every missing flag. The Authorization value comes from stdin or a masked prompt, never argv.

import { canPrompt } from '../../../io/secret-input.js'
import type { OptionsOf } from '../../define-command.js'
import { defineCommand } from '../../define-command.js'
import { UsageError } from '../../errors.js'
import type { Factory } from '../../factory.js'
import { askLogFormat, askText, LOG_FORMATS, readAuthorization, warnSkipTls } from '../webhook/endpoint-input.js'
import { writeDestination } from './get.js'
import type { Destination } from './list.js'
import { DESTINATIONS_PATH } from './list.js'

export const definition = defineCommand({
  name: 'destinations create',
  summary: 'Create a named destination (Authorization value from stdin)',
  args: [],
  flags: {
    name: { kind: 'string', placeholder: 'name', help: 'Unique name (1-255 bytes)' },
    endpoint: { kind: 'string', placeholder: 'url', help: 'Receiver URL (https)' },
    format: { kind: 'enum', choices: LOG_FORMATS, help: 'Log format' },
    authHeaderStdin: { kind: 'boolean', help: 'Read the Authorization header value from stdin (or a masked prompt)' },
    skipTlsVerify: { kind: 'boolean', help: "Do not verify the receiver's TLS certificate (insecure; warns)" },
  },
  examples: [
    'printf %s "$SPLUNK_AUTH" | konnect-audit destinations create --name splunk-prod --endpoint https://siem.example.com/konnect --format json --auth-header-stdin',
  ],
})

/** Without a terminal every value must be on the command line (the secret on stdin). */
function refuseMissingWithoutPrompt(options: OptionsOf<typeof definition>, f: Factory): void {
  if (canPrompt(f.io, f.globals.input)) return
  const missing = [
    options.name === undefined && '--name',
    options.endpoint === undefined && '--endpoint',
    options.format === undefined && '--format',
    options.authHeaderStdin !== true && '--auth-header-stdin',
  ].filter((flag) => flag !== false)
  if (missing.length > 0) throw new UsageError(`missing ${missing.join(', ')} (no terminal to ask on)`)
}

export async function run(options: OptionsOf<typeof definition>, f: Factory): Promise<void> {
  refuseMissingWithoutPrompt(options, f)
  const api = await f.api()
  const name = options.name ?? (await askText(f, 'Destination name', '--name is required'))
  const endpoint = options.endpoint ?? (await askText(f, 'Endpoint URL', '--endpoint is required'))
  const logFormat = options.format ?? (await askLogFormat(f))
  const authorization = await readAuthorization(f, {
    command: 'destinations create',
    flagGiven: options.authHeaderStdin === true,
  })
  if (options.skipTlsVerify === true) warnSkipTls(f, endpoint)
  const body = {
    name,
    endpoint,
    log_format: logFormat,
    authorization,
    ...(options.skipTlsVerify === true ? { skip_ssl_verification: true } : {}),
  }
  await writeDestination(f, (await api.send('POST', DESTINATIONS_PATH, { body })).json<Destination>())
}
