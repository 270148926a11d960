// Runs the CLI in-process with captured streams: the way every CLI test calls a command.

import { PassThrough, Readable } from 'node:stream'
import { main } from '../../src/cli/main.js'

export interface CliRun {
  readonly exitCode: number
  readonly stdout: string
  readonly stderr: string
}

export interface RunCliOptions {
  /** Data piped to stdin; absent means an interactive terminal (TTY) with no data. */
  readonly stdin?: string | Buffer
  readonly env?: Record<string, string>
  readonly tty?: boolean
}

function capture(isTTY: boolean): { stream: PassThrough & { isTTY: boolean }; text(): string } {
  const stream = Object.assign(new PassThrough(), { isTTY })
  const chunks: Buffer[] = []
  stream.on('data', (chunk: Buffer) => chunks.push(chunk))
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') }
}

export async function runCli(argv: readonly string[], options: RunCliOptions = {}): Promise<CliRun> {
  const stdin = Object.assign(Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]), {
    isTTY: options.stdin === undefined,
  })
  const stdout = capture(options.tty === true)
  const stderr = capture(options.tty === true)
  const exitCode = await main(argv, { env: options.env ?? {}, stdin, stdout: stdout.stream, stderr: stderr.stream })
  return { exitCode, stdout: stdout.text(), stderr: stderr.text() }
}
