// Runs a long-lived command (serve, webhook listen, tail) in-process until the test signals it.

import { EventEmitter } from 'node:events'
import { PassThrough, Readable } from 'node:stream'
import { main } from '../../src/cli/main.js'

export interface RunningCommand {
  readonly exit: Promise<number>
  signal(name: 'SIGINT' | 'SIGTERM'): void
  stdout(): string
  stderr(): string
}

export function startCommand(
  argv: readonly string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): RunningCommand {
  const signals = new EventEmitter()
  const captured = { stdout: '', stderr: '' }
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  stdout.on('data', (chunk: Buffer) => {
    captured.stdout += chunk.toString()
  })
  stderr.on('data', (chunk: Buffer) => {
    captured.stderr += chunk.toString()
  })
  const stdin = Object.assign(Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]), {
    isTTY: options.stdin === undefined,
  })
  const exit = main(argv, {
    env: options.env ?? {},
    stdin,
    stdout,
    stderr,
    on: (signal, listener) => signals.on(signal, listener),
  })
  return {
    exit,
    signal: (name) => signals.emit(name),
    stdout: () => captured.stdout,
    stderr: () => captured.stderr,
  }
}

export async function waitFor<T>(probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
