// Owns `destinations update`: one PATCH with only the fields given (SPEC.md §5.7). A webhook using
// the destination picks the change up at once. The Authorization value comes from stdin or a
// masked prompt, never argv.

import type { OptionsOf } from '../../define-command.js'
import { defineCommand } from '../../define-command.js'
import { UsageError } from '../../errors.js'
import type { Factory } from '../../factory.js'
import { LOG_FORMATS, readAuthorization, SKIP_TLS_FLAGS, skipTlsOf, warnSkipTls } from '../webhook/endpoint-input.js'
import { destinationPath, writeDestination } from './get.js'
import type { Destination } from './list.js'
import { resolveDestination } from './list.js'

export const definition = defineCommand({
  name: 'destinations update',
  summary: 'Change a destination (only the fields given)',
  args: [{ name: 'destination', help: 'Destination ID or name' }],
  flags: {
    name: { kind: 'string', placeholder: 'name', help: 'New unique name' },
    endpoint: { kind: 'string', placeholder: 'url', help: 'New receiver URL' },
    format: { kind: 'enum', choices: LOG_FORMATS, help: 'New log format' },
    authHeaderStdin: { kind: 'boolean', help: 'Read a new Authorization header value from stdin (or a masked prompt)' },
    ...SKIP_TLS_FLAGS,
  },
  examples: [
    'konnect-audit destinations update splunk-prod --format cef',
    'printf %s "$SPLUNK_AUTH" | konnect-audit destinations update splunk-prod --auth-header-stdin',
  ],
})

export async function run(options: OptionsOf<typeof definition>, f: Factory): Promise<void> {
  const skipTls = skipTlsOf(options)
  const fields = {
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.format === undefined ? {} : { log_format: options.format }),
    ...(skipTls === undefined ? {} : { skip_ssl_verification: skipTls }),
  }
  if (Object.keys(fields).length === 0 && options.authHeaderStdin !== true) {
    throw new UsageError(
      'nothing to change: give --name, --endpoint, --format, --auth-header-stdin or --[no-]skip-tls-verify',
    )
  }
  const api = await f.api()
  const { id } = await resolveDestination(api, options.args[0] as string)
  const body =
    options.authHeaderStdin === true
      ? { ...fields, authorization: await readAuthorization(f, { command: 'destinations update', flagGiven: true }) }
      : fields
  if (skipTls === true) warnSkipTls(f, options.endpoint ?? `destination ${options.args[0]}`)
  await writeDestination(f, (await api.send('PATCH', destinationPath(id), { body })).json<Destination>())
}
