// `serve --tls-cert F --tls-key F` (SPEC.md §5.1, §9.6): both flags name PEM files, and the
// server then speaks HTTPS only. A self-signed certificate for 127.0.0.1 is made with openssl.

import { generateKeyPairSync } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { Agent, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { selfSignedCertificate } from '../helpers/certificate.js'
import type { TestServer } from '../helpers/server.js'
import { startTestServer } from '../helpers/server.js'
import { tempDir } from '../helpers/temp-files.js'

const FLAGS_ARE_FILES =
  'serve --tls-cert/--tls-key name PEM files (SPEC.md §9.6): the server must read them and give Fastify ' +
  '`https: { cert, key }` their contents, not the paths'

let certPem = ''
let server: TestServer | null = null
let startFailure: unknown = null
let agent: Agent

beforeAll(async () => {
  const { certPath, keyPath, cert } = selfSignedCertificate('/CN=localhost', 'IP:127.0.0.1')
  certPem = cert
  agent = new Agent({ connect: { ca: certPem } })
  try {
    server = await startTestServer({ tlsCert: certPath, tlsKey: keyPath })
  } catch (error) {
    startFailure = error
  }
})
afterAll(async () => {
  await server?.close()
  await agent?.close()
})

function runningServer(): TestServer {
  expect(startFailure, `${FLAGS_ARE_FILES}: ${String(startFailure)}`).toBeNull()
  if (server === null) throw new Error('the TLS server did not start')
  return server
}

describe('serve with --tls-cert and --tls-key', () => {
  it('answers over HTTPS with the configured certificate, public and protected routes alike', async () => {
    const { url, adminToken } = runningServer()
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    const health = await request(`${url}/healthz`, { dispatcher: agent })
    expect(health.statusCode).toBe(200)
    expect(await health.body.json()).toMatchObject({ status: 'ok' })
    const whoami = await request(`${url}/v1/whoami`, {
      dispatcher: agent,
      headers: { authorization: `Bearer ${adminToken}` },
    })
    expect(whoami.statusCode).toBe(200)
    expect(await whoami.body.json()).toMatchObject({ token: { role: 'admin' } })
  })

  it('does not answer plain HTTP on its port', async () => {
    const { url } = runningServer()
    const plain = url.replace(/^https:/, 'http:')
    await expect(fetch(`${plain}/healthz`, { signal: AbortSignal.timeout(5000) })).rejects.toThrow()
  })

  it('does not answer a client that does not trust its certificate', async () => {
    const { url } = runningServer()
    await expect(fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5000) })).rejects.toThrow()
  })

  it('refuses to start with a key that is not the certificate’s, of another algorithm too', async () => {
    const { certPath } = selfSignedCertificate('/CN=localhost', 'IP:127.0.0.1')
    const rsaKey = tempDir('ka-rsa-').path('rsa.pem')
    writeFileSync(
      rsaKey,
      generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
    )
    const other = selfSignedCertificate('/CN=other', 'IP:127.0.0.1')
    for (const keyPath of [rsaKey, other.keyPath]) {
      await expect(startTestServer({ tlsCert: certPath, tlsKey: keyPath })).rejects.toThrow(
        `--tls-key ${keyPath} is not the private key of the certificate in --tls-cert ${certPath}`,
      )
    }
  })
})
