// Owns the machinery of one org's sending loop (live delivery, replay): step until done, sleep until
// a clock time or a wake-up, report idleness to tests, and stop by abandoning the attempt in flight.
// Subclasses decide what one step does; the registry in org-loops.ts starts and wakes the loops.

import type { Clock } from '../../core/clock.js'
import type { Random } from '../../core/delivery-plan.js'
import type { EndpointSettings, Store } from '../../store/store.js'
import type { ResolveHostname } from '../outbound/endpoint-policy.js'
import type { AttemptResult, OutboundBatch } from '../outbound/sender.js'
import { WebhookSender } from '../outbound/webhook-sender.js'
import type { SignerCache } from '../services/signers.js'
import type { DeliveryTimer } from './timer.js'
import type { LeaseSettings } from './work-lease.js'
import { renewalIntervalMs, WorkLease } from './work-lease.js'

/**
 * How often every org is looked at even without a wake-up (SPEC.md §6.5's polling fallback; another
 * process may have submitted a replay job). It also bounds every sleep.
 */
export const POLL_INTERVAL_MS = 5000

/** The part of the server's pino logger the workers write to; no event bodies, no authorization. */
export interface LoopLog {
  info(details: Record<string, unknown>, message: string): void
  warn(details: Record<string, unknown>, message: string): void
  error(details: Record<string, unknown>, message: string): void
}

/** What the delivery and replay workers are given. */
export interface OrgLoopOptions {
  readonly store: Store
  readonly clock: Clock
  readonly timer: DeliveryTimer
  readonly signers: SignerCache
  readonly log: LoopLog
  readonly lease: LeaseSettings
  readonly allowInsecureEndpoints: boolean
  /** Each attempt's budget (SPEC.md §6.2, 15 s); tests shorten it. */
  readonly attemptTimeoutMs?: number
  readonly pollIntervalMs?: number
  /** The jitter source, [0, 1); Math.random unless a test fixes it. */
  readonly random?: Random
  /** Replaces the system resolver (tests). */
  readonly resolve?: ResolveHostname
}

/** What every loop's wait has: the clock time of the next step; null = none scheduled. */
export interface LoopWait {
  readonly untilMs: number | null
}

/** Sleep for the wait, step again at once, or end the loop. */
export type LoopStep<W extends LoopWait> = W | 'again' | 'done'

/**
 * Steps one org's work, under the org's lease for it, until a step says it is done (and no wake-up
 * came meanwhile), another replica holds the lease, or the loop is stopped.
 */
export abstract class OrgLoop<W extends LoopWait, O extends OrgLoopOptions> {
  /** Names the loop in log messages and its lease: `delivery`, `replay`. */
  protected abstract readonly name: 'delivery' | 'replay'
  /** One per loop, so live delivery and replay never share a connection. */
  protected readonly sender: WebhookSender
  /** True while a wake-up arrived that the loop has not stepped for yet. */
  private wakePending = true
  private waiting: { readonly wait: W; readonly resume: () => void } | null = null
  private idleWaiters: Array<() => void> = []
  private stopped = false
  private ended = false
  private inFlight: AbortController | null = null
  private finished: Promise<void> = Promise.resolve()
  private lease: WorkLease | null = null

  constructor(
    readonly orgId: string,
    protected readonly options: O,
  ) {
    this.sender = new WebhookSender(options)
  }

  /** True once the loop has stopped stepping; later work needs a new loop. */
  get isEnded(): boolean {
    return this.ended
  }

  /** Runs the loop; called once, after construction, and resolves when the loop has ended. */
  start(): Promise<void> {
    const { store, clock, lease } = this.options
    this.lease = new WorkLease(store, clock, this.orgId, this.name, lease)
    this.finished = this.run()
    return this.finished
  }

  wake(): void {
    this.wakePending = true
    this.waiting?.resume()
  }

  /** Resolves once the loop waits with nothing due at the clock's time, or has ended. */
  idle(): Promise<void> {
    if (this.ended || (this.waiting !== null && !this.wakePending)) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  /** Abandons the attempt in flight, if any, and waits for the loop to end. */
  stop(): Promise<void> {
    this.stopped = true
    this.inFlight?.abort()
    this.waiting?.resume()
    return this.finished
  }

  /** One look at the org's work: what to wait for, or whether to step again or end. */
  protected abstract step(): Promise<LoopStep<W>>

  /** The wait after a failed step: until `untilMs` only. */
  protected abstract waitUntil(untilMs: number): W

  /** True once stop() was called: a step about to start an attempt must not. */
  protected get isStopping(): boolean {
    return this.stopped
  }

  /** A loop still stepping looks again; a waiting one wakes if `wanted` accepts what it waits for. */
  protected wakeIf(wanted: (wait: W) => boolean): void {
    if (this.waiting === null) this.wakePending = true
    else if (wanted(this.waiting.wait)) this.wake()
  }

  /**
   * Sends one batch that stop(), or the loss of the lease meanwhile, can abandon; the result then
   * fails as `cancelled`.
   */
  protected async send(settings: EndpointSettings, batch: OutboundBatch): Promise<AttemptResult> {
    const attempt = new AbortController()
    this.inFlight = attempt
    const stopHeartbeat = this.heartbeat(attempt)
    try {
      return await this.sender.for(settings).send(batch, attempt.signal)
    } finally {
      stopHeartbeat()
      this.inFlight = null
    }
  }

  /**
   * Renews the lease on its schedule while an attempt is in flight, since an attempt (up to 15 s)
   * may outlast a short lease; if another replica has taken the lease over meanwhile, the attempt
   * is abandoned rather than finished beside that replica's.
   */
  private heartbeat(attempt: AbortController): () => void {
    const { timer, lease, log } = this.options
    return timer.every(renewalIntervalMs(lease.leaseMs), () => {
      this.lease?.hold().then(
        (held) => {
          if (!held) attempt.abort()
        },
        (error: unknown) =>
          log.warn({ err: error, orgId: this.orgId }, `${this.name} lease not renewed; the attempt goes on`),
      )
    })
  }

  private async run(): Promise<void> {
    try {
      while (!this.stopped) {
        this.wakePending = false
        const step = await this.stepLogged()
        // Another replica does this work; the poll looks again, so a lapsed lease is taken over.
        if (step === 'not_leased') break
        // Work may have arrived while the step found none: look once more.
        if (step === 'done' && !this.wakePending) break
        if (step !== 'again' && step !== 'done') await this.sleep(step)
      }
    } finally {
      this.ended = true
      await this.releaseLease()
      await this.sender.close()
      this.notifyIdle()
    }
  }

  private async stepLogged(): Promise<LoopStep<W> | 'not_leased'> {
    try {
      if (!(await this.lease?.hold())) return 'not_leased'
      return await this.step()
    } catch (error) {
      this.options.log.error(
        { err: error, orgId: this.orgId },
        `${this.name} step failed; it is retried after the poll interval`,
      )
      return this.waitUntil(this.options.clock.now() + this.pollIntervalMs())
    }
  }

  /** A release that fails only delays a takeover until the lease lapses. */
  private async releaseLease(): Promise<void> {
    try {
      await this.lease?.release()
    } catch (error) {
      this.options.log.warn({ err: error, orgId: this.orgId }, `${this.name} lease not released; it lapses instead`)
    }
  }

  private pollIntervalMs(): number {
    return this.options.pollIntervalMs ?? POLL_INTERVAL_MS
  }

  private sleep(wait: W): Promise<void> {
    const { clock, timer } = this.options
    const nowMs = clock.now()
    if (this.wakePending || this.stopped || (wait.untilMs !== null && wait.untilMs <= nowMs)) return Promise.resolve()
    return new Promise((resolve) => {
      // The poll interval bounds every timer, so a clock that jumps never leaves a loop asleep for long.
      const cancelTimer =
        wait.untilMs === null
          ? () => {}
          : timer.after(Math.min(wait.untilMs - nowMs, this.pollIntervalMs()), () => this.wake())
      this.waiting = {
        wait,
        resume: () => {
          cancelTimer()
          this.waiting = null
          resolve()
        },
      }
      this.notifyIdle()
    })
  }

  private notifyIdle(): void {
    for (const resolve of this.idleWaiters.splice(0)) resolve()
  }
}
