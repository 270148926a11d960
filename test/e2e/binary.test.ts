// Spawns the built binary as a user would: version, help, and verify's exit codes on real files.

import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { JWKS_PATH, VECTORS_LOG_PATH } from '../fixtures/vectors.js'
import { tempDir } from '../helpers/temp-files.js'

const BIN = new URL('../../bin/konnect-audit.js', import.meta.url).pathname
const run = (args: string[], input?: string) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input, env: { PATH: process.env.PATH ?? '' } })

describe('the konnect-audit binary', () => {
  it('prints its version', () => {
    const version = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version
    expect(run(['--version'])).toMatchObject({ status: 0, stdout: `${version}\n`, stderr: '' })
  })

  it('verifies the Appendix A vectors (exit 0), and exits 3 after one flipped byte', () => {
    expect(run(['verify', VECTORS_LOG_PATH, '--jwks', JWKS_PATH])).toMatchObject({ status: 0 })
    const tmp = tempDir()
    const bytes = readFileSync(VECTORS_LOG_PATH)
    bytes[40] = (bytes[40] as number) ^ 0x01
    const flipped = run(['verify', tmp.write('flipped.log', bytes), '--jwks', JWKS_PATH])
    expect(flipped.status).toBe(3)
    expect(flipped.stdout).toMatch(/flipped\.log:1 {2}INVALID {4}no_matching_key\n/)
  })

  it('reads stdin and exits 0 quietly when stdout is closed early', () => {
    const piped = spawnSync(
      'bash',
      ['-c', `node ${BIN} verify --jwks ${JWKS_PATH} --verbose < ${VECTORS_LOG_PATH} | head -n1`],
      {
        encoding: 'utf8',
      },
    )
    expect(piped.stdout).toMatch(/^-:1 {2}valid/)
    expect(piped.stderr).toBe('')
  })

  it('exits 2 with one line for an unknown flag', () => {
    const result = run(['verify', '--nope'])
    expect(result.status).toBe(2)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
  })
})
