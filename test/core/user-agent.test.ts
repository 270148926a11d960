import { describe, expect, it } from 'vitest'
import { validateIngestItem } from '../../src/core/ingest-item.js'
import { sanitizeUserAgent } from '../../src/core/user-agent.js'

const FFFD = '\uFFFD'
const bytesOf = (text: string) => Buffer.byteLength(text, 'utf8')

describe('sanitizeUserAgent (SPEC.md §3.4)', () => {
  it('gives "" for an absent header', () => {
    expect(sanitizeUserAgent(undefined)).toBe('')
  })

  it('decodes UTF-8 bytes, invalid sequences as U+FFFD', () => {
    expect(sanitizeUserAgent(Buffer.from('curl/8.5.0 é😀'))).toBe('curl/8.5.0 é😀')
    expect(sanitizeUserAgent(Buffer.from([0x61, 0xff, 0x62]))).toBe(`a${FFFD}b`)
    expect(sanitizeUserAgent(Buffer.from([0x61, 0xe2, 0x82]))).toBe(`a${FFFD}`)
    expect(sanitizeUserAgent(Buffer.from([0xed, 0xa0, 0x80]))).toBe(FFFD.repeat(3)) // an encoded surrogate
  })

  it('reads a string as Node delivers header values: one latin1 character per byte', () => {
    const asNodeGivesIt = Buffer.from('agent/1 é😀', 'utf8').toString('latin1')
    expect(sanitizeUserAgent(asNodeGivesIt)).toBe('agent/1 é😀')
    expect(sanitizeUserAgent('a\u00ffb')).toBe(`a${FFFD}b`)
  })

  it('keeps a leading BOM as a character', () => {
    expect(sanitizeUserAgent(Buffer.from([0xef, 0xbb, 0xbf, 0x61]))).toBe('\uFEFFa')
  })

  it('replaces forbidden control characters and keeps tab', () => {
    expect(sanitizeUserAgent(Buffer.from('a\u0000b\u0001c\u001fd\u007fe\tf'))).toBe(
      `a${FFFD}b${FFFD}c${FFFD}d${FFFD}e\tf`,
    )
  })

  it('truncates after the last whole character within 1024 bytes', () => {
    expect(sanitizeUserAgent(Buffer.from(`${'a'.repeat(1022)}é`))).toBe(`${'a'.repeat(1022)}é`)
    expect(sanitizeUserAgent(Buffer.from(`${'a'.repeat(1023)}é`))).toBe('a'.repeat(1023))
    expect(sanitizeUserAgent(Buffer.from('😀'.repeat(257)))).toBe('😀'.repeat(256))
  })

  it('counts replacements at their 3 UTF-8 bytes', () => {
    const sanitized = sanitizeUserAgent(Buffer.alloc(2000, 0x01))
    expect(sanitized).toBe(FFFD.repeat(341))
    expect(bytesOf(sanitized)).toBe(1023)
  })

  it('always yields a user_agent that ingest would accept', () => {
    const nasty = Buffer.concat([
      Buffer.from('x\u0000\r\n'),
      Buffer.from([0xc3, 0x28, 0xf0, 0x9f]),
      Buffer.alloc(3000, 0x7f),
    ])
    const userAgent = sanitizeUserAgent(nasty)
    expect(bytesOf(userAgent)).toBeLessThanOrEqual(1024)
    const item = { type: 'authorization', src: '192.0.2.1', principal_id: '', event_class_id: 'identity' }
    const result = validateIngestItem(
      { ...item, name: 'Authz.x', action: 'list', granted: true, user_agent: userAgent },
      0,
      { orgId: 'org', nowMs: 0, retentionMs: 0, arrivalTs: '1970-01-01T00:00:00Z' },
    )
    expect(result.ok).toBe(true)
  })
})
