// Owns replay jobs (SPEC.md §7): one loop per org whose job is accepted, pending or running. It
// queues and starts the job (the store fixes the selection at the head of that moment), then sends
// the selected events in sequence order to the webhook's current configuration with §6 batching,
// 413 splits and the quick retries only, committing the job's own cursor and progress after each
// 2xx. It never reads or moves the live delivery cursor.

import type { Clock } from '../../core/clock.js'
import type { AttemptVerdict, Random, RetryState } from '../../core/delivery-plan.js'
import {
  FRESH_RETRY_STATE,
  halvedBatchLimit,
  judgeAttempt,
  MAX_BATCH_EVENTS,
  planAfterFailure,
} from '../../core/delivery-plan.js'
import type { ConfiguredWebhook, EndpointSettings, ReplayJob, Store, StoredEvent } from '../../store/store.js'
import { ACTIVE_REPLAY_STATUSES } from '../../store/store.js'
import type { ResolveHostname } from '../outbound/endpoint-policy.js'
import type { AttemptResult } from '../outbound/sender.js'
import { EndpointSender } from '../outbound/sender.js'
import { renderBatch } from '../services/delivery-lines.js'
import type { SignerCache } from '../services/signers.js'
import type { DeliveryLog, DeliveryTimer } from './delivery.js'

/** How often every org is looked at even without a wake-up (another process may have submitted a job). */
const REPLAY_POLL_INTERVAL_MS = 5000

export interface ReplayOptions {
  readonly store: Store
  readonly clock: Clock
  readonly timer: DeliveryTimer
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

/** What a loop waits for: a clock time (a quick retry), or only a wake-up (null). */
interface Wait {
  readonly untilMs: number | null
}

type Step = Wait | 'again' | 'done'

/** A job in `running`, whose selection is fixed. */
type RunningJob = ReplayJob & { readonly throughSequence: number }

/** The events to send next, or why the job cannot go on. */
type NextBatch = { readonly events: readonly StoredEvent[] } | { readonly failure: string }

/** Runs one org's replay job to its end; ends when the org has no active job or the worker stops. */
class OrgReplay {
  /** True while a wake-up arrived that the loop has not stepped for yet. */
  private wakePending = true
  private waiting: { readonly resume: () => void } | null = null
  private idleWaiters: Array<() => void> = []
  private stopped = false
  private ended = false
  private inFlight: AbortController | null = null
  /** The job the in-memory state below belongs to; a new job starts it afresh. */
  private jobId: string | null = null
  /** The webhook configuration the sender belongs to; a change makes a new sender and fresh retries. */
  private revision: number | null = null
  private sender: EndpointSender | null = null
  private retry: RetryState = FRESH_RETRY_STATE
  /** When the failed batch is retried; null = no retry scheduled. */
  private retryAtMs: number | null = null
  private batchLimit = MAX_BATCH_EVENTS
  /** After a 413, batches stay small until the events of the refused batch are delivered. */
  private splitThroughSequence = 0
  readonly finished: Promise<void>

  constructor(
    readonly orgId: string,
    private readonly options: ReplayOptions,
  ) {
    this.finished = this.run()
  }

  /** True once the loop has stopped stepping; a later job needs a new loop. */
  get isEnded(): boolean {
    return this.ended
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

  /** Abandons the attempt in flight (the job stays running, resumed from its cursor later) and waits for the end. */
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
        // A job may have been submitted while the step found none: look once more.
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
        'replay step failed; it is retried after the poll interval',
      )
      return { untilMs: this.options.clock.now() + this.pollIntervalMs() }
    }
  }

  private pollIntervalMs(): number {
    return this.options.pollIntervalMs ?? REPLAY_POLL_INTERVAL_MS
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

  /** One look at the job: advance its state, wait for a retry, or make one attempt. */
  private async step(): Promise<Step> {
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
      await this.start(job, nowMs)
      return 'again'
    }
    // The store's schema makes a running job without its bound impossible; never spin on one.
    if (job.throughSequence === null) throw new Error(`the running replay job of org ${this.orgId} has no selection`)
    this.followWebhook(webhook)
    return this.send({ ...job, throughSequence: job.throughSequence }, webhook)
  }

  private async start(job: ReplayJob, nowMs: number): Promise<void> {
    const started = await this.options.store.startReplayJob(this.orgId, job.id, nowMs)
    if (started === null) return
    this.options.log.info(
      { orgId: this.orgId, total: started.total, throughSequence: started.throughSequence },
      'replay job running',
    )
  }

  private async send(job: RunningJob, webhook: ConfiguredWebhook): Promise<Step> {
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
    const batch = await renderBatch(events, settings.logFormat, () => signers.signerFor(this.orgId), this.batchLimit)
    const last = batch.events.at(-1)
    // A stop that came while rendering finds no attempt in flight to abort, so none may start.
    if (last === undefined || this.stopped) return
    this.inFlight = new AbortController()
    const result = await this.senderFor(settings).send(
      { orgId: this.orgId, delivery: { kind: 'replay' }, body: batch.body },
      this.inFlight.signal,
    )
    this.inFlight = null
    // Stopping: the job stays running with its cursor where it was, and resumes after a restart.
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
    void this.sender?.close()
    this.sender = null
    if (changed) this.resetAttempts()
  }

  /** One sender per configuration, separate from live delivery's, so the two never share a connection. */
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

function prunedText(missing: number): string {
  const events = missing === 1 ? '1 selected event was' : `${missing} selected events were`
  return `${events} pruned by retention before being sent`
}

/** `HTTP 401 Unauthorized`, or what failed when no HTTP status arrived (`timeout after 15s`). */
function answerText(result: AttemptResult): string {
  return result.statusCode === 0 ? result.message : `HTTP ${result.statusCode} ${result.message}`
}

/** Runs the replay job of every org that has an active one, for the server's lifetime. */
export class ReplayWorker {
  private readonly loops = new Map<string, OrgReplay>()
  private readonly subscriptions: Array<() => void> = []
  private stopped = false

  constructor(private readonly options: ReplayOptions) {}

  /** Subscribes to submissions and webhook changes, starts the poll and looks at every org once. */
  start(): void {
    const { store, timer, pollIntervalMs = REPLAY_POLL_INTERVAL_MS } = this.options
    this.subscriptions.push(
      store.onReplayJobSubmitted((orgId) => this.wake(orgId)),
      // A webhook disabled or unconfigured mid-job fails the job at once, even while a retry waits.
      store.onWebhookChange((orgId) => this.loops.get(orgId)?.wake()),
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

  /** Stops waking loops, abandons attempts in flight (jobs stay running) and waits for every loop to end. */
  async stop(): Promise<void> {
    this.stopped = true
    for (const unsubscribe of this.subscriptions.splice(0)) unsubscribe()
    await Promise.all([...this.loops.values()].map((loop) => loop.stop()))
  }

  private async pollLogged(): Promise<void> {
    try {
      await this.poll()
    } catch (error) {
      this.options.log.error({ err: error }, 'replay poll failed; the next one retries')
    }
  }

  /** Loops start here for jobs submitted elsewhere or left running by a stop; one without a job ends at once. */
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
    const started = new OrgReplay(orgId, this.options)
    this.loops.set(orgId, started)
    void started.finished.then(() => {
      if (this.loops.get(orgId) === started) this.loops.delete(orgId)
    })
  }
}
