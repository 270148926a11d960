// Owns replay jobs (SPEC.md §7): one loop per org whose job is accepted, pending or running. It
// queues and starts the job (the store fixes the selection at the head of that moment), then sends
// the selected events in sequence order to the webhook's current configuration with §6 batching,
// 413 splits and the quick retries only, committing the job's own cursor and progress after each
// 2xx. It never reads or moves the live delivery cursor.

import type { AttemptVerdict, RetryState } from '../../core/delivery-plan.js'
import {
  FRESH_RETRY_STATE,
  halvedBatchLimit,
  judgeAttempt,
  MAX_BATCH_EVENTS,
  planAfterFailure,
} from '../../core/delivery-plan.js'
import type { ConfiguredWebhook, ReplayJob, StoredEvent } from '../../store/store.js'
import { ACTIVE_REPLAY_STATUSES } from '../../store/store.js'
import type { AttemptResult } from '../outbound/sender.js'
import { outcomeOf, settingsOf } from '../outbound/webhook-sender.js'
import { renderBatch } from '../services/delivery-lines.js'
import type { LoopStep, LoopWait, OrgLoopOptions } from './org-loop.js'
import { OrgLoop } from './org-loop.js'
import { OrgLoops } from './org-loops.js'

export type ReplayOptions = OrgLoopOptions

/** What a loop waits for: a clock time (a quick retry), or only a wake-up (null). */
type Wait = LoopWait

/** A job in `running`, whose selection is fixed. */
type RunningJob = ReplayJob & { readonly throughSequence: number }

/** The events to send next, or why the job cannot go on. */
type NextBatch = { readonly events: readonly StoredEvent[] } | { readonly failure: string }

/** Runs one org's replay job to its end; ends when the org has no active job or the worker stops. */
class OrgReplay extends OrgLoop<Wait, ReplayOptions> {
  protected readonly name = 'replay'
  /** The job the in-memory state below belongs to; a new job starts it afresh. */
  private jobId: string | null = null
  /** The webhook configuration the sender belongs to; a change makes a new sender and fresh retries. */
  private revision: number | null = null
  private retry: RetryState = FRESH_RETRY_STATE
  /** When the failed batch is retried; null = no retry scheduled. */
  private retryAtMs: number | null = null
  private batchLimit = MAX_BATCH_EVENTS
  /** After a 413, batches stay small until the events of the refused batch are delivered. */
  private splitThroughSequence = 0

  protected override waitUntil(untilMs: number): Wait {
    return { untilMs }
  }

  /** One look at the job: advance its state, wait for a retry, or make one attempt. */
  protected override async step(): Promise<LoopStep<Wait>> {
    const { store, clock } = this.options
    const job = await store.getReplayJob(this.orgId)
    if (job === null || !ACTIVE_REPLAY_STATUSES.includes(job.status)) return 'done'
    this.follow(job)
    const webhook = await store.getWebhook(this.orgId)
    if (webhook === null || !webhook.enabled) {
      await this.fail(job, `the webhook was ${webhook === null ? 'unconfigured' : 'disabled'} during the replay`)
      return 'again'
    }
    const nowMs = clock.now()
    if (job.status === 'accepted') {
      await store.queueReplayJob(this.orgId, job.id, nowMs)
      return 'again'
    }
    if (job.status === 'pending') {
      await this.startJob(job, nowMs)
      return 'again'
    }
    // The store's schema makes a running job without its bound impossible; never spin on one.
    if (job.throughSequence === null) throw new Error(`the running replay job of org ${this.orgId} has no selection`)
    this.followWebhook(webhook)
    return this.sendNext({ ...job, throughSequence: job.throughSequence }, webhook)
  }

  private async startJob(job: ReplayJob, nowMs: number): Promise<void> {
    const started = await this.options.store.startReplayJob(this.orgId, job.id, nowMs)
    if (started === null) return
    this.options.log.info(
      { orgId: this.orgId, total: started.total, throughSequence: started.throughSequence },
      'replay job running',
    )
  }

  private async sendNext(job: RunningJob, webhook: ConfiguredWebhook): Promise<LoopStep<Wait>> {
    const { store, clock } = this.options
    if (this.retryAtMs !== null && this.retryAtMs > clock.now()) return { untilMs: this.retryAtMs }
    const next = await this.nextBatch(job)
    if ('failure' in next) {
      await this.fail(job, next.failure)
      return 'again'
    }
    if (next.events.length === 0) {
      if (await store.finishReplayJob(this.orgId, job.id, { status: 'completed' }, clock.now())) {
        this.options.log.info({ orgId: this.orgId, sent: job.sent }, 'replay job completed')
      }
      return 'again'
    }
    await this.attempt(job, webhook, next.events)
    return 'again'
  }

  /** A new job (or the first look) starts the in-memory state afresh. */
  private follow(job: ReplayJob): void {
    if (job.id === this.jobId) return
    this.jobId = job.id
    this.resetAttempts()
  }

  private resetAttempts(): void {
    this.retry = FRESH_RETRY_STATE
    this.retryAtMs = null
    this.batchLimit = MAX_BATCH_EVENTS
    this.splitThroughSequence = 0
  }

  /**
   * The selected events after the job's cursor, at most one batch. Retention may have pruned some
   * before they were sent (SPEC.md §8): then the job fails rather than skip them silently.
   */
  private async nextBatch(job: RunningJob): Promise<NextBatch> {
    const { store } = this.options
    const selection = {
      orgId: this.orgId,
      afterSequence: job.replayedSequence,
      throughSequence: job.throughSequence,
      startAtMs: job.startAtMs,
      endAtMs: job.endAtMs,
    }
    const [oldest] = await store.readEvents({
      orgId: this.orgId,
      afterSequence: 0,
      throughSequence: Number.MAX_SAFE_INTEGER,
      limit: 1,
    })
    // Only when pruning has passed the cursor can a selected event be missing; count only then.
    if (oldest === undefined || oldest.sequence > job.replayedSequence + 1) {
      const missing = job.total - job.sent - (await store.countReplaySelection(selection))
      if (missing > 0) return { failure: prunedText(missing) }
    }
    const events = await store.readEvents({
      orgId: this.orgId,
      afterSequence: job.replayedSequence,
      throughSequence: job.throughSequence,
      tsGte: job.startAtMs,
      tsLte: job.endAtMs,
      limit: this.batchLimit,
    })
    return { events }
  }

  private async attempt(job: RunningJob, webhook: ConfiguredWebhook, events: readonly StoredEvent[]): Promise<void> {
    const { clock, signers } = this.options
    const settings = settingsOf(webhook)
    const batch = await renderBatch(events, settings.logFormat, { signers, orgId: this.orgId }, this.batchLimit)
    const last = batch.events.at(-1)
    // A stop that came while rendering finds no attempt in flight to abort, so none may start.
    if (last === undefined || this.isStopping) return
    const result = await this.send(settings, {
      orgId: this.orgId,
      delivery: { kind: 'replay' },
      body: batch.body,
    })
    // Stopping, or the lease lost: the job stays running with its cursor where it was, and resumes
    // after a restart or on the replica that holds the lease now.
    if (result.failure === 'cancelled') return
    const verdict = judgeAttempt(outcomeOf(result), batch.events.length, clock.now())
    if (verdict.kind === 'delivered') await this.delivered(job, last.sequence, batch.events.length)
    else if (verdict.kind === 'too_large') this.split(batch.events.length, last.sequence)
    else await this.failed(job, verdict, result)
  }

  private async delivered(job: RunningJob, lastSequence: number, events: number): Promise<void> {
    const { store, clock } = this.options
    await store.recordReplayProgress(this.orgId, job.id, { throughSequence: lastSequence, events }, clock.now())
    this.retry = FRESH_RETRY_STATE
    this.retryAtMs = null
    if (lastSequence >= this.splitThroughSequence) this.batchLimit = MAX_BATCH_EVENTS
  }

  /** 413: the same events go again at once in batches of half the size (SPEC.md §6.3). */
  private split(batchEvents: number, lastSequence: number): void {
    this.batchLimit = halvedBatchLimit(batchEvents)
    this.splitThroughSequence = Math.max(this.splitThroughSequence, lastSequence)
  }

  /** Quick retries only: a replay does not probe forever (SPEC.md §7), so exhausting them fails the job. */
  private async failed(
    job: RunningJob,
    verdict: Extract<AttemptVerdict, { kind: 'failed' }>,
    result: AttemptResult,
  ): Promise<void> {
    const { clock, random = Math.random } = this.options
    const plan = planAfterFailure(this.retry, verdict, random)
    if (!plan.inactive) {
      this.retry = plan.state
      this.retryAtMs = clock.now() + plan.delayMs
      return
    }
    const retries = verdict.retryable && this.retry.phase === 'quick' ? this.retry.failedAttempts : 0
    const after = retries > 0 ? ` (after ${retries} retries)` : ''
    await this.fail(job, `batch ${job.batchesSent + 1}: ${answerText(result)}${after}`)
  }

  private async fail(job: ReplayJob, error: string): Promise<void> {
    const { store, clock, log } = this.options
    if (await store.finishReplayJob(this.orgId, job.id, { status: 'failed', error }, clock.now())) {
      log.warn({ orgId: this.orgId, sent: job.sent, total: job.total, error }, 'replay job failed')
    }
  }

  /**
   * Replays go to the webhook's current configuration (SPEC.md §7): a change makes a new sender
   * and, like a change for live delivery (SPEC.md §6.2), restarts the retries with an attempt at once.
   */
  private followWebhook(webhook: ConfiguredWebhook): void {
    const { configRevision } = webhook.delivery
    if (configRevision === this.revision) return
    const changed = this.revision !== null
    this.revision = configRevision
    this.sender.reset()
    if (changed) this.resetAttempts()
  }
}

function prunedText(missing: number): string {
  const events = missing === 1 ? '1 selected event was' : `${missing} selected events were`
  return `${events} pruned by retention before being sent`
}

/** `HTTP 401 Unauthorized`, or what failed when no HTTP status arrived (`timeout after 15s`). */
function answerText(result: AttemptResult): string {
  return result.statusCode === 0 ? result.message : `HTTP ${result.statusCode} ${result.message}`
}

/** Runs the replay job of every org that has an active one, for the server's lifetime. */
export class ReplayWorker extends OrgLoops<OrgReplay, ReplayOptions> {
  protected readonly name = 'replay'

  /** Loops start for jobs submitted elsewhere or left running by a stop; one without a job ends at once. */
  protected override create(orgId: string): OrgReplay {
    return new OrgReplay(orgId, this.options)
  }

  protected override subscribe(): Array<() => void> {
    const { store } = this.options
    return [
      store.onReplayJobSubmitted((orgId) => this.wake(orgId)),
      // A webhook disabled or unconfigured mid-job fails the job at once, even while a retry waits.
      store.onWebhookChange((orgId) => this.loops.get(orgId)?.wake()),
    ]
  }
}
