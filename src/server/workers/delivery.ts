// Owns live delivery (SPEC.md §6): one loop per org with a configured webhook, sending the events
// after the durable cursor in sequence order, one batch in flight, with the quick retries, probing
// and 413 splits that core/delivery-plan decides. Loops are woken by the event bus and webhook
// changes and backed by a clock-driven poll; one org's target is the unit a lease can wrap later.

import type { Clock } from '../../core/clock.js'
import type { AttemptVerdict, Random, RetryState } from '../../core/delivery-plan.js'
import {
  batchDueAtMs,
  FRESH_RETRY_STATE,
  halvedBatchLimit,
  judgeAttempt,
  MAX_BATCH_EVENTS,
  planAfterFailure,
  retryStateOf,
} from '../../core/delivery-plan.js'
import type {
  ConfiguredWebhook,
  DeliveryAttempt,
  EndpointSettings,
  Store,
  StoredEvent,
  WebhookStatus,
} from '../../store/store.js'
import type { ResolveHostname } from '../outbound/endpoint-policy.js'
import type { AttemptResult } from '../outbound/sender.js'
import { EndpointSender } from '../outbound/sender.js'
import { renderBatch } from '../services/delivery-lines.js'
import type { EventBus } from '../services/event-bus.js'
import type { SignerCache } from '../services/signers.js'
import type { WorkerTimer } from './timer.js'

/** How often every org is looked at even without a wake-up (SPEC.md §6.5's polling fallback). */
const DELIVERY_POLL_INTERVAL_MS = 5000

/** The worker timer plus one-shot wake-ups for scheduled retries and batch windows. */
export interface DeliveryTimer extends WorkerTimer {
  /** Calls `task` once after `delayMs` unless the returned function is called first. */
  after(delayMs: number, task: () => void): () => void
}

/** The part of the server's pino logger the worker writes to; no event bodies, no authorization. */
export interface DeliveryLog {
  info(details: Record<string, unknown>, message: string): void
  warn(details: Record<string, unknown>, message: string): void
  error(details: Record<string, unknown>, message: string): void
}

export interface DeliveryOptions {
  readonly store: Store
  readonly clock: Clock
  readonly timer: DeliveryTimer
  readonly bus: EventBus
  readonly signers: SignerCache
  readonly log: DeliveryLog
  readonly allowInsecureEndpoints: boolean
  /** Each attempt's budget (SPEC.md §6.2, 15 s); tests shorten it. */
  readonly attemptTimeoutMs?: number
  readonly pollIntervalMs?: number
  /** The jitter source, [0, 1); Math.random unless a test fixes it. */
  readonly random?: Random
  /** Replaces the system resolver (tests). */
  readonly resolve?: ResolveHostname
}

/** What a loop waits for before its next step; a bus announcement or webhook change may end it sooner. */
interface Wait {
  /** Clock time of the next step; null = none scheduled. */
  readonly untilMs: number | null
  /** Step again once the org's head reaches this sequence; null = announcements do not matter. */
  readonly headAtLeast: number | null
}

const PAUSED: Wait = { untilMs: null, headAtLeast: null }

type Step = Wait | 'again' | 'done'

/** Delivers one org's webhook; ends when the webhook is unconfigured or the worker stops. */
class OrgDelivery {
  /** True while a wake-up arrived that the loop has not stepped for yet. */
  private wakePending = true
  private waiting: { readonly wait: Wait; readonly resume: () => void } | null = null
  private idleWaiters: Array<() => void> = []
  private stopped = false
  private ended = false
  private inFlight: AbortController | null = null
  /** The configuration the in-memory state below belongs to; a change starts it afresh. */
  private revision: number | null = null
  private sender: EndpointSender | null = null
  /** The batch being retried or probed: the same events until they are delivered (SPEC.md §6.3). */
  private pending: readonly StoredEvent[] | null = null
  private retry: RetryState = FRESH_RETRY_STATE
  private batchLimit = MAX_BATCH_EVENTS
  /** After a 413, batches stay small until the events of the refused batch are delivered. */
  private splitThroughSequence = 0
  readonly finished: Promise<void>

  constructor(
    readonly orgId: string,
    private readonly options: DeliveryOptions,
  ) {
    this.finished = this.run()
  }

  /** True once the loop has stopped stepping; a later change needs a new loop. */
  get isEnded(): boolean {
    return this.ended
  }

  wake(): void {
    this.wakePending = true
    this.waiting?.resume()
  }

  /** A commit announced the org's new head: only a loop waiting for events cares. */
  announce(headSequence: number): void {
    if (this.waiting === null) this.wakePending = true
    else if (this.waiting.wait.headAtLeast !== null && headSequence >= this.waiting.wait.headAtLeast) this.wake()
  }

  /** Resolves once the loop waits with nothing due at the clock's time, or has ended. */
  idle(): Promise<void> {
    if (this.ended || (this.waiting !== null && !this.wakePending)) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  /** Abandons the attempt in flight, if any, without moving the cursor, and waits for the loop to end. */
  stop(): Promise<void> {
    this.stopped = true
    this.inFlight?.abort()
    this.waiting?.resume()
    return this.finished
  }

  private async run(): Promise<void> {
    try {
      while (!this.stopped) {
        this.wakePending = false
        const step = await this.stepLogged()
        // A change may have arrived while the step found the webhook gone: look once more.
        if (step === 'done' && !this.wakePending) break
        if (step !== 'again' && step !== 'done') await this.sleep(step)
      }
    } finally {
      this.ended = true
      await this.sender?.close()
      this.notifyIdle()
    }
  }

  private async stepLogged(): Promise<Step> {
    try {
      return await this.step()
    } catch (error) {
      this.options.log.error(
        { err: error, orgId: this.orgId },
        'delivery step failed; it is retried after the poll interval',
      )
      return { untilMs: this.options.clock.now() + this.pollIntervalMs(), headAtLeast: null }
    }
  }

  private pollIntervalMs(): number {
    return this.options.pollIntervalMs ?? DELIVERY_POLL_INTERVAL_MS
  }

  private sleep(wait: Wait): Promise<void> {
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

  /** One look at the webhook: wait for something, or make one attempt. */
  private async step(): Promise<Step> {
    const webhook = await this.options.store.getWebhook(this.orgId)
    if (webhook === null) return 'done'
    this.follow(webhook)
    if (!webhook.enabled) return PAUSED
    const nowMs = this.options.clock.now()
    const { nextAttemptAt, deliveredSequence } = webhook.delivery
    if (nextAttemptAt !== null && nextAttemptAt > nowMs) return { untilMs: nextAttemptAt, headAtLeast: null }
    const next = await this.nextBatch(deliveredSequence, nowMs)
    if ('wait' in next) return next.wait
    await this.attempt(webhook, next.events)
    return 'again'
  }

  /** A configuration change (or the first look) starts the in-memory state from the durable one. */
  private follow(webhook: ConfiguredWebhook): void {
    const { configRevision, status, consecutiveFailures } = webhook.delivery
    if (configRevision === this.revision) return
    this.revision = configRevision
    this.pending = null
    this.retry = retryStateOf(status, consecutiveFailures)
    this.batchLimit = MAX_BATCH_EVENTS
    this.splitThroughSequence = 0
    void this.sender?.close()
    this.sender = null
  }

  /** The batch to send now: the pending one, or the events after the cursor once full or due. */
  private async nextBatch(cursor: number, nowMs: number): Promise<{ events: readonly StoredEvent[] } | { wait: Wait }> {
    // Pruning may have moved the cursor past the pending batch; then it is formed again.
    if (this.pending !== null && this.pending[0]?.sequence === cursor + 1) return { events: this.pending }
    this.pending = null
    const events = await this.options.store.readEvents({
      orgId: this.orgId,
      afterSequence: cursor,
      throughSequence: Number.MAX_SAFE_INTEGER,
      limit: this.batchLimit,
    })
    const [oldest] = events
    if (oldest === undefined) return { wait: { untilMs: null, headAtLeast: cursor + 1 } }
    const storedBytes = events.reduce((bytes, event) => bytes + event.line.length, 0)
    const dueAtMs = batchDueAtMs({ eventCount: events.length, storedBytes, oldestRtMs: oldest.rt }, this.batchLimit)
    if (dueAtMs > nowMs) return { wait: { untilMs: dueAtMs, headAtLeast: cursor + this.batchLimit } }
    return { events }
  }

  private async attempt(webhook: ConfiguredWebhook, events: readonly StoredEvent[]): Promise<void> {
    const { clock, signers } = this.options
    const settings = settingsOf(webhook)
    const batch = await renderBatch(events, settings.logFormat, () => signers.signerFor(this.orgId), this.batchLimit)
    const first = batch.events[0]
    const last = batch.events.at(-1)
    // A stop that came while rendering finds no attempt in flight to abort, so none may start.
    if (first === undefined || last === undefined || this.stopped) return
    this.pending = batch.events
    const atMs = clock.now()
    this.inFlight = new AbortController()
    const result = await this.senderFor(settings).send(
      {
        orgId: this.orgId,
        delivery: { kind: 'live', firstSequence: first.sequence, lastSequence: last.sequence },
        body: batch.body,
      },
      this.inFlight.signal,
    )
    this.inFlight = null
    // Stopping: the batch is abandoned with the cursor where it was, and re-sent after a restart.
    if (result.failure === 'cancelled') return
    const attempt: DeliveryAttempt = { atMs, responseCode: result.statusCode, responseMessage: result.message }
    const verdict = judgeAttempt(outcomeOf(result), batch.events.length, clock.now())
    if (verdict.kind === 'delivered') await this.delivered(webhook, attempt, last.sequence)
    else if (verdict.kind === 'too_large') await this.split(webhook, attempt, batch.events.length, last.sequence)
    else await this.failed(webhook, verdict, attempt)
  }

  private async delivered(webhook: ConfiguredWebhook, attempt: DeliveryAttempt, lastSequence: number): Promise<void> {
    await this.options.store.recordDeliverySuccess(this.orgId, lastSequence, attempt)
    if (webhook.delivery.status === 'inactive') {
      this.options.log.info({ orgId: this.orgId, deliveredSequence: lastSequence }, 'webhook delivers again: active')
    }
    this.pending = null
    this.retry = FRESH_RETRY_STATE
    if (lastSequence >= this.splitThroughSequence) this.batchLimit = MAX_BATCH_EVENTS
  }

  /** 413: the same events go again at once in batches of half the size (SPEC.md §6.3). */
  private async split(
    webhook: ConfiguredWebhook,
    attempt: DeliveryAttempt,
    batchEvents: number,
    lastSequence: number,
  ): Promise<void> {
    this.batchLimit = halvedBatchLimit(batchEvents)
    this.splitThroughSequence = Math.max(this.splitThroughSequence, lastSequence)
    this.pending = null
    await this.recordFailure(webhook, attempt, webhook.delivery.status, null)
  }

  private async failed(
    webhook: ConfiguredWebhook,
    verdict: Extract<AttemptVerdict, { kind: 'failed' }>,
    attempt: DeliveryAttempt,
  ): Promise<void> {
    const { clock, random = Math.random } = this.options
    const plan = planAfterFailure(this.retry, verdict, random)
    this.retry = plan.state
    const status = plan.inactive ? 'inactive' : 'active'
    const recorded = await this.recordFailure(webhook, attempt, status, clock.now() + plan.delayMs)
    if (recorded && plan.inactive && webhook.delivery.status === 'active') {
      this.options.log.warn(
        { orgId: this.orgId, responseCode: attempt.responseCode, responseMessage: attempt.responseMessage },
        'webhook inactive: delivery keeps the cursor and probes the endpoint until it answers 2xx',
      )
    }
  }

  private recordFailure(
    webhook: ConfiguredWebhook,
    attempt: DeliveryAttempt,
    status: WebhookStatus,
    nextAttemptAtMs: number | null,
  ): Promise<boolean> {
    const { configRevision } = webhook.delivery
    return this.options.store.recordDeliveryFailure(this.orgId, { attempt, configRevision, status, nextAttemptAtMs })
  }

  /** One sender per configuration, so its kept-alive connection follows the target. */
  private senderFor(settings: EndpointSettings): EndpointSender {
    const { allowInsecureEndpoints, attemptTimeoutMs, resolve } = this.options
    this.sender ??= new EndpointSender(
      {
        url: settings.endpoint,
        authorization: settings.authorization,
        skipSslVerification: settings.skipSslVerification,
      },
      {
        allowInsecure: allowInsecureEndpoints,
        ...(attemptTimeoutMs === undefined ? {} : { timeoutMs: attemptTimeoutMs }),
        ...(resolve === undefined ? {} : { resolve }),
      },
    )
    return this.sender
  }
}

function settingsOf(webhook: ConfiguredWebhook): EndpointSettings {
  return webhook.target.mode === 'inline' ? webhook.target.settings : webhook.target.destination
}

function outcomeOf(result: AttemptResult) {
  return { statusCode: result.statusCode, refusedByPolicy: result.failure === 'policy', retryAfter: result.retryAfter }
}

/** Runs one delivery loop per org with a configured webhook, for the server's lifetime. */
export class DeliveryWorker {
  private readonly loops = new Map<string, OrgDelivery>()
  private readonly subscriptions: Array<() => void> = []
  private stopped = false

  constructor(private readonly options: DeliveryOptions) {}

  /** Subscribes to wake-ups, starts the poll and looks at every org once. */
  start(): void {
    const { bus, store, timer, pollIntervalMs = DELIVERY_POLL_INTERVAL_MS } = this.options
    this.subscriptions.push(
      bus.subscribe((orgId, headSequence) => this.loops.get(orgId)?.announce(headSequence)),
      store.onWebhookChange((orgId) => this.wake(orgId)),
      timer.every(pollIntervalMs, () => void this.pollLogged()),
    )
    void this.pollLogged()
  }

  /**
   * Wakes every org's loop and resolves once each waits with nothing due at the clock's current
   * time: tests move their clock, then settle, instead of sleeping.
   */
  async settle(): Promise<void> {
    await this.poll()
    await Promise.all([...this.loops.values()].map((loop) => loop.idle()))
  }

  /** Stops waking loops, abandons attempts in flight (cursors stay) and waits for every loop to end. */
  async stop(): Promise<void> {
    this.stopped = true
    for (const unsubscribe of this.subscriptions.splice(0)) unsubscribe()
    await Promise.all([...this.loops.values()].map((loop) => loop.stop()))
  }

  private async pollLogged(): Promise<void> {
    try {
      await this.poll()
    } catch (error) {
      this.options.log.error({ err: error }, 'delivery poll failed; the next one retries')
    }
  }

  /** Loops start here for newly configured webhooks; a loop whose org has none ends at its first step. */
  private async poll(): Promise<void> {
    for (const org of await this.options.store.listOrgs()) this.wake(org.id)
  }

  private wake(orgId: string): void {
    if (this.stopped) return
    const loop = this.loops.get(orgId)
    if (loop !== undefined && !loop.isEnded) {
      loop.wake()
      return
    }
    const started = new OrgDelivery(orgId, this.options)
    this.loops.set(orgId, started)
    void started.finished.then(() => {
      if (this.loops.get(orgId) === started) this.loops.delete(orgId)
    })
  }
}
