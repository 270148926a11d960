// Owns one org's lease on one kind of work (SPEC.md §6.5): a worker holds it while it works, renews
// it every third of its term (10 s of 30 s) as it steps and while an attempt is in flight, and
// releases it when it ends, so among replicas exactly one delivers, replays or prunes an org at a
// time; a crashed holder's lease lapses and another replica takes over from the durable cursor.

import type { Clock } from '../../core/clock.js'
import type { LeasedWork, Store } from '../../store/store.js'

/** Who this server is among replicas, and how long its leases last unless renewed. */
export interface LeaseSettings {
  /** Unique per running server on PostgreSQL; constant on SQLite, where one server runs at a time. */
  readonly holder: string
  readonly leaseMs: number
}

/** How often a lease, and whatever a server keeps alive beside it, is renewed: each third of its term. */
export function renewalIntervalMs(leaseMs: number): number {
  return Math.max(1, Math.floor(leaseMs / 3))
}

export class WorkLease {
  /** The clock time from which the lease is renewed before work goes on; null = not held. */
  private renewAtMs: number | null = null

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly orgId: string,
    private readonly work: LeasedWork,
    private readonly settings: LeaseSettings,
  ) {}

  /** True if this server holds the lease now, claiming or renewing it when due. */
  async hold(): Promise<boolean> {
    const nowMs = this.clock.now()
    if (this.renewAtMs !== null && nowMs < this.renewAtMs) return true
    this.renewAtMs = null
    const { holder, leaseMs } = this.settings
    const held = await this.store.claimLease({ orgId: this.orgId, work: this.work, holder, nowMs, leaseMs })
    if (held) this.renewAtMs = nowMs + renewalIntervalMs(leaseMs)
    return held
  }

  /** Gives the lease up if held, so another replica may take the work at once. */
  async release(): Promise<void> {
    if (this.renewAtMs === null) return
    this.renewAtMs = null
    await this.store.releaseLease(this.orgId, this.work, this.settings.holder)
  }
}
