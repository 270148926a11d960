// Owns a worker's registry of per-org loops: at most one live loop per org, started or woken by the
// worker's subscriptions and a clock-driven poll over every org, settled by tests and stopped at shutdown.

import type { LoopWait, OrgLoop, OrgLoopOptions } from './org-loop.js'
import { POLL_INTERVAL_MS } from './org-loop.js'

/** Runs one loop per org for the server's lifetime; a loop that ends is replaced on the next wake-up. */
export abstract class OrgLoops<L extends OrgLoop<LoopWait, O>, O extends OrgLoopOptions> {
  /** Names the worker in log messages: `delivery`, `replay`. */
  protected abstract readonly name: string
  protected readonly loops = new Map<string, L>()
  private readonly subscriptions: Array<() => void> = []
  private stopped = false

  constructor(protected readonly options: O) {}

  /** Subscribes to wake-ups, starts the poll and looks at every org once. */
  start(): void {
    const { timer, pollIntervalMs = POLL_INTERVAL_MS } = this.options
    this.subscriptions.push(
      ...this.subscribe(),
      timer.every(pollIntervalMs, () => void this.pollLogged()),
    )
    void this.pollLogged()
  }

  /**
   * Wakes every org's loop and resolves once each waits with nothing due at the clock's current
   * time or has ended: tests move their clock, then settle, instead of sleeping.
   */
  async settle(): Promise<void> {
    await this.poll()
    await Promise.all([...this.loops.values()].map((loop) => loop.idle()))
  }

  /** Stops waking loops, abandons attempts in flight (cursors and jobs stay as they were) and waits for every loop to end. */
  async stop(): Promise<void> {
    this.stopped = true
    for (const unsubscribe of this.subscriptions.splice(0)) unsubscribe()
    await Promise.all([...this.loops.values()].map((loop) => loop.stop()))
  }

  /** Makes the org's loop; the registry starts it. */
  protected abstract create(orgId: string): L

  /** The worker's own wake-up sources, each returning its unsubscribe. */
  protected abstract subscribe(): Array<() => void>

  /** Wakes the org's loop, or starts one if none runs; a loop with nothing to do ends at its first step. */
  protected wake(orgId: string): void {
    if (this.stopped) return
    const loop = this.loops.get(orgId)
    if (loop !== undefined && !loop.isEnded) {
      loop.wake()
      return
    }
    const started = this.create(orgId)
    this.loops.set(orgId, started)
    void started.start().then(() => {
      if (this.loops.get(orgId) === started) this.loops.delete(orgId)
    })
  }

  private async pollLogged(): Promise<void> {
    try {
      await this.poll()
    } catch (error) {
      this.options.log.error({ err: error }, `${this.name} poll failed; the next one retries`)
    }
  }

  /** Loops start here for work that came without a wake-up (another process, a restart). */
  private async poll(): Promise<void> {
    for (const org of await this.options.store.listOrgs()) this.wake(org.id)
  }
}
