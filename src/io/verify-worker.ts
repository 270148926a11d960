// Worker thread of the verify pool: builds the verification keys once from the JWKS text it is
// started with, then verifies each chunk it is sent and transfers the verdicts back.

import { parentPort, workerData } from 'node:worker_threads'
import type { LineFormat } from '../core/extract.js'
import { readJwks } from '../core/jwks.js'
import { LineVerifier } from '../core/verify.js'
import type { ChunkVerdicts, LineChunk } from '../core/verify-chunk.js'
import { verifyChunk } from '../core/verify-chunk.js'

export interface VerifyWorkerData {
  readonly jwksText: string
  readonly format: LineFormat | null
}

export interface VerifyRequest {
  readonly id: number
  readonly chunk: LineChunk
}

export interface VerifyResponse {
  readonly id: number
  readonly verdicts: ChunkVerdicts
  /** The chunk's buffer, handed back for reuse. */
  readonly data: Uint8Array<ArrayBuffer>
}

const { jwksText, format } = workerData as VerifyWorkerData
const verifier = new LineVerifier(readJwks(jwksText).keys, format ?? undefined)
const port = parentPort
if (!port) throw new Error('verify-worker must run as a worker thread')

port.on('message', ({ id, chunk }: VerifyRequest) => {
  const verdicts = verifyChunk(verifier, chunk)
  const response: VerifyResponse = { id, verdicts, data: chunk.data }
  port.postMessage(response, [
    chunk.data.buffer,
    verdicts.status.buffer,
    verdicts.format.buffer,
    verdicts.reason.buffer,
    verdicts.keyIndex.buffer,
    verdicts.signatureKeys.buffer,
    verdicts.hasSignature.buffer,
  ])
})
