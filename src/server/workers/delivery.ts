// Owns live delivery (SPEC.md §6): one loop per org with a configured webhook, sending the events
// after the durable cursor in sequence order, one batch in flight, with the quick retries, probing
// and 413 splits that core/delivery-plan decides. Loops are woken by the event bus and webhook
// changes and backed by a clock-driven poll; each loop runs under its org's delivery lease (org-loop.ts).

import type { AttemptVerdict, RetryState } from '../../core/delivery-plan.js'
import {
  batchDueAtMs,
  FRESH_RETRY_STATE,
  halvedBatchLimit,
  judgeAttempt,
  MAX_BATCH_EVENTS,
  planAfterFailure,
  retryStateOf,
} from '../../core/delivery-plan.js'
import type { ConfiguredWebhook, DeliveryAttempt, StoredEvent, WebhookStatus } from '../../store/store.js'
import { outcomeOf, settingsOf } from '../outbound/webhook-sender.js'
import { renderBatch } from '../services/delivery-lines.js'
import type { EventBus } from '../services/event-bus.js'
import type { LoopStep, OrgLoopOptions } from './org-loop.js'
import { OrgLoop } from './org-loop.js'
import { OrgLoops } from './org-loops.js'

export type { DeliveryTimer } from './timer.js'

export interface DeliveryOptions extends OrgLoopOptions {
  readonly bus: EventBus
}

/** What a loop waits for before its next step; a bus announcement or webhook change may end it sooner. */
interface Wait {
  /** Clock time of the next step; null = none scheduled. */
  readonly untilMs: number | null
  /** Step again once the org's head reaches this sequence; null = announcements do not matter. */
  readonly headAtLeast: number | null
}

const PAUSED: Wait = { untilMs: null, headAtLeast: null }

/** Delivers one org's webhook; ends when the webhook is unconfigured or the worker stops. */
class OrgDelivery extends OrgLoop<Wait, DeliveryOptions> {
  protected readonly name = 'delivery'
  /** The configuration the in-memory state below belongs to; a change starts it afresh. */
  private revision: number | null = null
  /** The batch being retried or probed: the same events until they are delivered (SPEC.md §6.3). */
  private pending: readonly StoredEvent[] | null = null
  private retry: RetryState = FRESH_RETRY_STATE
  private batchLimit = MAX_BATCH_EVENTS
  /** After a 413, batches stay small until the events of the refused batch are delivered. */
  private splitThroughSequence = 0

  /** A commit announced the org's new head: only a loop waiting for events cares. */
  announce(headSequence: number): void {
    this.wakeIf((wait) => wait.headAtLeast !== null && headSequence >= wait.headAtLeast)
  }

  protected override waitUntil(untilMs: number): Wait {
    return { untilMs, headAtLeast: null }
  }

  /** One look at the webhook: wait for something, or make one attempt. */
  protected override async step(): Promise<LoopStep<Wait>> {
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
    this.sender.reset()
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
    const batch = await renderBatch(events, settings.logFormat, { signers, orgId: this.orgId }, this.batchLimit)
    const first = batch.events[0]
    const last = batch.events.at(-1)
    // A stop that came while rendering finds no attempt in flight to abort, so none may start.
    if (first === undefined || last === undefined || this.isStopping) return
    this.pending = batch.events
    const atMs = clock.now()
    const result = await this.send(settings, {
      orgId: this.orgId,
      delivery: { kind: 'live', firstSequence: first.sequence, lastSequence: last.sequence },
      body: batch.body,
    })
    // Stopping, or the lease lost: the batch is abandoned with the cursor where it was, and re-sent
    // after a restart or by the replica that holds the lease now.
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
}

/** Runs one delivery loop per org with a configured webhook, for the server's lifetime. */
export class DeliveryWorker extends OrgLoops<OrgDelivery, DeliveryOptions> {
  protected readonly name = 'delivery'

  /** Loops start for newly configured webhooks; a loop whose org has none ends at its first step. */
  protected override create(orgId: string): OrgDelivery {
    return new OrgDelivery(orgId, this.options)
  }

  protected override subscribe(): Array<() => void> {
    const { bus, store } = this.options
    return [
      bus.subscribe((orgId, headSequence) => this.loops.get(orgId)?.announce(headSequence)),
      store.onWebhookChange((orgId) => this.wake(orgId)),
    ]
  }
}
