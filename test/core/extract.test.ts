import { describe, expect, it } from 'vitest'
import { readJwks } from '../../src/core/jwks.js'
import { LineVerifier, MAX_LINE_BYTES } from '../../src/core/verify.js'
import { TEST_JWKS, V1, V2 } from '../fixtures/vectors.js'

const verifier = new LineVerifier(readJwks(TEST_JWKS).keys)
const verdict = (line: string | Buffer) => verifier.verify(typeof line === 'string' ? Buffer.from(line) : line)
const SIG = V1.json.slice(-88, -2)

/** [description, line, status, reason] */
const cases: Array<[string, string | Buffer, string, string | null]> = [
  ['V1 JSON as published', V1.json, 'valid', null],
  ['one byte changed before sig', V1.json.replace('203.0.113.45', '203.0.113.46'), 'invalid', 'no_matching_key'],
  ['trace_id off by one', V2.json.replace('9007199254740993', '9007199254740994'), 'invalid', 'no_matching_key'],
  [
    'keys reordered',
    V1.json.replace('{"action":"edit","cef_version":"0",', '{"cef_version":"0","action":"edit",'),
    'invalid',
    'no_matching_key',
  ],
  ['CEF value changed', V1.cef.replace('granted=false', 'granted=true'), 'invalid', 'no_matching_key'],
  ['CPS inner byte changed', V2.cps.replace('"POST"', '"PUT!"'), 'invalid', 'no_matching_key'],
  ['truncated sig', V1.json.replace(`"${SIG}"`, `"${SIG.slice(0, 85)}"`), 'malformed', 'bad_sig_encoding'],
  ['sig with padding', V1.json.replace(`"${SIG}"`, `"${SIG}=="`), 'malformed', 'bad_sig_encoding'],
  [
    'sig with a non-alphabet character',
    V1.json.replace(`"${SIG}"`, `"+${SIG.slice(1)}"`),
    'malformed',
    'bad_sig_encoding',
  ],
  ['sig not a string', V1.json.replace(`"${SIG}"`, '12'), 'malformed', 'bad_sig_encoding'],
  ['last sig character with unused bits set', V1.json.replace(/Q"}$/, 'R"}'), 'malformed', 'bad_sig_encoding'],
  ['space after the final brace', `${V1.json} `, 'malformed', 'sig_not_last'],
  ['space before the sig value', V1.json.replace('"sig":"', '"sig": "'), 'malformed', 'sig_not_last'],
  ['space before the comma ahead of sig', V1.json.replace(',"sig":', ' ,"sig":'), 'malformed', 'sig_not_last'],
  ['tab after the comma ahead of sig', V1.json.replace(',"sig":', ',\t"sig":'), 'malformed', 'sig_not_last'],
  ['sig not the last member', V1.json.replace(/,"sig":("[^"]+")}$/, ',"sig":$1,"x":1}'), 'malformed', 'sig_not_last'],
  ['sig twice', V1.json.replace('{"action"', `{"sig":"${SIG}","action"`), 'malformed', 'sig_not_last'],
  ['sig key escaped', V1.json.replace(',"sig":', ',"\\u0073ig":'), 'malformed', 'sig_not_last'],
  ['sig removed', V1.json.replace(/,"sig":"[^"]+"/, ''), 'unsigned', 'no_sig'],
  ['nested sig only', '{"a":{"sig":"x"}}', 'unsigned', 'no_sig'],
  ['garbage', 'hello world', 'malformed', 'unknown_format'],
  ['JSON syntax error', `{"a":1,${V1.json.slice(1, -1)}`, 'malformed', 'parse_error'],
  ['JSON with trailing garbage', `${V1.json}x`, 'malformed', 'parse_error'],
  ['JSON array line', `[${V1.json}]`, 'malformed', 'unknown_format'],
  [
    'invalid UTF-8',
    Buffer.concat([Buffer.from(V1.json.slice(0, 20)), Buffer.from([0xff, 0xfe]), Buffer.from(V1.json.slice(20))]),
    'malformed',
    'bad_utf8',
  ],
  ['CPS with a space after it', `${V1.cps} `, 'malformed', 'parse_error'],
  ['CPS with a second member', V1.cps.replace(/}$/, ',"x":1}'), 'malformed', 'parse_error'],
  ['CPS with an unsigned inner line', `{"event":${V1.json.replace(/,"sig":"[^"]+"/, '')}}`, 'unsigned', 'no_sig'],
  [
    'CEF with a syslog prefix',
    V1.cef.replace('2026-11-26T09:14:03Z konghq.com', 'Apr 14 05:39:08 host'),
    'invalid',
    'no_matching_key',
  ],
  ['CEF header with six pipes', 'CEF:0|KongInc|Konnect|1.0|x|y', 'malformed', 'parse_error'],
  ['CEF without sig', V1.cef.replace(/ sig=.*$/, ''), 'unsigned', 'no_sig'],
  ['CEF with two sigs', V1.cef.replace(' user_agent=', ` sig=${SIG} user_agent=`), 'malformed', 'sig_not_last'],
  ['CEF with a trailing space', `${V1.cef} `, 'malformed', 'sig_not_last'],
  ['CEF with a trailing tab', `${V1.cef}\t`, 'malformed', 'sig_not_last'],
  ['CEF with a short sig', V1.cef.slice(0, -1), 'malformed', 'bad_sig_encoding'],
  ['CEF with a pipe in the extension', V1.cef, 'valid', null],
  ['line over 1 MiB', `{"a":"${'x'.repeat(MAX_LINE_BYTES)}"}`, 'malformed', 'line_too_long'],
]

describe('strict extraction and verification (SPEC.md §4.5)', () => {
  it.each(cases)('%s', (_, line, status, reason) => {
    expect(verdict(line)).toMatchObject({ status, reason })
  })

  it('accepts a deeply nested member without overflowing the stack', () => {
    const deep = `{"a":${'['.repeat(200_000)}${']'.repeat(200_000)},"b":1}`
    expect(verdict(deep)).toMatchObject({ status: 'unsigned' })
  })

  it('reports forced formats that do not match as unknown_format', () => {
    const cefOnly = new LineVerifier(readJwks(TEST_JWKS).keys, 'cef')
    expect(cefOnly.verify(Buffer.from(V1.json))).toMatchObject({
      status: 'malformed',
      reason: 'unknown_format',
      format: 'json',
    })
    expect(cefOnly.verify(Buffer.from(V1.cef))).toMatchObject({ status: 'valid' })
  })

  it('returns the event_ts of valid lines, from JSON members and RFC 3339 CEF prefixes only', () => {
    expect(verdict(V1.json).eventTs).toBe('2026-11-26T09:14:03Z')
    expect(verdict(V2.cef).eventTs).toBe('2026-11-26T09:13:58Z')
    expect(verdict(V1.cps).eventTs).toBe('2026-11-26T09:14:03Z')
    const syslog = V1.cef.replace('2026-11-26T09:14:03Z konghq.com', 'Apr 14 05:39:08 host')
    expect(verifier.verify(Buffer.from(syslog)).eventTs).toBeNull()
  })
})
