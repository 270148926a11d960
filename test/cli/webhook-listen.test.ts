import { readFileSync, statSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { JWKS_PATH, V1, V2 } from '../fixtures/vectors.js'
import { startCommand, waitFor } from '../helpers/in-process.js'
import { tempDir } from '../helpers/temp-files.js'

async function listen(extra: string[] = [], stdin?: string) {
  const command = startCommand(
    ['webhook', 'listen', '--port', '0', '--jwks', JWKS_PATH, ...extra],
    stdin === undefined ? {} : { stdin },
  )
  const url = await waitFor(() => /Listening on (http:\/\/[\d.:]+)/.exec(command.stderr())?.[1])
  const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
    fetch(url, { method: 'POST', body, headers })
  return { command, url, post }
}

describe('webhook listen', () => {
  it('accepts gzip batches, prints raw lines, appends them to -o FILE (0600), and exits 0 on Ctrl-C', async () => {
    const out = tempDir().path('received.log')
    const { command, post } = await listen(['-o', out])
    const response = await post(gzipSync(`${V1.json}\r\n\n${V2.cef}\n`), {
      'content-encoding': 'gzip',
      'content-type': 'text/plain',
    })
    expect(response.status).toBe(202)
    const sniffed = await post(gzipSync(`${V1.cps}\n`), { 'content-type': 'application/octet-stream' })
    expect(sniffed.status).toBe(202)
    expect(command.stdout()).toBe(`${V1.json}\n${V2.cef}\n${V1.cps}\n`)
    expect(readFileSync(out, 'utf8')).toBe(`${V1.json}\n${V2.cef}\n${V1.cps}\n`)
    expect(statSync(out).mode & 0o777).toBe(0o600)
    expect(command.stderr()).toMatch(/batch 1 from 127\.0\.0\.1: 2 lines, 2 valid, 0 invalid, 0 unsigned, 0 malformed/)
    command.signal('SIGINT')
    expect(await command.exit).toBe(0)
  })

  it('answers 405, 400 and 413 for bad requests, and exits 3 after a tampered line', async () => {
    const { command, url, post } = await listen(['--json'])
    expect((await fetch(url)).status).toBe(405)
    expect((await post(Buffer.from([0x1f, 0x8b, 1, 2, 3]))).status).toBe(400)
    expect((await post(gzipSync(Buffer.alloc(3 * 1024 * 1024, 0x20)))).status).toBe(413)
    expect((await post(`${V1.json.replace('edit', 'edjt')}\n`)).status).toBe(202)
    const record = JSON.parse(command.stdout().trim())
    expect(record).toMatchObject({
      batch: 1,
      line: 1,
      status: 'invalid',
      kid: null,
      event: V1.json.replace('edit', 'edjt'),
    })
    expect(command.stderr()).toContain('line 1: INVALID no_matching_key')
    command.signal('SIGINT')
    expect(await command.exit).toBe(3)
  })

  it('checks the expected Authorization from stdin', async () => {
    const { command, post } = await listen(['--auth-header-stdin'], 'Bearer s3cret\n')
    expect((await post(`${V1.json}\n`, { authorization: 'Bearer wrong' })).status).toBe(401)
    expect((await post(`${V1.json}\n`)).status).toBe(401)
    expect((await post(`${V1.json}\n`, { authorization: 'Bearer s3cret' })).status).toBe(202)
    expect(command.stdout() + command.stderr()).not.toContain('s3cret')
    command.signal('SIGTERM')
    expect(await command.exit).toBe(0)
  })

  it('exits 1 when it cannot bind, and 2 without --port or with one past 65535', async () => {
    const first = await listen()
    const port = new URL(first.url).port
    const busy = startCommand(['webhook', 'listen', '--port', port, '--jwks', JWKS_PATH])
    expect(await busy.exit).toBe(1)
    expect(busy.stderr()).toContain('EADDRINUSE')
    first.command.signal('SIGINT')
    await first.command.exit
    const noPort = startCommand(['webhook', 'listen', '--jwks', JWKS_PATH])
    expect(await noPort.exit).toBe(2)
    const noSuchPort = startCommand(['webhook', 'listen', '--port', '99999', '--jwks', JWKS_PATH])
    expect(await noSuchPort.exit).toBe(2)
    expect(noSuchPort.stderr()).toContain('expected a whole number from 0 to 65535')
  })
})
