// Runs `konnect-audit serve` as a child process for benchmarks: a fresh data dir, a known admin
// token, a port chosen free beforehand, readiness from /healthz, and its RSS sampled from /proc.

import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { request } from 'undici'
import { generateTokenSecret } from '../src/core/tokens.js'
import { BIN, benchDir } from './support.js'

export interface ServerProcess {
  readonly url: string
  readonly token: string
  readonly child: ChildProcess
  rssMiB(): number
  stop(): Promise<void>
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    })
  })
}

async function isHealthy(url: string): Promise<boolean> {
  try {
    const response = await request(`${url}/healthz`, { headersTimeout: 1000 })
    await response.body.dump()
    return response.statusCode === 200
  } catch {
    return false
  }
}

export async function startServerProcess(extraArgs: readonly string[] = []): Promise<ServerProcess> {
  const dir = benchDir()
  const token = generateTokenSecret()
  const tokenFile = join(dir, 'admin.token')
  writeFileSync(tokenFile, token, { mode: 0o600 })
  const port = await freePort()
  const args = [
    BIN,
    'serve',
    '--listen',
    `127.0.0.1:${port}`,
    '--data-dir',
    join(dir, 'data'),
    '--bootstrap-token-file',
    tokenFile,
    '--log-level',
    'warn',
    ...extraArgs,
  ]
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  // Keep the last few KiB of the log for error messages; reading it also keeps the pipe from filling.
  let log = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-8192)
  })
  const url = `http://127.0.0.1:${port}`
  const deadline = performance.now() + 20_000
  while (!(await isHealthy(url))) {
    if (child.exitCode !== null || performance.now() > deadline) throw new Error(`server did not start:\n${log}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
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
