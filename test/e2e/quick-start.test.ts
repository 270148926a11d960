// The README quick start, run as a user would: the built binary, one command at a time, with the
// server and the local receiver as background processes and the profile in a fresh config dir.

import { spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { BIN, spawnServe, within } from '../helpers/spawn-server.js'
import { tempDir } from '../helpers/temp-files.js'

const home = tempDir('ka-quickstart-')
const env = { PATH: process.env.PATH ?? '', HOME: home.path(''), XDG_CONFIG_HOME: home.path('config') }

function cli(args: readonly string[], input?: string) {
  return spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env,
    cwd: home.path(''),
    input,
    timeout: 30_000,
  })
}

function background(args: readonly string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { env, cwd: home.path(''), stdio: ['ignore', 'pipe', 'pipe'] })
  const output = { stdout: '', stderr: '' }
  child.stdout.on('data', (chunk: Buffer) => {
    output.stdout += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    output.stderr += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, output, exited }
}

async function until(probe: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('the README quick start', () => {
  it('serve, login, webhook listen/set/test/status, tail --verify, logs pull, keys export, verify', async () => {
    const dataDir = home.path('data')
    const server = await spawnServe(['--data-dir', dataDir, '--allow-insecure-endpoints'])
    const listener = background(['webhook', 'listen', '--port', '0', '--server', server.url, '-o', 'received.log'])
    try {
      const login = cli(
        ['login', '--server', server.url, '--with-token'],
        readFileSync(`${dataDir}/initial-admin-token`, 'utf8'),
      )
      expect(login.status).toBe(0)
      expect(cli(['whoami']).stdout).toMatch(/^Role\tadmin$/m)

      await until(() => /Listening on http:\/\/127\.0\.0\.1:\d+/.test(listener.output.stderr), 'the receiver')
      const receiverUrl = /Listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(listener.output.stderr)?.[1] as string

      const set = cli(['webhook', 'set', '--endpoint', `${receiverUrl}/hook`, '--format', 'json', '--enable'])
      expect(set.status).toBe(0)
      const test = cli(['webhook', 'test', '--json'])
      expect(test.status).toBe(0)
      expect(JSON.parse(test.stdout)).toMatchObject({ ok: true, response_code: 202 })
      await until(() => listener.output.stdout.split('\n').length > 3, 'deliveries')
      const status = cli(['webhook', 'status', '--json'])
      expect(JSON.parse(status.stdout)).toMatchObject({ webhook_enabled: true, webhook_status: 'active' })

      const tail = background(['tail', '--verify', '--since', '1h'])
      await until(() => tail.output.stdout.split('\n').length > 3, 'tail output')
      tail.child.kill('SIGINT')
      expect(await within(tail.exited, 10_000, 'tail to stop')).toBe(0)

      expect(cli(['logs', 'pull', '--since', '1h', '-o', 'audit.ndjson']).status).toBe(0)
      expect(cli(['keys', 'export', '-o', 'jwks.json']).status).toBe(0)
      const verify = cli(['verify', 'audit.ndjson', '--jwks', 'jwks.json', '--json'])
      expect(verify.status).toBe(0)
      expect(JSON.parse(verify.stdout.trim().split('\n').at(-1) as string)).toMatchObject({ ok: true, invalid: 0 })

      listener.child.kill('SIGINT')
      expect(await within(listener.exited, 10_000, 'the receiver to stop')).toBe(0)
      expect(readFileSync(home.path('received.log'), 'utf8').length).toBeGreaterThan(0)
      const received = cli(['verify', 'received.log', '--jwks', 'jwks.json', '-q'])
      expect(received.status).toBe(0)
    } finally {
      listener.child.kill('SIGKILL')
      await server.stop('SIGTERM')
    }
  }, 60_000)
})
