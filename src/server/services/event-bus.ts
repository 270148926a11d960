// Owns the in-process wake-up for new events (DESIGN.md §1): every code path that commits events
// announces the org's new head here, as does the store for other replicas' commits, and streams and
// workers waiting on that org wake up. A lost wake-up only delays them: readers always catch up
// from the store, never from the message.

import type { HeadListener } from '../../store/store.js'

export class EventBus {
  private readonly listeners = new Set<HeadListener>()

  /** Subscribes; returns the unsubscribe function. */
  subscribe(listener: HeadListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  announce(orgId: string, headSequence: number): void {
    for (const listener of this.listeners) listener(orgId, headSequence)
  }
}
