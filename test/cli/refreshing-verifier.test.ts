// Tests the live commands' verifier (SPEC.md §9.8): a line that fails with every key fetches the
// server's JWKS again, at once the first time (a key rotated right after start), then at most
// once a minute; the JWKS comes from a loopback server whose keys the test changes.

import type { KeyObject } from 'node:crypto'
import type { Server } from 'node:http'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { RefreshingVerifier } from '../../src/cli/refreshing-verifier.js'
import { signJsonLine } from '../../src/core/canonical-json.js'
import { jwkOf, writeJwks } from '../../src/core/jwks.js'
import { createSigner, generatePrivateKey, rawPublicKeyOf } from '../../src/core/signing.js'
import { gatewayAccessEvent } from '../helpers/events.js'

let server: Server | null = null
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())))

/** Serves the JWKS of `keys()` as it is at each request; counts the requests. */
async function jwksServer(keys: () => KeyObject[]): Promise<{ url: string; fetches: () => number }> {
  let fetches = 0
  server = createServer((_request, response) => {
    fetches++
    response.setHeader('content-type', 'application/json')
    response.end(writeJwks(keys().map((key) => jwkOf(rawPublicKeyOf(key), 'active'))))
  })
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, fetches: () => fetches }
}

const lineSignedBy = (key: KeyObject) => Buffer.from(signJsonLine(gatewayAccessEvent({}), createSigner(key)))

describe('RefreshingVerifier', () => {
  it('fetches the JWKS again at once after the first failure, then at most once a minute', async () => {
    const first = generatePrivateKey()
    const rotated = generatePrivateKey()
    let served = [first]
    const jwks = await jwksServer(() => served)
    const clock = { nowMs: 1_000_000 }
    const warnings: string[] = []
    const target = { server: jwks.url, token: undefined, warn: (message: string) => void warnings.push(message) }
    const verifier = await RefreshingVerifier.load(undefined, target, () => clock.nowMs)
    expect(jwks.fetches()).toBe(1)
    expect((await verifier.verify(lineSignedBy(first))).verdict.status).toBe('valid')

    // The server rotates a second after start: the new key's first line refetches and verifies.
    served = [rotated, first]
    clock.nowMs += 1000
    expect((await verifier.verify(lineSignedBy(rotated))).verdict.status).toBe('valid')
    expect(jwks.fetches()).toBe(2)

    // A line no key signed fails; within the minute it does not fetch again, after it it does.
    const stranger = lineSignedBy(generatePrivateKey())
    expect((await verifier.verify(stranger)).verdict.status).toBe('invalid')
    clock.nowMs += 59_000
    expect((await verifier.verify(stranger)).verdict.status).toBe('invalid')
    expect(jwks.fetches()).toBe(2)
    clock.nowMs += 1000
    expect((await verifier.verify(stranger)).verdict.status).toBe('invalid')
    expect(jwks.fetches()).toBe(3)
  })
})
