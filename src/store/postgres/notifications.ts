// Owns the store's wake-ups across replicas (SPEC.md §6.5, DESIGN.md §7): writers NOTIFY inside their
// transaction, so a notification goes out on commit; one LISTEN connection per store hands other
// replicas' notifications to the listeners. A broken LISTEN connection is replaced on the store's
// next statement (the workers' poll makes one every few seconds), never by a timer.

import type pg from 'pg'
import type { HeadListener, ReplayJobListener, WebhookChangeListener } from '../store.js'
import type { Database, Queryable } from './connection.js'

/** What a notification says happened to an org. */
type Notice =
  | { readonly kind: 'events'; readonly orgId: string; readonly head: number }
  | { readonly kind: 'webhook'; readonly orgId: string }
  | { readonly kind: 'replay'; readonly orgId: string }
  | { readonly kind: 'keys'; readonly orgId: string }

interface Payload {
  /** The sending store, so that a store ignores its own notifications. */
  readonly from: string
  readonly notice: Notice
}

export class Notifications {
  readonly events = new Set<HeadListener>()
  readonly webhookChanges = new Set<WebhookChangeListener>()
  readonly replaySubmissions = new Set<ReplayJobListener>()
  readonly keyRotations = new Set<(orgId: string) => void>()
  private client: pg.Client | null = null
  private connecting: Promise<void> | null = null
  private closed = false

  /**
   * `channel` is per schema, so stores in other schemas of the database never wake this one;
   * `storeId` tells this store's own notifications apart.
   */
  constructor(
    private readonly database: Database,
    private readonly channel: string,
    private readonly storeId: string,
  ) {}

  /** Queues a notification in the caller's transaction; it is sent if and when that commits. */
  async send(tx: Queryable, notice: Notice): Promise<void> {
    await tx.rows('SELECT pg_notify($1, $2)', this.notice(notice))
  }

  /** The channel and payload of a notice, for a statement that notifies by itself. */
  notice(notice: Notice): [channel: string, payload: string] {
    const payload: Payload = { from: this.storeId, notice }
    return [this.channel, JSON.stringify(payload)]
  }

  /** Starts listening unless a connection listens or is being made; failures wait for the next call. */
  ensureListening(): void {
    if (this.closed || this.client !== null || this.connecting !== null || !this.hasListeners()) return
    this.connecting = this.listen()
      .catch(() => {})
      .finally(() => {
        this.connecting = null
      })
  }

  async close(): Promise<void> {
    this.closed = true
    await this.connecting
    const client = this.client
    this.client = null
    await client?.end().catch(() => {})
  }

  private hasListeners(): boolean {
    return this.events.size + this.webhookChanges.size + this.replaySubmissions.size + this.keyRotations.size > 0
  }

  private async listen(): Promise<void> {
    const client = await this.database.dedicatedClient()
    const dropped = () => {
      if (this.client === client) this.client = null
      void client.end().catch(() => {})
    }
    client.on('error', dropped)
    client.on('end', dropped)
    client.on('notification', (message) => {
      if (message.channel === this.channel && message.payload !== undefined) this.deliver(message.payload)
    })
    await client.query(`LISTEN "${this.channel}"`)
    if (this.closed) {
      await client.end()
      return
    }
    this.client = client
  }

  private deliver(text: string): void {
    let payload: Payload
    try {
      payload = JSON.parse(text) as Payload
    } catch {
      return
    }
    if (payload.from === this.storeId) return
    const { notice } = payload
    if (notice.kind === 'events') for (const listener of this.events) listener(notice.orgId, notice.head)
    else if (notice.kind === 'webhook') for (const listener of this.webhookChanges) listener(notice.orgId)
    else if (notice.kind === 'replay') for (const listener of this.replaySubmissions) listener(notice.orgId)
    else for (const listener of this.keyRotations) listener(notice.orgId)
  }
}
