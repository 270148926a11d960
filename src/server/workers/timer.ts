// Owns the shape of the one timer workers may use (DESIGN.md §6): Biome denies timer globals
// here, so the server passes the system implementation in and tests drive workers directly.

export interface WorkerTimer {
  /** Calls `task` every `intervalMs` until the returned function is called. */
  every(intervalMs: number, task: () => void): () => void
  /** Resolves once pending I/O has had its turn, so long work lets requests through between transactions. */
  yieldToIo(): Promise<void>
}

/** The worker timer plus one-shot wake-ups for scheduled retries and batch windows. */
export interface DeliveryTimer extends WorkerTimer {
  /** Calls `task` once after `delayMs` unless the returned function is called first. */
  after(delayMs: number, task: () => void): () => void
}
