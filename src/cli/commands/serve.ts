// Owns `serve`: runs the audit service core until SIGINT or SIGTERM, then shuts down gracefully
// and exits 0 (SPEC.md §9.6). The server code is loaded only here, on demand.

import type { OptionsOf } from '../define-command.js'
import { defineCommand } from '../define-command.js'
import { CliError, UsageError } from '../errors.js'
import type { Factory } from '../factory.js'
import { STORE_FLAGS } from './serve/store-flags.js'

export const definition = defineCommand({
  name: 'serve',
  summary: 'Run the audit service core (SQLite in the data dir by default)',
  args: [],
  flags: {
    listen: {
      kind: 'string',
      placeholder: 'host:port',
      help: 'Listen address (default 127.0.0.1:8080; KONNECT_AUDIT_LISTEN)',
    },
    ...STORE_FLAGS,
    retention: { kind: 'string', placeholder: 'duration', help: 'How long events are kept, 1h to 3650d (default 7d)' },
    bootstrapTokenFile: {
      kind: 'string',
      placeholder: 'file',
      help: 'Initial admin token for an empty store (or KONNECT_AUDIT_BOOTSTRAP_TOKEN)',
    },
    allowInsecureEndpoints: { kind: 'boolean', help: 'Allow http and private or loopback webhook addresses' },
    tlsCert: { kind: 'string', placeholder: 'file', help: 'Serve HTTPS with this certificate (PEM)' },
    tlsKey: { kind: 'string', placeholder: 'file', help: 'Private key (PEM) for --tls-cert' },
    trustProxy: { kind: 'string', placeholder: 'cidr,...', help: 'Proxies whose X-Forwarded-For sets the event src' },
    unattributedEventsOrg: {
      kind: 'string',
      placeholder: 'id|none',
      help: 'Org for events of requests without a known token (default: the default org)',
    },
    logLevel: {
      kind: 'enum',
      choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      defaultValue: 'info',
      help: 'Log level (JSON logs on stderr)',
    },
  },
  examples: [
    'konnect-audit serve',
    'konnect-audit serve --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem',
    'konnect-audit serve --dev --allow-insecure-endpoints',
    'konnect-audit serve org create --name payments    # operator subcommands: serve org create|list, serve token create',
  ],
})

export async function run(options: OptionsOf<typeof definition>, f: Factory): Promise<void> {
  const { resolveServerConfig, ServerConfigError } = await import('../../server/config.js')
  let config: Awaited<ReturnType<typeof resolveServerConfig>>
  try {
    const { args: _args, ...flags } = options
    config = resolveServerConfig(flags, f.env)
  } catch (error) {
    if (error instanceof ServerConfigError) throw new UsageError(error.message)
    throw error
  }
  const { startServer } = await import('../../server/serve.js')
  const stream = config.dev ? (await import('../../io/human-log.js')).humanLogStream(f.io.errStream) : f.io.errStream
  const log = { level: config.logLevel, stream }
  let server: Awaited<ReturnType<typeof startServer>>
  try {
    server = await startServer(config, { log })
  } catch (error) {
    throw new CliError(`the server could not start: ${(error as Error).message}`)
  }
  const signal = await f.shutdownSignal()
  server.app.log.info(`${signal} received; shutting down`)
  await server.close()
}
