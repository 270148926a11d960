// Runs the built `konnect-audit serve` as a child process on 127.0.0.1:0, for end-to-end tests
// that kill or restart it: the URL is read from its JSON log, which is kept drained (bounded) so
// a chatty server never blocks on a full stderr pipe.

import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'

export const BIN = new URL('../../bin/konnect-audit.js', import.meta.url).pathname

const LOG_TAIL_CHARS = 64 * 1024

export interface ExitStatus {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export interface ServeProcess {
  readonly url: string
  readonly child: ChildProcess
  /** Settles when the process has exited (and its pid is free). */
  readonly exited: Promise<ExitStatus>
  /** The last 64 KiB of its stderr. */
  log(): string
  /** Sends the signal and waits for the exit, failing after `timeoutMs`. */
  stop(signal: NodeJS.Signals, timeoutMs?: number): Promise<ExitStatus>
}

/** Rejects with `message` if `promise` has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} (after ${ms} ms)`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Starts `serve` with `args` and only PATH plus `env` in its environment. */
export async function spawnServe(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
  startTimeoutMs = 15_000,
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--listen', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH ?? '', ...env },
  })
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  let log = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => {
    log = (log + chunk).slice(-LOG_TAIL_CHARS)
  })
  const listening = new Promise<string>((resolve, reject) => {
    const onData = () => {
      const url = /"Server listening at (https?:\/\/[\d.:]+)"/.exec(log)?.[1]
      if (url === undefined) return
      child.stderr?.off('data', onData)
      resolve(url)
    }
    child.stderr?.on('data', onData)
    exited.then(({ code, signal }) => reject(new Error(`serve exited (${code ?? signal}) before listening:\n${log}`)))
  })
  let url: string
  try {
    url = await within(listening, startTimeoutMs, 'serve did not start listening')
  } catch (error) {
    child.kill('SIGKILL')
    throw error
  }
  return {
    url,
    child,
    exited,
    log: () => log,
    stop: (signal, timeoutMs = 10_000) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return within(exited, timeoutMs, `serve did not exit after ${signal}`)
    },
  }
}
