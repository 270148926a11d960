import { describe, expect, it } from 'vitest'
import type { NumberedLine } from '../../src/core/lines.js'
import { numberedLines } from '../../src/core/lines.js'

async function split(chunks: Array<string | Uint8Array>, max = 16): Promise<Array<[number, string | null]>> {
  async function* source() {
    for (const chunk of chunks) yield typeof chunk === 'string' ? Buffer.from(chunk) : chunk
  }
  const lines: NumberedLine[] = []
  for await (const batch of numberedLines(source(), max)) lines.push(...batch)
  return lines.map(({ number, bytes }) => [number, bytes === null ? null : Buffer.from(bytes).toString('latin1')])
}

describe('numberedLines', () => {
  it('trims exactly one LF or CRLF and keeps other trailing whitespace', async () => {
    expect(await split(['a\r\nb \n\nc\r\r\n'])).toEqual([
      [1, 'a'],
      [2, 'b '],
      [3, ''],
      [4, 'c\r'],
    ])
  })

  it('yields a last line without a newline, and nothing for a trailing newline', async () => {
    expect(await split(['a\nb'])).toEqual([
      [1, 'a'],
      [2, 'b'],
    ])
    expect(await split(['a\n'])).toEqual([[1, 'a']])
    expect(await split([])).toEqual([])
  })

  it('joins lines split across chunks, including a CRLF split in two', async () => {
    expect(await split(['ab', 'c\r', '\nd', 'e\n'])).toEqual([
      [1, 'abc'],
      [2, 'de'],
    ])
  })

  it('skips a UTF-8 BOM at the start only', async () => {
    expect(await split([Buffer.from([0xef, 0xbb]), Buffer.from([0xbf, 0x61, 0x0a, 0xef, 0xbb, 0xbf, 0x62])])).toEqual([
      [1, 'a'],
      [2, '\xef\xbb\xbfb'],
    ])
  })

  it('reports over-long lines as null without buffering them, and goes on', async () => {
    const long = 'x'.repeat(40)
    expect(await split(['ok\n', long.slice(0, 20), long.slice(20), '\nnext\n', `${'y'.repeat(17)}\n`])).toEqual([
      [1, 'ok'],
      [2, null],
      [3, 'next'],
      [4, null],
    ])
    expect(await split([`${'z'.repeat(16)}\r\n`])).toEqual([[1, 'z'.repeat(16)]])
  })
})
