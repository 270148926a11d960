import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signJsonLine } from '../../src/core/canonical-json.js'
import { renderCefLine } from '../../src/core/cef.js'
import { JWKS_PATH, TEST_JWKS, TEST_KID, V1, V2, VECTORS_LOG_PATH } from '../fixtures/vectors.js'
import { authorizationEvent, gatewayAccessEvent, jwksOf, newTestKey } from '../helpers/events.js'
import { runCli } from '../helpers/run-cli.js'
import { tempDir } from '../helpers/temp-files.js'

const tmp = tempDir()
const verify = (args: string[], options: Parameters<typeof runCli>[1] = {}) =>
  runCli(['verify', ...args, '--jwks', JWKS_PATH], options)
const records = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))

describe('verify: reports and exit codes', () => {
  it('exits 0 on the Appendix A vectors with a summary and no rows', async () => {
    const run = await verify([VECTORS_LOG_PATH])
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toBe(
      [
        'Summary: 6 lines in 1 files: 6 valid, 0 invalid, 0 unsigned, 0 malformed; 0 blank, 2 duplicates',
        `  kid ${TEST_KID}: 6 valid`,
        '  event_ts: 2026-11-26T09:13:58Z to 2026-11-26T09:14:03Z',
        'Result: OK',
        '',
      ]
        .join('\n')
        .replace(
          'Summary',
          `${VECTORS_LOG_PATH}:5  DUPLICATE  of ${VECTORS_LOG_PATH}:1\n${VECTORS_LOG_PATH}:6  DUPLICATE  of ${VECTORS_LOG_PATH}:3\nSummary`,
        ),
    )
    expect(run.stderr).toBe('')
  })

  it('lists valid lines with --verbose and only failures with -q', async () => {
    const file = tmp.write('mixed.log', [V1.json, '', V1.cef.replace('edit', 'edjt'), V1.json, 'junk'].join('\n'))
    const verbose = await verify([file, '--verbose'])
    expect(verbose.stdout.split('\n').slice(0, 4)).toEqual([
      `${file}:1  valid      kid ${TEST_KID}`,
      `${file}:3  INVALID    no_matching_key`,
      `${file}:4  valid      kid ${TEST_KID}`,
      `${file}:4  DUPLICATE  of ${file}:1`,
    ])
    expect(verbose.stdout).toContain(`${file}:5  MALFORMED  unknown_format\n`)
    expect(verbose.stdout).toContain(
      '4 lines in 1 files: 2 valid, 1 invalid, 0 unsigned, 1 malformed; 1 blank, 1 duplicates',
    )
    expect(verbose.stdout).toMatch(/Result: FAILED\n$/)
    expect(verbose.exitCode).toBe(3)
    expect(verbose.stderr).toBe('Error: verification failed: 1 invalid, 0 unsigned, 1 malformed\n')

    const quiet = await verify([file, '-q'])
    expect(quiet.stdout.split('\n').slice(0, 3)).toEqual([
      `${file}:3  INVALID    no_matching_key`,
      `${file}:5  MALFORMED  unknown_format`,
      'Summary: 4 lines in 1 files: 2 valid, 1 invalid, 0 unsigned, 1 malformed; 1 blank, 1 duplicates',
    ])
  })

  it('streams NDJSON records with --json, as SPEC.md §9.7 shows', async () => {
    const file = tmp.write(
      'audit.ndjson.gz',
      gzipSync([V1.json, V1.cef.replace('edit', 'edjt'), '', V1.json].join('\n')),
    )
    const missing = tmp.path('missing.log')
    const run = await runCli(['verify', file, missing, '--jwks', JWKS_PATH, '--json'])
    expect(run.exitCode).toBe(3)
    expect(records(run.stdout)).toEqual([
      { type: 'line', file, line: 1, format: 'json', status: 'valid', kid: TEST_KID },
      { type: 'line', file, line: 2, format: 'cef', status: 'invalid', kid: null, reason: 'no_matching_key' },
      { type: 'line', file, line: 4, format: 'json', status: 'valid', kid: TEST_KID },
      { type: 'duplicate', file, line: 4, first_file: file, first_line: 1 },
      { type: 'file_error', file: missing, error: 'ENOENT: no such file or directory' },
      {
        type: 'summary',
        files: 2,
        lines: 3,
        valid: 2,
        invalid: 1,
        unsigned: 0,
        malformed: 0,
        blank: 1,
        duplicates: 1,
        file_errors: 1,
        by_kid: { [TEST_KID]: 2 },
        first_event_ts: '2026-11-26T09:14:03Z',
        last_event_ts: '2026-11-26T09:14:03Z',
        jwks_source: 'file',
        ok: false,
      },
    ])
  })

  it('reports unsigned and every malformed reason with -q --json', async () => {
    const unsigned = V1.json.replace(/,"sig":"[^"]+"/, '')
    const lines = [unsigned, `${V1.json} `, V1.json.replace(/Q"}$/, 'R"}'), '{"a":', 'x', `{"event":${V1.json} }`]
    const file = tmp.write('bad.log', `${lines.join('\n')}\n`)
    const run = await verify([file, '-q', '--json'])
    expect(run.exitCode).toBe(3)
    expect(records(run.stdout).map((r) => [r.status, r.reason ?? null])).toEqual([
      ['unsigned', 'no_sig'],
      ['malformed', 'sig_not_last'],
      ['malformed', 'bad_sig_encoding'],
      ['malformed', 'parse_error'],
      ['malformed', 'unknown_format'],
      ['malformed', 'parse_error'],
      [undefined, null],
    ])
  })

  it('exits 1 when a file cannot be read and every readable line is valid', async () => {
    const run = await verify([VECTORS_LOG_PATH, tmp.path('nope.log')])
    expect(run.exitCode).toBe(1)
    expect(run.stderr).toContain(`Error: cannot read ${tmp.path('nope.log')}: ENOENT: no such file or directory\n`)
    expect(run.stderr).toContain('Error: 1 of 2 files could not be read\n')
    expect(run.stdout).toContain('Result: FAILED')
  })

  it('tolerates CRLF line endings and a BOM', async () => {
    const file = tmp.write('crlf.log', `\ufeff${[V1.json, V2.cef, V2.cps].join('\r\n')}\r\n`)
    const run = await verify([file])
    expect(run.stdout).toContain('3 lines in 1 files: 3 valid')
    expect(run.exitCode).toBe(0)
  })

  it('forces one format with --format', async () => {
    const run = await verify([VECTORS_LOG_PATH, '--format', 'cef', '--json', '-q'])
    const unknown = (line: number, format: string) => ({
      type: 'line',
      file: VECTORS_LOG_PATH,
      line,
      format,
      status: 'malformed',
      kid: null,
      reason: 'unknown_format',
    })
    expect(records(run.stdout).slice(0, 4)).toEqual([
      unknown(1, 'json'),
      unknown(3, 'json'),
      unknown(5, 'cps'),
      unknown(6, 'cps'),
    ])
    expect(run.exitCode).toBe(3)
  })
})

describe('verify: input forms', () => {
  it('reads gzip by magic bytes, including multi-member streams, whatever the name', async () => {
    const file = tmp.write('plain-name.log', Buffer.concat([gzipSync(`${V1.json}\n`), gzipSync(`${V2.json}\n`)]))
    const run = await verify([file, '--json'])
    expect(records(run.stdout).at(-1)).toMatchObject({ lines: 2, valid: 2 })
    expect(run.exitCode).toBe(0)
  })

  it('reports a truncated gzip stream as a file error after the lines it held', async () => {
    const whole = gzipSync(`${Array.from({ length: 2000 }, () => V1.json).join('\n')}\n`)
    const file = tmp.write('truncated.gz', whole.subarray(0, whole.length - 20))
    const run = await verify([file, '--json', '-q'])
    const summary = records(run.stdout).at(-1)
    expect(summary).toMatchObject({ file_errors: 1, invalid: 0, malformed: 0 })
    expect(records(run.stdout).at(-2)).toEqual({ type: 'file_error', file, error: 'unexpected end of file' })
    expect(run.exitCode).toBe(1)
  })

  it('reads stdin for - and when no file is named and stdin is piped', async () => {
    for (const args of [['-'], []]) {
      const run = await verify([...args, '--json'], { stdin: `${V1.json}\n${V2.cef}\n` })
      expect(records(run.stdout).at(-1)).toMatchObject({ files: 1, lines: 2, valid: 2 })
      expect(records(run.stdout)[0]).toMatchObject({ file: '-' })
    }
    const gz = await verify(['--json'], { stdin: gzipSync(`${V1.json}\n`) })
    expect(records(gz.stdout).at(-1)).toMatchObject({ valid: 1 })
  })

  it('exits 2 without input on a terminal', async () => {
    const run = await verify([])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toBe('Error: no input: name one or more FILEs, or pipe a log into stdin\n')
  })

  it('warns about an empty input and exits 0', async () => {
    const run = await verify([tmp.write('empty.log', '')])
    expect(run.exitCode).toBe(0)
    expect(run.stderr).toBe('Warning: the input holds no event lines\n')
    expect(run.stdout).toContain('Summary: 0 lines in 1 files')
  })

  it('reports binary garbage as malformed lines, never a crash', async () => {
    const garbage = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256))
    const run = await verify([tmp.write('garbage.bin', garbage), '--json', '-q'])
    expect(run.exitCode).toBe(3)
    const reasons = new Set(
      records(run.stdout)
        .slice(0, -1)
        .map((r) => r.reason),
    )
    expect([...reasons].every((r) => ['bad_utf8', 'unknown_format'].includes(r))).toBe(true)
    expect(run.stderr).not.toMatch(/at \w+ \(/)
  })

  it('reports a 10 MB line as line_too_long and verifies the lines around it', async () => {
    const file = tmp.write('long.log', `${V1.json}\n${'x'.repeat(10 * 1024 * 1024)}\n${V2.json}\n`)
    const run = await verify([file, '--json'])
    expect(records(run.stdout).map((r) => r.reason ?? r.status ?? r.type)).toEqual([
      'valid',
      'line_too_long',
      'valid',
      'summary',
    ])
    expect(run.exitCode).toBe(3)
  })
})

describe('verify: keys', () => {
  const oldKey = newTestKey()
  const newKey = newTestKey()
  const lines = [
    signJsonLine(authorizationEvent(), oldKey.signer),
    renderCefLine(gatewayAccessEvent(), oldKey.signer),
    signJsonLine(gatewayAccessEvent(), newKey.signer),
    renderCefLine(authorizationEvent(), newKey.signer),
  ]
  const log = tmp.write('rotated.log', `${lines.join('\n')}\n`)
  const kids = [newKey.signer.kid, oldKey.signer.kid]

  it('verifies lines signed by a retired and an active key with a JWKS holding both', async () => {
    const jwks = tmp.write('both.json', jwksOf([newKey, 'active'], [oldKey, 'retired']))
    const run = await runCli(['verify', log, '--jwks', jwks, '--json'])
    expect(run.exitCode).toBe(0)
    expect(
      records(run.stdout)
        .slice(0, 4)
        .map((r) => r.kid),
    ).toEqual([kids[1], kids[1], kids[0], kids[0]])
    expect(records(run.stdout).at(-1).by_kid).toEqual({ [kids[1] as string]: 2, [kids[0] as string]: 2 })
  })

  it('fails the lines of a key the JWKS lacks', async () => {
    const jwks = tmp.write('new-only.json', jwksOf([newKey, 'active']))
    const run = await runCli(['verify', log, '--jwks', jwks, '-q'])
    expect(run.exitCode).toBe(3)
    expect(run.stdout.split('\n').slice(0, 2)).toEqual([
      `${log}:1  INVALID    no_matching_key`,
      `${log}:2  INVALID    no_matching_key`,
    ])
  })

  it('warns about unusable JWKS entries and still uses the good ones', async () => {
    const jwks = tmp.write('partial.json', TEST_JWKS.replace('{"keys":[', '{"keys":[{"kty":"RSA","kid":"rsa-1"},'))
    const run = await runCli(['verify', VECTORS_LOG_PATH, '--jwks', jwks, '-q'])
    expect(run.exitCode).toBe(0)
    expect(run.stderr).toBe('Warning: JWKS key rsa-1 skipped: kty is not OKP\n')
  })

  it.each([
    ['not JSON', 'this is not json', 'Error: the JWKS is not valid JSON; check the --jwks source\n'],
    [
      'without usable keys',
      '{"keys":[{"kty":"RSA","kid":"r"}]}',
      'Error: the JWKS has no usable Ed25519 key; check the --jwks source\n',
    ],
  ])('exits 1 for a JWKS that is %s', async (_, text, stderr) => {
    const run = await runCli(['verify', VECTORS_LOG_PATH, '--jwks', tmp.write('bad-jwks.json', text)])
    expect(run.exitCode).toBe(1)
    expect(run.stderr).toContain(stderr)
    expect(run.stdout).toBe('')
  })

  it('exits 1 for a JWKS file that does not exist', async () => {
    const run = await runCli(['verify', VECTORS_LOG_PATH, '--jwks', tmp.path('absent.json')])
    expect(run.exitCode).toBe(1)
    expect(run.stderr).toMatch(/^Error: cannot read JWKS file .*absent\.json: ENOENT/)
  })

  describe('over HTTP', () => {
    const requests: Array<{ url: string; authorization: string | undefined }> = []
    const server = createServer((req, res) => {
      requests.push({ url: req.url ?? '', authorization: req.headers.authorization })
      if (req.url === '/missing') res.writeHead(404).end()
      else if (req.url?.endsWith('/v1/whoami'))
        res.writeHead(req.headers.authorization === 'Bearer kat_rejected' ? 401 : 200).end('{}')
      else res.writeHead(200, { 'content-type': 'application/json' }).end(TEST_JWKS)
    })
    let base = ''
    beforeAll(async () => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    })
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

    it('fetches --jwks URL from a loopback http server', async () => {
      const run = await runCli(['verify', VECTORS_LOG_PATH, '--jwks', `${base}/keys.json`, '--json', '-q'])
      expect(run.exitCode).toBe(0)
      expect(records(run.stdout).at(-1)).toMatchObject({ valid: 6, jwks_source: 'url' })
    })

    it('exits 1 when the JWKS URL answers with an error', async () => {
      const run = await runCli(['verify', VECTORS_LOG_PATH, '--jwks', `${base}/missing`])
      expect(run.exitCode).toBe(1)
      expect(run.stderr).toBe(`Error: fetching the JWKS from ${base}/missing failed: HTTP 404\n`)
    })

    it('fetches the server JWKS with the token when no --jwks is given', async () => {
      requests.length = 0
      const env = { KONNECT_AUDIT_SERVER: `${base}/prefix/`, KONNECT_AUDIT_TOKEN: 'kat_secret' }
      const run = await runCli(['verify', VECTORS_LOG_PATH, '--json', '-q'], { env })
      expect(run.exitCode).toBe(0)
      expect(records(run.stdout).at(-1)).toMatchObject({ jwks_source: 'network' })
      expect(requests).toEqual([
        { url: '/prefix/v2/audit-log-webhook/jwks.json', authorization: 'Bearer kat_secret' },
        { url: '/prefix/v1/whoami', authorization: 'Bearer kat_secret' },
      ])
      expect(run.stderr).toBe('')
      const rejected = await runCli(['verify', VECTORS_LOG_PATH, '-q'], {
        env: { ...env, KONNECT_AUDIT_TOKEN: 'kat_rejected' },
      })
      expect(rejected.stderr).toContain('the server rejects this token')
      expect(rejected.exitCode).toBe(0)
      const anonymous = await runCli(['--server', base, 'verify', VECTORS_LOG_PATH, '-q'])
      expect(anonymous.stderr).toContain('fetched anonymously')
      expect(anonymous.exitCode).toBe(0)
    })
  })

  it('refuses a plain-http JWKS URL that is not loopback (exit 2)', async () => {
    const run = await runCli(['verify', VECTORS_LOG_PATH, '--jwks', 'http://keys.example.com/jwks.json'])
    expect(run.exitCode).toBe(2)
  })

  it('exits 2 when there is neither --jwks nor a server', async () => {
    const run = await runCli(['verify', VECTORS_LOG_PATH])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toMatch(/^Error: no keys to verify with: pass --jwks/)
  })
})

describe('verify: usage errors', () => {
  it.each([
    [['--jobs', '0'], "option '--jobs <n>' argument '0' is invalid"],
    [['--format', 'xml'], "option '--format <auto|json|cef|cps>' argument 'xml' is invalid"],
    [['--bogus'], "unknown option '--bogus'"],
  ])('%j exits 2 with a one-line hint', async (args, detail) => {
    const run = await verify([VECTORS_LOG_PATH, ...args])
    expect(run.exitCode).toBe(2)
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
    expect(run.stderr).toContain(detail)
    expect(run.stderr).toContain("(see 'konnect-audit verify --help')")
  })

  it('spreads work over --jobs workers and keeps input order', async () => {
    const many = Array.from({ length: 6000 }, (_, i) => (i % 1000 === 999 ? 'bad line' : i % 2 ? V1.json : V2.cef))
    const file = tmp.write('many.log', `${many.join('\n')}\n`)
    const run = await verify([file, '--jobs', '3', '--json', '-q'])
    expect(
      records(run.stdout)
        .slice(0, -1)
        .map((r) => r.line),
    ).toEqual([1000, 2000, 3000, 4000, 5000, 6000])
    expect(records(run.stdout).at(-1)).toMatchObject({ lines: 6000, valid: 5994, duplicates: 5992 })
  })
})

describe('verify: duplicates across files', () => {
  it('names the file and line of the first occurrence, past files with blank and missing lines', async () => {
    const first = tmp.write('first.log', `\n\n${V1.json}\n`)
    const empty = tmp.write('empty-between.log', '')
    const second = tmp.write('second.log', `${V2.json}\n\n${V1.json}\n${V2.cps}\n`)
    const run = await verify([first, tmp.path('gone.log'), empty, second, '--json', '-q'])
    expect(records(run.stdout).filter((r) => r.type !== 'line')).toEqual([
      { type: 'file_error', file: tmp.path('gone.log'), error: 'ENOENT: no such file or directory' },
      expect.objectContaining({ type: 'summary', duplicates: 2, blank: 3, files: 4 }),
    ])
    const all = await verify([first, empty, second, '--json'])
    expect(records(all.stdout).filter((r) => r.type === 'duplicate')).toEqual([
      { type: 'duplicate', file: second, line: 3, first_file: first, first_line: 3 },
      { type: 'duplicate', file: second, line: 4, first_file: second, first_line: 1 },
    ])
  })
})
