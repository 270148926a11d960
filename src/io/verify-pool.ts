// Owns the worker_threads pool that verifies line chunks on every core (SPEC.md §9.7). Callers
// bound the chunks in flight; each chunk goes to the least busy worker, and results come back
// as promises, so the caller keeps input order by awaiting them in order. Chunk buffers travel
// to a worker and back and are reused, so memory does not depend on when a thread collects.

import { Worker } from 'node:worker_threads'
import type { LineFormat } from '../core/extract.js'
import type { ChunkVerdicts, LineChunk } from '../core/verify-chunk.js'
import { compiledWorkerUrl } from '../util/worker-script.js'
import type { VerifyRequest, VerifyResponse, VerifyWorkerData } from './verify-worker.js'

interface PoolWorker {
  readonly worker: Worker
  readonly pending: Map<number, { resolve(v: ChunkVerdicts): void; reject(e: Error): void }>
}

/** Chunks are flushed at about 1 MiB, so most fit a buffer of this size. */
const CHUNK_CAPACITY = 2 * 1024 * 1024
/**
 * A worker's live data is one chunk's extractions (a few MiB); a small young generation makes V8
 * collect often instead of growing the heap, which keeps peak RSS flat (SPEC.md §9.7 memory).
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 96 }

export class VerifyPool {
  private readonly workers: PoolWorker[]
  private readonly spareBuffers: ArrayBuffer[] = []
  private nextId = 0

  constructor(jobs: number, jwksText: string, format: LineFormat | null) {
    const workerData: VerifyWorkerData = { jwksText, format }
    this.workers = Array.from({ length: jobs }, () => {
      const entry: PoolWorker = {
        worker: new Worker(compiledWorkerUrl(import.meta.url, 'verify-worker.js'), {
          workerData,
          resourceLimits: WORKER_LIMITS,
        }),
        pending: new Map(),
      }
      entry.worker.on('message', ({ id, verdicts, data }: VerifyResponse) => {
        if (this.spareBuffers.length < 2 * jobs + 1) this.spareBuffers.push(data.buffer)
        entry.pending.get(id)?.resolve(verdicts)
        entry.pending.delete(id)
      })
      const failAll = (error: Error) => {
        for (const waiter of entry.pending.values()) waiter.reject(error)
        entry.pending.clear()
      }
      entry.worker.on('error', failAll)
      entry.worker.on('exit', (code) => failAll(new Error(`a verify worker stopped (exit code ${code})`)))
      return entry
    })
  }

  /** A buffer of `bytes` bytes for the next chunk, reusing one a worker handed back. */
  chunkBuffer(bytes: number): Uint8Array<ArrayBuffer> {
    const spare = this.spareBuffers.pop()
    const buffer = spare && spare.byteLength >= bytes ? spare : new ArrayBuffer(Math.max(bytes, CHUNK_CAPACITY))
    return new Uint8Array(buffer, 0, bytes)
  }

  /** Verifies a chunk on the least busy worker; the chunk's buffers are transferred. */
  verify(chunk: LineChunk): Promise<ChunkVerdicts> {
    const target = this.workers.reduce((best, entry) => (entry.pending.size < best.pending.size ? entry : best))
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      target.pending.set(id, { resolve, reject })
      const request: VerifyRequest = { id, chunk }
      target.worker.postMessage(request, [chunk.data.buffer, chunk.ends.buffer, chunk.tooLong.buffer])
    })
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((entry) => entry.worker.terminate()))
  }
}
