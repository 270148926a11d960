import { describe, expect, it, vi } from 'vitest'
import { registry } from '../../src/cli/registry.js'
import { VERSION } from '../../src/util/version.js'
import { JWKS_PATH, VECTORS_LOG_PATH } from '../fixtures/vectors.js'
import { runCli } from '../helpers/run-cli.js'

describe('CLI root', () => {
  it('prints the version and loads no command module', async () => {
    const loads = registry.map((entry) => vi.spyOn(entry, 'load'))
    const run = await runCli(['--version'])
    expect(run).toEqual({ exitCode: 0, stdout: `${VERSION}\n`, stderr: '' })
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/)
    const help = await runCli(['--help'])
    expect(help.exitCode).toBe(0)
    expect(help.stdout).toContain('verify')
    expect(help.stdout).toContain('Examples:')
    for (const load of loads) expect(load).not.toHaveBeenCalled()
    vi.restoreAllMocks()
  })

  it('lists a group of commands without loading any, and exits 2 when no verb is given', async () => {
    const loads = registry.map((entry) => vi.spyOn(entry, 'load'))
    const help = await runCli(['webhook', '--help'])
    expect(help.exitCode).toBe(0)
    for (const verb of ['get', 'set', 'enable', 'disable', 'status', 'test', 'listen'])
      expect(help.stdout).toMatch(new RegExp(`^  ${verb} `, 'm'))
    expect(help.stdout).not.toContain('help [command]')
    const bare = await runCli(['webhook'])
    expect(bare.exitCode).toBe(2)
    expect(bare.stderr).toContain('Usage: konnect-audit webhook')
    for (const load of loads) expect(load).not.toHaveBeenCalled()
    vi.restoreAllMocks()
  })

  it('shows a command help with its flags and examples', async () => {
    const run = await runCli(['verify', '--help'])
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toContain('--jwks <file|url>')
    expect(run.stdout).toContain('$ konnect-audit verify audit.ndjson.gz --jwks jwks.json')
  })

  it('exits 2 with a one-line hint for an unknown command', async () => {
    const run = await runCli(['verfy', 'x.log'])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toBe("Error: unknown command 'verfy' (Did you mean verify?) (see 'konnect-audit --help')\n")
  })

  it('exits 2 for an unknown global flag', async () => {
    const run = await runCli(['--frobnicate'])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toBe("Error: unknown option '--frobnicate' (see 'konnect-audit --help')\n")
  })

  it('writes every error as one JSON document under --json, HTTP response or not', async () => {
    const usage = await runCli(['whoami', '--json', '--frobnicate'])
    expect(usage.exitCode).toBe(2)
    expect(JSON.parse(usage.stderr)).toEqual({
      error: { detail: "unknown option '--frobnicate' (see 'konnect-audit whoami --help')" },
    })
    const unreachable = await runCli(['whoami', '--json', '--server', 'http://127.0.0.1:1'], {
      env: { KONNECT_AUDIT_TOKEN: `kat_${'A'.repeat(43)}` },
    })
    expect(unreachable.exitCode).toBe(1)
    expect(JSON.parse(unreachable.stderr).error.detail).toMatch(/127\.0\.0\.1:1/)
  })

  it.each([
    ['--server without a scheme', ['whoami', '--server', '127.0.0.1:8080'], {}, '--server'],
    [
      'KONNECT_AUDIT_SERVER with another scheme',
      ['whoami'],
      { KONNECT_AUDIT_SERVER: 'ftp://x' },
      'KONNECT_AUDIT_SERVER',
    ],
    ['a server that is no URL for verify', ['verify', '-', '--server', 'bogus'], {}, 'the server setting'],
    ['a server URL with a query', ['whoami', '--server', 'http://127.0.0.1:8080/?x=1'], {}, '--server'],
    ['a server URL with a fragment', ['whoami', '--server', 'http://127.0.0.1:8080/#top'], {}, '--server'],
  ])('exits 2 for %s, naming where it came from', async (_, argv, env, from) => {
    const run = await runCli(argv, { env: { KONNECT_AUDIT_TOKEN: `kat_${'A'.repeat(43)}`, ...env }, stdin: '' })
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toContain(`Error: the server URL from ${from} is not an http(s) URL`)
  })

  it('exits 2 and shows help on stderr when no command is given', async () => {
    const run = await runCli([])
    expect(run.exitCode).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain('Usage: konnect-audit')
  })

  it('accepts global flags before and after the command', async () => {
    for (const argv of [
      ['--json', '-q', 'verify', VECTORS_LOG_PATH, '--jwks', JWKS_PATH],
      ['verify', VECTORS_LOG_PATH, '--json', '--jwks', JWKS_PATH, '-q'],
    ]) {
      const run = await runCli(argv)
      expect(run.exitCode).toBe(0)
      expect(JSON.parse(run.stdout)).toMatchObject({ type: 'summary', valid: 6 })
    }
  })
})
