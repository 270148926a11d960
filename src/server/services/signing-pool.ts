// Owns the worker threads that sign lines in batches (ingested events, CEF deliveries: Ed25519 is
// their largest cost), one per core: small batches go to the first worker, large ones are split
// across all, while the main thread goes on with other requests.

import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { compiledWorkerUrl } from '../../util/worker-script.js'
import type { SignRequest, SignResponse } from './signing-worker.js'

interface PoolWorker {
  readonly worker: Worker
  readonly pending: Map<number, { resolve(signatures: readonly string[]): void; reject(error: Error): void }>
}

/** Batches at least this long are split across the workers. */
const SPLIT_AT = 200

export interface KeyMaterial {
  readonly kid: string
  readonly pkcs8: Buffer
}

export class SigningPool {
  private readonly workers: PoolWorker[]
  private nextId = 0
  private closed = false

  constructor(size = availableParallelism()) {
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

  /**
   * base64url Ed25519 signatures of `messages` (UTF-8) with the given key. A large batch is split
   * across the workers, so a caller that waits for it (one delivery batch in flight) gets it sooner.
   */
  async sign(key: KeyMaterial, messages: readonly string[]): Promise<readonly string[]> {
    if (this.closed) throw new Error('the signing workers have stopped')
    // Small batches (ingest requests) share the first worker, leaving the other cores to the main
    // thread; measured, spreading them slowed ingest down.
    const first = this.workers[0] as PoolWorker
    if (messages.length < SPLIT_AT || this.workers.length === 1) return this.signOn(first, key, messages)
    const share = Math.ceil(messages.length / this.workers.length)
    const parts = this.workers
      .map((worker, i) => ({ worker, part: messages.slice(i * share, (i + 1) * share) }))
      .filter(({ part }) => part.length > 0)
    return (await Promise.all(parts.map(({ worker, part }) => this.signOn(worker, key, part)))).flat()
  }

  private signOn(target: PoolWorker, key: KeyMaterial, messages: readonly string[]): Promise<readonly string[]> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      target.pending.set(id, { resolve, reject })
      const request: SignRequest = { id, kid: key.kid, pkcs8: key.pkcs8, messages }
      target.worker.postMessage(request)
    })
  }

  async close(): Promise<void> {
    this.closed = true
    await Promise.all(this.workers.map((entry) => entry.worker.terminate()))
  }
}
