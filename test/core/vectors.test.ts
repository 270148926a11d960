import { spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { signJsonLine, unsignedJsonLine } from '../../src/core/canonical-json.js'
import { renderCefLine, unsignedCefLine } from '../../src/core/cef.js'
import { renderCpsLine } from '../../src/core/cps.js'
import { readJwks } from '../../src/core/jwks.js'
import { createSigner, kidOf } from '../../src/core/signing.js'
import { LineVerifier } from '../../src/core/verify.js'
import {
  JWKS_PATH,
  TEST_JWKS,
  TEST_KID,
  TEST_PUBLIC_KEY,
  testPrivateKey,
  V1,
  V1_EVENT,
  V2,
  V2_EVENT,
} from '../fixtures/vectors.js'

const signer = createSigner(testPrivateKey())
const verifier = new LineVerifier(readJwks(TEST_JWKS).keys)
const verdictOf = (line: string) => verifier.verify(Buffer.from(line, 'utf8'))

describe('Appendix A golden vectors', () => {
  it('derives the kid of the RFC 8032 test key', () => {
    expect(kidOf(TEST_PUBLIC_KEY)).toBe(TEST_KID)
    expect(signer.kid).toBe(TEST_KID)
  })

  for (const [label, event, lines] of [
    ['V1', V1_EVENT, V1],
    ['V2', V2_EVENT, V2],
  ] as const) {
    it(`${label}: the canonical writer and signer reproduce the JSON line byte for byte`, () => {
      expect(Buffer.byteLength(unsignedJsonLine(event))).toBe(lines.jsonSignedBytes)
      expect(signJsonLine(event, signer)).toBe(lines.json)
    })

    it(`${label}: the CEF renderer reproduces the CEF line byte for byte`, () => {
      expect(Buffer.byteLength(unsignedCefLine(event))).toBe(lines.cefSignedBytes)
      expect(renderCefLine(event, signer)).toBe(lines.cef)
    })

    it(`${label}: JSON, CEF and CPS forms verify with the vector JWKS`, () => {
      expect(renderCpsLine(lines.json)).toBe(lines.cps)
      for (const line of [lines.json, lines.cef, lines.cps]) {
        expect(verdictOf(line)).toMatchObject({ status: 'valid', reason: null, keyIndex: 0 })
      }
    })
  }

  it('negative cases from Appendix A', () => {
    const altered = V1.json.replace('"edit"', '"edjt"')
    expect(verdictOf(altered)).toMatchObject({ status: 'invalid', reason: 'no_matching_key' })
    expect(verdictOf(`${V1.json} `)).toMatchObject({ status: 'malformed', reason: 'sig_not_last' })
    expect(verdictOf(V1.json.replace(/Q"}$/, 'R"}'))).toMatchObject({ status: 'malformed', reason: 'bad_sig_encoding' })
    expect(verdictOf(V1.json.replace(/,"sig":"[^"]+"/, ''))).toMatchObject({ status: 'unsigned', reason: 'no_sig' })
    const reserialised = V2.json.replace('9007199254740993', '9007199254740992')
    expect(verdictOf(reserialised)).toMatchObject({ status: 'invalid', reason: 'no_matching_key' })
  })
})

describe('the OpenSSL recipe of SPEC.md §4.6, run by bash on the vectors', () => {
  const recipe = new URL('../fixtures/openssl-verify.sh', import.meta.url).pathname

  const run = (line: string, format: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'ka-recipe-'))
    return spawnSync('bash', [recipe], {
      cwd: dir,
      env: { ...process.env, JWKS: JWKS_PATH, LINE: line, FORMAT: format },
      encoding: 'utf8',
    })
  }

  for (const [label, lines] of [
    ['V1', V1],
    ['V2', V2],
  ] as const) {
    it(`${label}: JSON, CEF and CPS lines verify`, () => {
      for (const [format, line] of [
        ['json', lines.json],
        ['cef', lines.cef],
        ['cps', lines.cps],
      ]) {
        const result = run(line as string, format as string)
        expect(result.stdout + result.stderr).toContain('Signature Verified Successfully')
        expect(result.status).toBe(0)
      }
    })
  }

  it('a tampered line fails', () => {
    const result = run(V2.json.replace('9007199254740993', '9007199254740992'), 'json')
    expect(result.stdout + result.stderr).toContain('Signature Verification Failure')
    expect(result.status).toBe(1)
  })
})
