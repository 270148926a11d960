// Owns the worker threads that sign ingested lines (Ed25519 is ingest's largest cost), one per
// spare core; each batch goes to the least busy worker while the main thread goes on parsing,
// validating and committing other requests.

import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { compiledWorkerUrl } from '../../util/worker-script.js'
import type { SignRequest, SignResponse } from './signing-worker.js'

interface PoolWorker {
  readonly worker: Worker
  readonly pending: Map<number, { resolve(signatures: readonly string[]): void; reject(error: Error): void }>
}

export interface KeyMaterial {
  readonly kid: string
  readonly pkcs8: Buffer
}

export class SigningPool {
  private readonly workers: PoolWorker[]
  private nextId = 0

  constructor(size = Math.max(1, availableParallelism() - 1)) {
    this.workers = Array.from({ length: size }, () => {
      const worker = new Worker(compiledWorkerUrl(import.meta.url, 'signing-worker.js'))
      const entry: PoolWorker = { worker, pending: new Map() }
      worker.on('message', ({ id, signatures }: SignResponse) => {
        entry.pending.get(id)?.resolve(signatures)
        entry.pending.delete(id)
      })
      const failAll = (error: Error) => {
        for (const waiter of entry.pending.values()) waiter.reject(error)
        entry.pending.clear()
      }
      worker.on('error', failAll)
      worker.on('exit', (code) => failAll(new Error(`a signing worker stopped (exit code ${code})`)))
      return entry
    })
  }

  /** base64url Ed25519 signatures of `messages` (UTF-8) with the given key. */
  sign(key: KeyMaterial, messages: readonly string[]): Promise<readonly string[]> {
    const target = this.workers.reduce((best, entry) => (entry.pending.size < best.pending.size ? entry : best))
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      target.pending.set(id, { resolve, reject })
      const request: SignRequest = { id, kid: key.kid, pkcs8: key.pkcs8, messages }
      target.worker.postMessage(request)
    })
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((entry) => entry.worker.terminate()))
  }
}
