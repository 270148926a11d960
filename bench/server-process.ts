// Runs `konnect-audit serve` as a child process for benchmarks: a fresh data dir, a known admin
// token, the port read from its log, and its RSS sampled from /proc.

import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateTokenSecret } from '../src/core/tokens.js'
import { BIN, benchDir } from './support.js'

export interface ServerProcess {
  readonly url: string
  readonly token: string
  readonly child: ChildProcess
  rssMiB(): number
  stop(): Promise<void>
}

export async function startServerProcess(extraArgs: readonly string[] = []): Promise<ServerProcess> {
  const dir = benchDir()
  const token = generateTokenSecret()
  const tokenFile = join(dir, 'admin.token')
  writeFileSync(tokenFile, token, { mode: 0o600 })
  const args = [
    BIN,
    'serve',
    '--listen',
    '127.0.0.1:0',
    '--data-dir',
    join(dir, 'data'),
    '--bootstrap-token-file',
    tokenFile,
    '--log-level',
    'info',
    ...extraArgs,
  ]
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  const url = await new Promise<string>((resolve, reject) => {
    let log = ''
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 20_000)
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString()
      const match = /"Server listening at (http:\/\/[\d.:]+)"/.exec(log)
      if (match?.[1]) {
        clearTimeout(timer)
        child.stderr?.removeAllListeners('data')
        child.stderr?.resume()
        resolve(match[1])
      }
    })
    child.on('exit', (code) => reject(new Error(`server exited ${code}:\n${log}`)))
  })
  return {
    url,
    token,
    child,
    rssMiB: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}
