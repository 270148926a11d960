// Owns the process's streams as commands see them: TTY flags, colour, and writes that respect
// back-pressure so a slow stdout never makes memory grow.

import type { Readable, Writable } from 'node:stream'

export type ShutdownSignal = 'SIGINT' | 'SIGTERM'

export interface ProcessPorts {
  readonly env: Readonly<Record<string, string | undefined>>
  /**
   * Signal subscription (the real process has it; in-process tests pass an emitter). A lasting
   * listener: libraries that re-raise a signal after their own once-handlers (conf's exit hooks)
   * would otherwise find no listener left, and the default action would kill the process.
   */
  readonly on?: (signal: ShutdownSignal, listener: () => void) => unknown
  readonly stdin: Readable & { readonly isTTY?: boolean }
  readonly stdout: Writable & { readonly isTTY?: boolean }
  readonly stderr: Writable & { readonly isTTY?: boolean }
}

export interface IOStreams {
  readonly stdin: Readable
  readonly stdinIsTTY: boolean
  readonly stdoutIsTTY: boolean
  readonly stderrIsTTY: boolean
  /** Writes data to stdout, waiting for the stream to drain when its buffer is full. */
  out(text: string): Promise<void>
  /** Writes one line (a newline is added) of progress, warning or error text to stderr. */
  err(line: string): void
  /** stderr itself, for writers that stream (the server's log). */
  readonly errStream: Writable
}

function waitForDrain(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      stream.off('drain', onDrain)
      stream.off('error', onError)
      stream.off('close', onDrain)
    }
    const onDrain = () => {
      cleanup()
      resolve()
    }
    const onError = (error: Error) => {
      cleanup()
      reject(error)
    }
    stream.once('drain', onDrain)
    stream.once('close', onDrain)
    stream.once('error', onError)
  })
}

export function createIOStreams(ports: ProcessPorts): IOStreams {
  return {
    stdin: ports.stdin,
    stdinIsTTY: ports.stdin.isTTY === true,
    stdoutIsTTY: ports.stdout.isTTY === true,
    stderrIsTTY: ports.stderr.isTTY === true,
    out: async (text) => {
      if (!ports.stdout.write(text)) await waitForDrain(ports.stdout)
    },
    err: (line) => {
      ports.stderr.write(`${line}\n`)
    },
    errStream: ports.stderr,
  }
}
