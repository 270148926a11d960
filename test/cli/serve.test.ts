import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCommand, waitFor } from '../helpers/in-process.js'
import { dropTestSchemas, freshSchemaUrl, requirePostgres, SKIP_POSTGRES } from '../helpers/postgres.js'
import { runCli } from '../helpers/run-cli.js'
import { jsonOf } from '../helpers/server.js'
import { tempDir } from '../helpers/temp-files.js'

/** Runs `serve` in-process until the test sends a signal; its stderr is the JSON log. */
function serveInProcess(args: string[], env: Record<string, string> = {}) {
  const command = startCommand(['serve', ...args], { env })
  return { exit: command.exit, signal: command.signal, log: command.stderr }
}

describe('serve', () => {
  it('starts on the embedded store, writes the admin token once (0600), and stops on SIGTERM with exit 0', async () => {
    const dataDir = tempDir().path('data')
    const server = serveInProcess(['--listen', '127.0.0.1:0', '--data-dir', dataDir])
    const url = await waitFor(() => /"Server listening at (http:\/\/127\.0\.0\.1:\d+)"/.exec(server.log())?.[1])
    const tokenFile = join(dataDir, 'initial-admin-token')
    expect(server.log()).toContain(`initial admin token written to ${tokenFile}`)
    const token = readFileSync(tokenFile, 'utf8').trim()
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600)
    expect(statSync(dataDir).mode & 0o777).toBe(0o700)
    expect(server.log()).not.toContain(token)
    const whoami = await fetch(`${url}/v1/whoami`, { headers: { authorization: `Bearer ${token}` } })
    expect(whoami.status).toBe(200)
    expect(server.log()).not.toContain(token)
    server.signal('SIGTERM')
    expect(await server.exit).toBe(0)

    const second = serveInProcess(['--listen', '127.0.0.1:0', '--data-dir', dataDir])
    await waitFor(() => (second.log().includes('Server listening') ? true : undefined))
    expect(second.log()).not.toContain('initial admin token written')
    expect(readFileSync(tokenFile, 'utf8').trim()).toBe(token)
    second.signal('SIGINT')
    expect(await second.exit).toBe(0)
  })

  it('refuses a second server on the same data dir, and a port in use, with exit 1', async () => {
    const dataDir = tempDir().path('data')
    const first = serveInProcess(['--listen', '127.0.0.1:0', '--data-dir', dataDir])
    const url = await waitFor(() => /"Server listening at (http:\/\/[\d.:]+)"/.exec(first.log())?.[1])
    const locked = await runCli(['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir])
    expect(locked.exitCode).toBe(1)
    expect(locked.stderr).toMatch(/another konnect-audit serve \(pid \d+\) is using .*postgres/)
    const port = new URL(url).port
    const busy = await runCli(['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', tempDir().path('other')])
    expect(busy.exitCode).toBe(1)
    expect(busy.stderr).toContain('EADDRINUSE')
    first.signal('SIGTERM')
    expect(await first.exit).toBe(0)
  })

  it.each([
    [['--listen', 'nonsense'], '--listen nonsense is not HOST:PORT'],
    [['--retention', '30m'], '--retention 30m must be a duration from 1h to 3650d'],
    [['--tls-cert', 'c.pem'], '--tls-cert and --tls-key go together'],
    [['--trust-proxy', '10.0.0.0/99'], '--trust-proxy 10.0.0.0/99 is not an IP address or CIDR block'],
    [['--database', 'mysql://user:secret@db/audit'], 'is not a postgres:// URL'],
  ])('exits 2 for %j', async (args, message) => {
    const run = await runCli(['serve', '--data-dir', tempDir().path('d'), ...args])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toContain(message)
    expect(run.stderr).not.toContain('secret')
  })

  it('exits 2 for a lease time out of range', async () => {
    const run = await runCli(['serve', '--data-dir', tempDir().path('d')], { env: { KONNECT_AUDIT_LEASE_TIME: '1s' } })
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toContain('KONNECT_AUDIT_LEASE_TIME 1s must be a duration from 3s to 10m')
  })

  it('takes the bootstrap token from a file and rejects a malformed one', async () => {
    const tmp = tempDir()
    const bad = await runCli([
      'serve',
      '--data-dir',
      tmp.path('d'),
      '--bootstrap-token-file',
      tmp.write('bad', 'kat_nope\n'),
    ])
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toContain('kat_ followed by 43 base64url characters')
  })
})

describe('operator subcommands', () => {
  it('creates and lists orgs and break-glass tokens while the data dir is in use', async () => {
    const tmp = tempDir()
    const dataDir = tmp.path('data')
    const server = serveInProcess(['--listen', '127.0.0.1:0', '--data-dir', dataDir])
    const url = await waitFor(() => /"Server listening at (http:\/\/[\d.:]+)"/.exec(server.log())?.[1])

    const created = await runCli(['serve', 'org', 'create', '--name', 'payments', '--data-dir', dataDir])
    expect(created.exitCode).toBe(0)
    const orgId = created.stdout.trim()
    expect(orgId).toMatch(/^[0-9a-f-]{36}$/)
    const orgToken = readFileSync(join(dataDir, `org-${orgId}-admin-token`), 'utf8').trim()
    expect(created.stdout + created.stderr).not.toContain(orgToken)
    const whoami = await jsonOf(await fetch(`${url}/v1/whoami`, { headers: { authorization: `Bearer ${orgToken}` } }))
    expect(whoami.org).toEqual({ id: orgId, name: 'payments' })

    const duplicateFile = tmp.path('duplicate.token')
    const duplicate = await runCli([
      'serve',
      'org',
      'create',
      '--name',
      'payments',
      '--admin-token-file',
      duplicateFile,
      '--data-dir',
      dataDir,
    ])
    expect(duplicate.exitCode).toBe(5)
    expect(duplicate.stderr).toBe('Error: an org named payments already exists; see konnect-audit serve org list\n')
    expect(existsSync(duplicateFile)).toBe(false)

    const listed = await runCli(['serve', 'org', 'list', '--data-dir', dataDir, '--json'])
    expect(JSON.parse(listed.stdout).data.map((org: { name: string }) => org.name)).toEqual(['default', 'payments'])

    const out = tmp.path('breakglass.token')
    const token = await runCli([
      'serve',
      'token',
      'create',
      '--org',
      orgId,
      '--role',
      'auditor',
      '--name',
      'bg',
      '--out',
      out,
      '--data-dir',
      dataDir,
    ])
    expect(token.exitCode).toBe(0)
    expect(statSync(out).mode & 0o777).toBe(0o600)
    const secret = readFileSync(out, 'utf8').trim()
    expect(token.stdout + token.stderr).not.toContain(secret)
    const asAuditor = await jsonOf(await fetch(`${url}/v1/whoami`, { headers: { authorization: `Bearer ${secret}` } }))
    expect(asAuditor.token).toMatchObject({ name: 'bg', role: 'auditor' })

    // By name too; a file that exists is never overwritten, and no token is made for it.
    const again = ['serve', 'token', 'create', '--org', 'payments', '--name', 'bg2', '--data-dir', dataDir]
    const refused = await runCli([...again, '--out', out])
    expect(refused.exitCode).toBe(2)
    expect(refused.stderr).toContain(`${out} already exists`)
    expect(readFileSync(out, 'utf8').trim()).toBe(secret)
    const byName = await runCli([...again, '--out', tmp.path('bg2.token'), '--json'])
    expect(byName.exitCode).toBe(0)
    expect(JSON.parse(byName.stdout)).toMatchObject({ org_id: orgId, role: 'admin' })
    const tokens = await jsonOf(await fetch(`${url}/v1/tokens`, { headers: { authorization: `Bearer ${orgToken}` } }))
    expect(tokens.data.map((listed: { name: string }) => listed.name)).toEqual(['initial-admin', 'bg', 'bg2'])

    const nowhere = await runCli([...again, '--out', tmp.path('no-such-dir/bg3.token')])
    expect(nowhere.exitCode).toBe(1)
    expect(nowhere.stderr).toMatch(/^Error: cannot write the token file: ENOENT/)

    const missingFlag = await runCli(['serve', 'token', 'create', '--org', orgId, '--data-dir', dataDir])
    expect(missingFlag.exitCode).toBe(2)
    server.signal('SIGTERM')
    expect(await server.exit).toBe(0)
  })
})

describe.skipIf(SKIP_POSTGRES)('serve on PostgreSQL', () => {
  beforeAll(requirePostgres)
  afterAll(dropTestSchemas)

  it('takes the database from KONNECT_AUDIT_DATABASE_URL, with the operator subcommands on the same store', async () => {
    const tmp = tempDir()
    const url = await freshSchemaUrl()
    const server = serveInProcess(['--listen', '127.0.0.1:0', '--data-dir', tmp.path('data')], {
      KONNECT_AUDIT_DATABASE_URL: url,
    })
    const base = await waitFor(() => /"Server listening at (http:\/\/[\d.:]+)"/.exec(server.log())?.[1])
    expect(await jsonOf(await fetch(`${base}/healthz`))).toMatchObject({ status: 'ok', store: 'postgres' })

    const created = await runCli(['serve', 'org', 'create', '--name', 'payments', '--database', url], {
      env: { KONNECT_AUDIT_DATA_DIR: tmp.path('operator') },
    })
    expect(created.exitCode).toBe(0)
    const orgId = created.stdout.trim()
    const orgToken = readFileSync(tmp.path(`operator/org-${orgId}-admin-token`), 'utf8').trim()
    const whoami = await jsonOf(await fetch(`${base}/v1/whoami`, { headers: { authorization: `Bearer ${orgToken}` } }))
    expect(whoami.org).toEqual({ id: orgId, name: 'payments' })
    // The data dir is not locked with PostgreSQL: a second replica may share it.
    const replica = serveInProcess(['--listen', '127.0.0.1:0', '--data-dir', tmp.path('data'), '--database', url])
    await waitFor(() => (replica.log().includes('Server listening') ? true : undefined))
    replica.signal('SIGTERM')
    server.signal('SIGTERM')
    expect([await replica.exit, await server.exit]).toEqual([0, 0])
  })

  it('exits 1 for an unreachable database, without its password', async () => {
    const run = await runCli([
      'serve',
      '--data-dir',
      tempDir().path('d'),
      '--database',
      'postgres://audit:s3cret@127.0.0.1:1/audit',
    ])
    expect(run.exitCode).toBe(1)
    expect(run.stderr).toContain('unreachable')
    expect(run.stderr).not.toContain('s3cret')
  })
})
