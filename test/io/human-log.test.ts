import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { humanLogLine, humanLogStream } from '../../src/io/human-log.js'

describe('human-readable server log (serve --dev)', () => {
  it('turns a pino line into time, level, message and the remaining fields', () => {
    const line = JSON.stringify({
      level: 40,
      time: Date.UTC(2026, 10, 26, 9, 14, 3),
      pid: 1,
      hostname: 'h',
      reqId: '7',
      msg: 'slow',
      ms: 12,
    })
    expect(humanLogLine(line)).toBe('09:14:03 WARN  slow (reqId=7 ms=12)')
  })

  it('passes text that is not JSON through unchanged, and joins lines split across writes', async () => {
    expect(humanLogLine('plain text')).toBe('plain text')
    const target = new PassThrough()
    const stream = humanLogStream(target)
    stream.write('{"level":30,"time":0,"msg":"a"}\n{"level":50,')
    stream.write('"time":0,"msg":"b"}\n')
    await new Promise((resolve) => stream.end(resolve))
    expect(target.read()?.toString()).toBe('00:00:00 INFO  a\n00:00:00 ERROR b\n')
  })
})
