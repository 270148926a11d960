import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { generatedFiles } from '../../../src/cli/docs/generated-files.js'
import { runCli } from '../../helpers/run-cli.js'

const root = new URL('../../../', import.meta.url)

describe('generated completions and man page', () => {
  it('match the checked-in files (run npm run gen after changing a command)', async () => {
    for (const [path, text] of await generatedFiles()) {
      expect(readFileSync(new URL(path, root), 'utf8'), `${path} is stale: run npm run gen`).toBe(text)
    }
  })

  it('completes commands, flags and enum values in bash', () => {
    const complete = (words: string[]) => {
      const script = `source ${new URL('completions/konnect-audit.bash', root).pathname}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}
_konnect_audit; printf '%s\\n' "\${COMPREPLY[@]}"`
      return spawnSync('bash', ['-c', script], { encoding: 'utf8' }).stdout.trim().split('\n')
    }
    expect(complete(['konnect-audit', 've'])).toEqual(['verify'])
    expect(complete(['konnect-audit', '--json', 'verify', '--fo'])).toEqual(['--format'])
    expect(complete(['konnect-audit', 'verify', '--format', 'c'])).toEqual(['cef', 'cps'])
    expect(complete(['konnect-audit', 'completion', 'z'])).toEqual(['zsh'])
  })

  it('documents every command, flag, exit code, environment variable and file in the man page', async () => {
    const man = (await generatedFiles()).find(([path]) => path.endsWith('.1'))?.[1] ?? ''
    for (const text of [
      '.SS "verify [file...]"',
      '\\fB\\-\\-jwks\\fR \\fI<file|url>\\fR',
      '.B KONNECT_AUDIT_TOKEN',
      '.B KONNECT_AUDIT_PROFILE',
      '.SH FILES',
      '.I $XDG_CONFIG_HOME/konnect\\-audit/config.json',
      '.B 130',
    ]) {
      expect(man).toContain(text)
    }
  })
})

describe('completion command', () => {
  it('prints the script for a named shell, and bash when piped without one', async () => {
    const fish = await runCli(['completion', 'fish'])
    expect(fish.exitCode).toBe(0)
    expect(fish.stdout).toBe(readFileSync(new URL('completions/konnect-audit.fish', root), 'utf8'))
    const piped = await runCli(['completion'])
    expect(piped.stdout).toContain('complete -F _konnect_audit konnect-audit')
  })

  it('exits 2 for an unknown shell, or no shell on a terminal', async () => {
    expect(await runCli(['completion', 'tcsh'])).toMatchObject({
      exitCode: 2,
      stderr: "Error: unknown shell 'tcsh': use bash, zsh, fish\n",
    })
    expect(await runCli(['completion'], { tty: true })).toMatchObject({ exitCode: 2 })
  })
})
