// Owns `verify`: checks every line of downloaded audit logs against a JWKS, offline, and reports
// line by line (SPEC.md §9.7). Exit 3 on any invalid, unsigned or malformed line; 1 on I/O errors.

import { availableParallelism } from 'node:os'
import type { LineFormat } from '../../core/extract.js'
import { JwksError, readJwks } from '../../core/jwks.js'
import { VerifyTally } from '../../core/verify-tally.js'
import { verifyFiles } from '../../io/verify-files.js'
import { VerifyPool } from '../../io/verify-pool.js'
import { VerifyReporter } from '../../io/verify-report.js'
import type { OptionsOf } from '../define-command.js'
import { defineCommand } from '../define-command.js'
import { CliError, UsageError, VerificationFailedError } from '../errors.js'
import type { Factory } from '../factory.js'
import { loadJwks } from '../jwks-source.js'

export const definition = defineCommand({
  name: 'verify',
  summary: 'Verify the signatures of downloaded audit logs, offline',
  args: [{ name: 'file', help: 'Log files (gzip or plain; - for stdin). Default: stdin when piped', variadic: true }],
  flags: {
    jwks: { kind: 'string', placeholder: 'file|url', help: 'JWKS to verify with (default: the server JWKS)' },
    format: {
      kind: 'enum',
      choices: ['auto', 'json', 'cef', 'cps'],
      defaultValue: 'auto',
      help: 'Line format; auto detects it per line',
    },
    jobs: { kind: 'integer', min: 1, placeholder: 'n', help: 'Worker threads (default: all cores)' },
    verbose: { kind: 'boolean', help: 'Report every line, valid ones included' },
  },
  examples: [
    'konnect-audit verify audit.ndjson.gz --jwks jwks.json',
    'konnect-audit logs pull --since 24h -o - | konnect-audit verify --jwks jwks.json --json',
  ],
})

export async function run(options: OptionsOf<typeof definition>, f: Factory): Promise<void> {
  const files = options.args.length > 0 ? options.args : inputFromStdin(f)
  const target = options.jwks === undefined ? await f.target() : null
  const loaded = await loadJwks(options.jwks, {
    server: target?.server?.value,
    token: target?.token?.value,
    warn: (message) => f.io.err(message),
  })
  const keys = readKeys(loaded.text, f)
  const jobs = options.jobs ?? availableParallelism()
  const format = options.format === undefined || options.format === 'auto' ? null : (options.format as LineFormat)
  const tally = new VerifyTally()
  const reporter = new VerifyReporter(f.io, {
    json: f.globals.json,
    quiet: f.globals.quiet,
    verbose: options.verbose === true,
  })
  const pool = new VerifyPool(jobs, loaded.text, format)
  try {
    await verifyFiles({
      files,
      stdin: f.io.stdin,
      pool,
      maxInFlight: 2 * jobs,
      kids: keys,
      tally,
      sink: reporter,
    })
  } finally {
    await pool.close()
  }
  const summary = tally.summary(files.length, loaded.source)
  if (summary.lines === 0) f.io.err('Warning: the input holds no event lines')
  await reporter.summary(summary)
  if (tally.failed) {
    throw new VerificationFailedError(
      `verification failed: ${summary.invalid} invalid, ${summary.unsigned} unsigned, ${summary.malformed} malformed`,
    )
  }
  if (summary.file_errors > 0) throw new CliError(`${summary.file_errors} of ${files.length} files could not be read`)
}

function inputFromStdin(f: Factory): string[] {
  if (f.io.stdinIsTTY) throw new UsageError('no input: name one or more FILEs, or pipe a log into stdin')
  return ['-']
}

/** The kid of each usable key, in JWKS order; warnings for skipped entries go to stderr. */
function readKeys(text: string, f: Factory): string[] {
  try {
    const { keys, warnings } = readJwks(text)
    for (const warning of warnings) f.io.err(`Warning: ${warning}`)
    return keys.map((key) => key.kid)
  } catch (error) {
    if (error instanceof JwksError) throw new CliError(`${error.message}; check the --jwks source`)
    throw error
  }
}
