// Owns the human-readable server log of `serve --dev`: each pino JSON line becomes
// `HH:MM:SS LEVEL message (key=value …)`; anything that is not JSON passes through unchanged.

import { Writable } from 'node:stream'

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' }
const OMITTED = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'v'])

function detail(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

export function humanLogLine(jsonLine: string): string {
  let record: Record<string, unknown>
  try {
    record = JSON.parse(jsonLine) as Record<string, unknown>
  } catch {
    return jsonLine
  }
  const time = typeof record.time === 'number' ? new Date(record.time).toISOString().slice(11, 19) : '--:--:--'
  const level = LEVELS[Number(record.level)] ?? 'LOG'
  const extras = Object.entries(record)
    .filter(([key]) => !OMITTED.has(key))
    .map(([key, value]) => `${key}=${detail(value)}`)
  return `${time} ${level.padEnd(5)} ${detail(record.msg ?? '')}${extras.length > 0 ? ` (${extras.join(' ')})` : ''}`
}

/** A stream for pino that writes human lines to `target`. */
export function humanLogStream(target: NodeJS.WritableStream): Writable {
  let pending = ''
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      pending += chunk.toString('utf8')
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) if (line !== '') target.write(`${humanLogLine(line)}\n`)
      done()
    },
  })
}
