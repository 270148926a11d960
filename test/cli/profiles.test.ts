import { readFileSync, statSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registry } from '../../src/cli/registry.js'
import { runCli } from '../helpers/run-cli.js'
import type { TestServer } from '../helpers/server.js'
import { jsonBody, jsonOf, startTestServer } from '../helpers/server.js'
import { tempDir } from '../helpers/temp-files.js'

let server: TestServer
const home = tempDir('ka-home-')
const env = () => ({ XDG_CONFIG_HOME: home.path('config'), HOME: home.path('') })

beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server.close())

describe('login, whoami, logout and profiles', () => {
  it('logs in with a token from stdin, stores it 0600 in a 0700 dir, never prints it', async () => {
    const run = await runCli(['login', '--server', server.url, '--with-token'], {
      stdin: `${server.adminToken}\n`,
      env: env(),
    })
    expect(run.exitCode).toBe(0)
    expect(run.stderr).toContain('Logged in to')
    expect(run.stdout + run.stderr).not.toContain(server.adminToken)
    const file = home.path('config/konnect-audit/config.json')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(statSync(home.path('config/konnect-audit')).mode & 0o777).toBe(0o700)
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({
      currentProfile: 'default',
      profiles: { default: { server: server.url } },
    })
  })

  it('whoami reports the profile, sources and token details without the secret', async () => {
    const human = await runCli(['whoami'], { env: env() })
    expect(human.exitCode).toBe(0)
    expect(human.stdout).toMatch(/^Profile\tdefault$/m)
    expect(human.stdout).toMatch(/^Token\tinitial-admin \(.+\), from profile$/m)
    expect(human.stdout).not.toContain(server.adminToken)
    const json = JSON.parse((await runCli(['whoami', '--json'], { env: env() })).stdout)
    expect(json).toMatchObject({
      profile: 'default',
      server: server.url,
      token_source: 'profile',
      org: { name: 'default' },
    })
    const fromEnv = JSON.parse(
      (await runCli(['whoami', '--json'], { env: { ...env(), KONNECT_AUDIT_TOKEN: server.adminToken } })).stdout,
    )
    expect(fromEnv.token_source).toBe('env')
  })

  it('refuses a token the server rejects (exit 4) and stores nothing', async () => {
    const run = await runCli(['login', '--profile', 'bad', '--server', server.url, '--with-token'], {
      stdin: `kat_${'A'.repeat(43)}`,
      env: env(),
    })
    expect(run.exitCode).toBe(4)
    const list = JSON.parse((await runCli(['profile', 'list', '--json'], { env: env() })).stdout)
    expect(list.data.map((p: { name: string }) => p.name)).toEqual(['default'])
  })

  it('needs --with-token without a terminal, and refuses while KONNECT_AUDIT_TOKEN is set (exit 2)', async () => {
    expect((await runCli(['login', '--server', server.url], { stdin: '', env: env() })).exitCode).toBe(2)
    const blocked = await runCli(['login', '--server', server.url, '--with-token'], {
      stdin: 'x',
      env: { ...env(), KONNECT_AUDIT_TOKEN: 'kat_x' },
    })
    expect(blocked.exitCode).toBe(2)
  })

  it('resolves --profile, KONNECT_AUDIT_PROFILE and --server in order', async () => {
    const created = await server.request('/v1/tokens', {
      method: 'POST',
      ...jsonBody({ name: 'second', role: 'auditor' }),
    })
    const { token } = await jsonOf(created)
    expect(
      (
        await runCli(['login', '--profile', 'aud', '--server', server.url, '--with-token'], {
          stdin: token,
          env: env(),
        })
      ).exitCode,
    ).toBe(0)
    const viaFlag = JSON.parse((await runCli(['whoami', '--json', '--profile', 'default'], { env: env() })).stdout)
    expect(viaFlag.token.name).toBe('initial-admin')
    const viaEnv = JSON.parse(
      (await runCli(['whoami', '--json'], { env: { ...env(), KONNECT_AUDIT_PROFILE: 'default' } })).stdout,
    )
    expect(viaEnv.token.name).toBe('initial-admin')
    const current = JSON.parse((await runCli(['whoami', '--json'], { env: env() })).stdout)
    expect(current.token.name).toBe('second')
    const used = await runCli(['profile', 'use', 'default', '--json'], { env: env() })
    expect(used.exitCode).toBe(0)
    expect(JSON.parse(used.stdout)).toEqual({ current_profile: 'default' })
    expect(JSON.parse((await runCli(['whoami', '--json'], { env: env() })).stdout).token.name).toBe('initial-admin')
    const noServer = await runCli(['whoami', '--server', 'http://127.0.0.1:9'], { env: env() })
    expect(noServer.exitCode).toBe(1)
    expect(noServer.stderr).toContain('cannot reach http://127.0.0.1:9')
  })

  it('lists profiles as TSV without tokens, removes with --yes only, and logs out keeping the server', async () => {
    const list = await runCli(['profile', 'list'], { env: env() })
    expect(list.stdout).toBe(`\taud\t${server.url}\tyes\n*\tdefault\t${server.url}\tyes\n`)
    expect(list.stderr).toMatch(/^Config: \/.+\.json\n$/)
    expect((await runCli(['profile', 'remove', 'aud'], { env: env() })).exitCode).toBe(2)
    expect((await runCli(['profile', 'use', 'aud'], { env: env() })).exitCode).toBe(0)
    const removed = await runCli(['profile', 'remove', 'aud', '--yes', '--json'], { env: env() })
    expect(removed.exitCode).toBe(0)
    expect(JSON.parse(removed.stdout)).toEqual({ profile: 'aud', removed: true })
    // The current profile gone, commands use `default`, and the list says so.
    expect((await runCli(['profile', 'list'], { env: env() })).stdout).toBe(`*\tdefault\t${server.url}\tyes\n`)
    const loggedOut = await runCli(['logout', '--json'], { env: env() })
    expect(loggedOut.exitCode).toBe(0)
    expect(JSON.parse(loggedOut.stdout)).toEqual({ profile: 'default', token_removed: true })
    const after = await runCli(['whoami'], { env: env() })
    expect(after.exitCode).toBe(4)
    expect(after.stderr).toContain('run konnect-audit login')
  })

  it('verify fetches the profile server JWKS when no --jwks is given', async () => {
    const pulled = await server.request('/v3/audit-logs?page%5Bsize%5D=100', {
      headers: { accept: 'application/x-ndjson' },
    })
    const log = home.write('pulled.ndjson', Buffer.from(await pulled.arrayBuffer()))
    const run = await runCli(['verify', log, '--json', '-q'], { env: env() })
    expect(JSON.parse(run.stdout.trim().split('\n').at(-1) as string)).toMatchObject({
      jwks_source: 'network',
      ok: true,
    })
  })
})

describe('the registry', () => {
  it('lists each command with the name and summary of its definition', async () => {
    for (const entry of registry) {
      const { definition } = await entry.load()
      expect([definition.name, definition.summary]).toEqual([entry.name, entry.summary])
    }
  })
})
