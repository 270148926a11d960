// Owns `webhook listen`: a local verifying receiver for the server's deliveries (SPEC.md §9.8).
// Every raw line goes to stdout unchanged (and to -o FILE, fsynced before the 202); verdicts go
// to stderr. Ctrl-C ends it: exit 0, or 3 if any line failed verification.

import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs'
import type { Server } from 'node:http'
import type { ReceivedBatch } from '../../../io/local-receiver.js'
import { startReceiver } from '../../../io/local-receiver.js'
import { canPrompt, promptSecret, readStdinText } from '../../../io/secret-input.js'
import type { OptionsOf } from '../../define-command.js'
import { defineCommand } from '../../define-command.js'
import { CliError, UsageError, VerificationFailedError } from '../../errors.js'
import type { Factory } from '../../factory.js'
import { RefreshingVerifier } from '../../refreshing-verifier.js'

export const definition = defineCommand({
  name: 'webhook listen',
  summary: 'Run a local receiver that verifies every delivered line',
  args: [],
  flags: {
    port: { kind: 'integer', min: 0, max: 65535, placeholder: 'n', help: 'Port to listen on (required)' },
    host: { kind: 'string', placeholder: 'host', help: 'Address to bind (default 127.0.0.1)' },
    jwks: { kind: 'string', placeholder: 'file|url', help: 'JWKS to verify with (default: the server JWKS)' },
    authHeaderStdin: { kind: 'boolean', help: 'Read the expected Authorization value from stdin (or a prompt)' },
    output: { kind: 'string', short: 'o', placeholder: 'file', help: 'Also append every line to FILE (mode 0600)' },
  },
  examples: [
    'konnect-audit webhook listen --port 9000 --jwks jwks.json -o received.log',
    'printf "Bearer s3cret" | konnect-audit webhook listen --port 9000 --auth-header-stdin',
  ],
})

async function expectedAuthorization(enabled: boolean, f: Factory): Promise<string | null> {
  if (!enabled) return null
  const value =
    f.io.stdinIsTTY && canPrompt(f.io, f.globals.input)
      ? await promptSecret(f.io, 'Expected Authorization')
      : await readStdinText(f.io)
  if (value === '') throw new UsageError('--auth-header-stdin got an empty value')
  return value
}

export async function run(options: OptionsOf<typeof definition>, f: Factory): Promise<void> {
  if (options.port === undefined) throw new UsageError('--port is required')
  const authorization = await expectedAuthorization(options.authHeaderStdin === true, f)
  const target = options.jwks === undefined ? await f.target() : null
  const verifier = await RefreshingVerifier.load(options.jwks, {
    server: target?.server?.value,
    token: target?.token?.value,
    warn: (message) => f.io.err(message),
  })
  const file = options.output === undefined ? null : openSync(options.output, 'a', 0o600)
  let failedLines = 0

  const onBatch = async ({ batch, peer, lines }: ReceivedBatch) => {
    const receivedAt = new Date().toISOString()
    const counts = { valid: 0, invalid: 0, unsigned: 0, malformed: 0 }
    const problems: string[] = []
    const out: string[] = []
    for (const [index, line] of lines.entries()) {
      const { verdict, kid } = await verifier.verify(line)
      counts[verdict.status]++
      if (verdict.status !== 'valid')
        problems.push(`  line ${index + 1}: ${verdict.status.toUpperCase()} ${verdict.reason ?? ''}`)
      const raw = line.toString('utf8')
      out.push(
        f.globals.json
          ? JSON.stringify({ received_at: receivedAt, batch, line: index + 1, status: verdict.status, kid, event: raw })
          : raw,
      )
    }
    failedLines += counts.invalid + counts.unsigned + counts.malformed
    if (file !== null) {
      for (const line of lines) writeSync(file, Buffer.concat([line, Buffer.from('\n')]))
      fsyncSync(file)
    }
    if (out.length > 0) await f.io.out(`${out.join('\n')}\n`)
    f.io.err(
      `${receivedAt} batch ${batch} from ${peer}: ${lines.length} lines, ${counts.valid} valid, ${counts.invalid} invalid, ${counts.unsigned} unsigned, ${counts.malformed} malformed`,
    )
    for (const problem of problems) f.io.err(problem)
  }

  let server: Server
  try {
    server = await startReceiver({
      host: options.host ?? '127.0.0.1',
      port: options.port,
      expectedAuthorization: authorization,
      onBatch,
    })
  } catch (error) {
    if (file !== null) closeSync(file)
    throw new CliError(`cannot listen on ${options.host ?? '127.0.0.1'}:${options.port}: ${(error as Error).message}`)
  }
  const address = server.address()
  if (!f.globals.quiet && address && typeof address === 'object')
    f.io.err(`Listening on http://${options.host ?? '127.0.0.1'}:${address.port}`)
  await f.shutdownSignal()
  const closed = new Promise((resolve) => server.close(resolve))
  server.closeAllConnections()
  await closed
  if (file !== null) closeSync(file)
  if (failedLines > 0) throw new VerificationFailedError(`${failedLines} received lines failed verification`)
}
