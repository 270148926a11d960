// Worker thread of the signing pool: signs batches of canonical lines with an org key it is sent
// (cached by kid), so ingest's Ed25519 work runs beside the main thread instead of on it.

import type { KeyObject } from 'node:crypto'
import { createPrivateKey, sign } from 'node:crypto'
import { parentPort } from 'node:worker_threads'

export interface SignRequest {
  readonly id: number
  readonly kid: string
  /** PKCS#8 DER of the org's active private key. */
  readonly pkcs8: Uint8Array
  readonly messages: readonly string[]
}

export interface SignResponse {
  readonly id: number
  /** base64url signatures, one per message, in order. */
  readonly signatures: readonly string[]
}

const port = parentPort
if (!port) throw new Error('signing-worker must run as a worker thread')
const keys = new Map<string, KeyObject>()

port.on('message', ({ id, kid, pkcs8, messages }: SignRequest) => {
  let key = keys.get(kid)
  if (!key) {
    key = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' })
    keys.set(kid, key)
  }
  const signingKey = key
  const signatures = messages.map((message) =>
    sign(null, Buffer.from(message, 'utf8'), signingKey).toString('base64url'),
  )
  const response: SignResponse = { id, signatures }
  port.postMessage(response)
})
