// Tests the CLI's HTTP client against loopback stand-ins: one deadline for the whole exchange (a
// server that trickles its body cannot hold a command), redirects refused as errors, no retry of
// a certificate that does not verify, and --debug lines and messages without URL credentials.

import type { Server, ServerResponse } from 'node:http'
import { createServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { ApiClient } from '../../src/api/client.js'
import { ApiError, NetworkError } from '../../src/api/errors.js'
import { selfSignedCertificate } from '../helpers/certificate.js'

let server: Server | null = null
afterEach(async () => {
  server?.closeAllConnections()
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  server = null
})

async function serve(answer: (response: ServerResponse) => void): Promise<number> {
  server = createServer((_request, response) => answer(response))
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

describe('ApiClient', () => {
  it('gives up on a server that trickles its answer once the whole exchange passes the timeout', async () => {
    const port = await serve((response) => {
      response.writeHead(200, { 'content-type': 'application/json' })
      const trickle = setInterval(() => response.write(' '), 20)
      response.on('close', () => clearInterval(trickle))
    })
    const client = new ApiClient({ baseUrl: `http://127.0.0.1:${port}`, token: null, timeoutMs: 300 })
    const started = performance.now()
    const failure = await client.send('POST', '/v1/keys/rotate').catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(NetworkError)
    expect((failure as Error).message).toContain('no complete answer within 0.3 s')
    expect(performance.now() - started).toBeLessThan(5000)
  })

  it('refuses a redirect as an error naming where it points, without following it', async () => {
    let requests = 0
    const port = await serve((response) => {
      requests++
      response.writeHead(302, { location: 'https://user:pw@elsewhere.example/v1/whoami' }).end()
    })
    const client = new ApiClient({ baseUrl: `http://127.0.0.1:${port}`, token: 'kat_x' })
    const failure = await client.send('GET', '/v1/whoami').catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(ApiError)
    expect(failure).toMatchObject({ status: 302 })
    expect((failure as Error).message).toBe(
      'the server answered with a redirect to https://***@elsewhere.example/v1/whoami; use that URL as --server',
    )
    expect(requests).toBe(1)
  })

  it('does not retry a GET whose server certificate does not verify', async () => {
    const { cert, key } = selfSignedCertificate('/CN=localhost', 'IP:127.0.0.1')
    const tls = createHttpsServer({ cert, key }, (_request, response) => response.end('{}'))
    let connections = 0
    tls.on('connection', () => connections++)
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve))
    try {
      const port = (tls.address() as AddressInfo).port
      const sleeps: number[] = []
      const client = new ApiClient({
        baseUrl: `https://127.0.0.1:${port}`,
        token: null,
        sleep: async (ms) => void sleeps.push(ms),
      })
      const failure = await client.send('GET', '/v1/keys').catch((error: unknown) => error)
      expect(failure).toBeInstanceOf(NetworkError)
      expect((failure as Error).message).toContain('self-signed certificate')
      expect({ connections, sleeps }).toEqual({ connections: 1, sleeps: [] })
    } finally {
      tls.closeAllConnections()
      await new Promise((resolve) => tls.close(resolve))
    }
  })

  it('keeps the credentials of the server URL out of --debug lines and messages', async () => {
    const port = await serve((response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'))
    const lines: string[] = []
    const client = new ApiClient({
      baseUrl: `http://user:pw-secret@127.0.0.1:${port}`,
      token: null,
      debug: (line) => lines.push(line),
    })
    await client.send('GET', '/v1/keys', { query: { token: 'query-secret' } })
    const unreachable = new ApiClient({
      baseUrl: 'http://user:pw-secret@127.0.0.1:1',
      token: null,
      sleep: async () => {},
    })
    const failure = await unreachable.send('GET', '/v1/keys').catch((error: unknown) => error)
    const shown = [...lines, (failure as Error).message].join('\n')
    expect(shown).toContain('http://***@127.0.0.1')
    expect(shown).not.toContain('pw-secret')
    expect(shown).not.toContain('query-secret')
  })
})
