import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import nacl from 'tweetnacl'
import { describe, expect, it } from 'vitest'
import { signJsonLine, unsignedJsonLine } from '../../src/core/canonical-json.js'
import { parseCefLine, renderCefLine } from '../../src/core/cef.js'
import { renderCpsLine } from '../../src/core/cps.js'
import type { AuditEvent } from '../../src/core/events.js'
import { extractSigned } from '../../src/core/extract.js'
import { readJwks } from '../../src/core/jwks.js'
import { LineVerifier } from '../../src/core/verify.js'
import { parseTraceId } from '../../src/util/u64.js'
import { authenticationEvent, authorizationEvent, gatewayAccessEvent, jwksOf, newTestKey } from '../helpers/events.js'

const key = newTestKey()
const verifier = new LineVerifier(readJwks(jwksOf([key, 'active'])).keys)
const verdict = (line: string) => verifier.verify(Buffer.from(line, 'utf8'))

const tricky = 'tab\there, "quotes", back\\slash, eq=ual, pipe|, new\nline, cr\r, é, 日本, 😀, \u2028, \u007f, \u0001'
const events: AuditEvent[] = [
  authenticationEvent(),
  authenticationEvent({
    event_product: 'Dev-Portal',
    portal_id: 'f1e2d3c4-b5a6-4798-8a9b-0c1d2e3f4a5b',
    principal_name: 'Zoë',
    name: 'AUTHENTICATION_OUTCOME_SUCCESS',
    success: true,
    severity: 0,
    trace_id: parseTraceId('0'),
    user_agent: '',
  }),
  authorizationEvent(),
  authorizationEvent({ user_agent: tricky, granted: true, trace_id: parseTraceId('9007199254740993') }),
  gatewayAccessEvent(),
  gatewayAccessEvent({ user_agent: tricky, query: '{"a":["x y","z=1"]}', status: 401, severity: 6 }),
]

function linesOf(event: AuditEvent): string[] {
  const json = signJsonLine(event, key.signer)
  return [json, renderCefLine(event, key.signer), renderCpsLine(json)]
}

describe('sign and verify round trips', () => {
  it.each(events.map((event, i) => [i, event.type, event] as const))(
    'event %i (%s) verifies in all formats',
    (_, __, event) => {
      for (const line of linesOf(event)) {
        expect(line).not.toMatch(/[\n\r]/)
        expect(verdict(line)).toMatchObject({ status: 'valid', keyIndex: 0 })
      }
    },
  )

  it('writes trace_id digits exactly, above 2^53 and at 2^64 - 1', () => {
    const max = signJsonLine(authenticationEvent(), key.signer)
    expect(max).toContain('"trace_id":18446744073709551615,')
    const cef = renderCefLine(authorizationEvent({ trace_id: parseTraceId('9007199254740993') }), key.signer)
    expect(cef).toContain(' trace_id=9007199254740993 ')
  })

  it('rejects trace ids outside the unsigned 64-bit range', () => {
    expect(() => parseTraceId('18446744073709551616')).toThrow(RangeError)
    expect(() => parseTraceId('-1')).toThrow(RangeError)
    expect(() => parseTraceId('01')).toThrow(RangeError)
  })

  it('keeps non-ASCII raw and escapes control characters as JSON.stringify does', () => {
    const line = unsignedJsonLine(authorizationEvent({ user_agent: tricky }))
    expect(line).toContain('é, 日本, 😀, \u2028, \u007f, \\u0001')
    expect(line).toContain('tab\\there')
    expect(line).toContain('new\\nline, cr\\r')
  })

  it('orders members by key and puts sig last', () => {
    const line = signJsonLine(gatewayAccessEvent(), key.signer)
    const keys = [...line.matchAll(/"([a-z_]+)":/g)].map((m) => m[1])
    expect(keys).toEqual([
      'act',
      'cef_version',
      'event_class_id',
      'event_product',
      'event_ts',
      'event_vendor',
      'event_version',
      'kong_initiated',
      'name',
      'org_id',
      'principal_id',
      'query',
      'request',
      'rt',
      'severity',
      'src',
      'status',
      'trace_id',
      'user_agent',
      'sig',
    ])
  })
})

describe('CEF escaping', () => {
  it('escapes header and extension values and the parser undoes it', () => {
    const event = authorizationEvent({ user_agent: ` lead ${tricky} trail ` })
    const line = renderCefLine(event, key.signer)
    expect(line).toContain('|reports|Authz.reports\\|daily|6|')
    expect(line).toContain('actor_id=svc\\=batch ')
    expect(line).toContain('back\\\\slash, eq\\=ual, pipe|, new\\nline, cr\\r')
    const parsed = parseCefLine(line)
    expect(parsed?.header).toEqual(['0', 'KongInc', 'Konnect', '1.0', 'reports', 'Authz.reports|daily', '6'])
    const extensions = new Map(parsed?.extensions)
    expect(extensions.get('user_agent')).toBe(event.user_agent)
    expect(extensions.get('actor_id')).toBe('svc=batch')
    expect(extensions.get('trace_id')).toBe('18446744073709551615')
    expect([...extensions.keys()]).toEqual([
      'rt',
      'src',
      'action',
      'granted',
      'org_id',
      'principal_id',
      'actor_id',
      'trace_id',
      'user_agent',
      'sig',
    ])
  })

  it('writes an empty value as nothing', () => {
    const line = renderCefLine(authenticationEvent({ user_agent: '' }), key.signer)
    expect(line).toMatch(/ user_agent= sig=[A-Za-z0-9_-]{86}$/)
    expect(new Map(parseCefLine(line)?.extensions).get('user_agent')).toBe('')
  })
})

describe('independent cross-checks', () => {
  const lines = events.flatMap(linesOf)

  it('tweetnacl verifies what node:crypto signed, and node:crypto verifies tweetnacl signatures', () => {
    for (const line of lines) {
      const extraction = extractSigned(Buffer.from(line))
      if (extraction.kind !== 'signed') throw new Error(`not signed: ${line}`)
      expect(nacl.sign.detached.verify(extraction.message, extraction.signature, key.raw)).toBe(true)
    }
    const pair = nacl.sign.keyPair()
    const naclKey = { raw: Buffer.from(pair.publicKey) }
    const naclVerifier = new LineVerifier(readJwks(jwksOf([{ ...key, ...naclKey }, 'active'])).keys)
    const unsigned = unsignedJsonLine(gatewayAccessEvent())
    const sig = Buffer.from(nacl.sign.detached(Buffer.from(unsigned), pair.secretKey)).toString('base64url')
    const line = `${unsigned.slice(0, -1)},"sig":"${sig}"}`
    expect(naclVerifier.verify(Buffer.from(line))).toMatchObject({ status: 'valid' })
  })

  it('openssl pkeyutl -verify -rawin accepts every line (SPEC.md §4.6)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ka-openssl-'))
    const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), key.raw])
    writeFileSync(join(dir, 'pub.der'), der)
    execFileSync('openssl', ['pkey', '-pubin', '-inform', 'DER', '-in', 'pub.der', '-out', 'pub.pem'], { cwd: dir })
    for (const line of lines) {
      const extraction = extractSigned(Buffer.from(line))
      if (extraction.kind !== 'signed') throw new Error(`not signed: ${line}`)
      writeFileSync(join(dir, 'msg.bin'), extraction.message)
      writeFileSync(join(dir, 'sig.bin'), extraction.signature)
      const out = execFileSync(
        'openssl',
        ['pkeyutl', '-verify', '-pubin', '-inkey', 'pub.pem', '-rawin', '-in', 'msg.bin', '-sigfile', 'sig.bin'],
        { cwd: dir, encoding: 'utf8' },
      )
      expect(out).toContain('Signature Verified Successfully')
    }
    writeFileSync(join(dir, 'msg.bin'), Buffer.from('tampered'))
    expect(() =>
      execFileSync(
        'openssl',
        ['pkeyutl', '-verify', '-pubin', '-inkey', 'pub.pem', '-rawin', '-in', 'msg.bin', '-sigfile', 'sig.bin'],
        { cwd: dir, stdio: 'pipe' },
      ),
    ).toThrow()
  })
})
