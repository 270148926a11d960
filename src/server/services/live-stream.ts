// Owns the open live streams of each server (SPEC.md §5.10): the per-org limit (kept in the store
// across replicas), wake-ups from the bus with a polling fallback, paging from the store under
// back-pressure, heartbeats, ending a stream whose token expires or is revoked (SPEC.md §5.3:
// revocation is immediate), and ending every stream when the server closes. Events always come
// from the store, never from a wake-up.

import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { FastifyBaseLogger, FastifyReply } from 'fastify'
import type { EventQuery, TokenRecord } from '../../store/store.js'
import { standingOf } from '../auth/check-token.js'
import { ProblemError } from '../problem.js'
import { renewalIntervalMs } from '../workers/work-lease.js'
import type { Services } from './services.js'
import { auditFrame, gapFrame, KEEP_ALIVE_FRAME, lineRendererFor, RETRY_FRAME } from './stream-frames.js'
import type { StreamParams, StreamStart } from './stream-start.js'

export const MAX_STREAMS_PER_ORG = 32
/** A client with more than this buffered is cut off; it resumes with Last-Event-ID and loses nothing. */
const MAX_BUFFERED_BYTES = 1024 * 1024
const PAGE_SIZE = 500
/** How long a closing server lets an ended stream flush before it drops the connection. */
const SHUTDOWN_GRACE_MS = 1000
/**
 * How often a stream reads its token back before sending more: a revocation on this server ends
 * its streams at once, one on another replica within this (or the poll interval, if longer).
 */
const TOKEN_RECHECK_MS = 1000

export interface StreamTiming {
  readonly heartbeatMs: number
  /** Catches up even when a wake-up was lost (DESIGN.md §1), so a lost one only delays. */
  readonly pollMs: number
}

export const DEFAULT_STREAM_TIMING: StreamTiming = { heartbeatMs: 15_000, pollMs: 5_000 }

export interface StreamPlan {
  readonly orgId: string
  /** The token the stream was opened with: the stream lasts only while it is valid. */
  readonly token: TokenRecord
  readonly params: StreamParams
  readonly start: StreamStart
}

function drainedOrClosed(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const settle = () => {
      response.off('drain', settle)
      response.off('close', settle)
      resolve()
    }
    response.once('drain', settle)
    response.once('close', settle)
  })
}

function filtersOf(params: StreamParams): Pick<EventQuery, 'type' | 'tsGte'> {
  return {
    ...(params.type === null ? {} : { type: params.type }),
    ...(params.tsGteMs === null ? {} : { tsGte: params.tsGteMs }),
  }
}

/** One client's stream: it sends every matching event after `afterSequence`, in sequence order. */
class LiveStream {
  private afterSequence: number
  private closed = false
  private pumping = false
  private wokenWhilePumping = false
  private readonly stops: Array<() => void> = []
  private readonly filters: Pick<EventQuery, 'type' | 'tsGte'>
  private tokenCheckedAtMs: number
  /** The stream's token as last read from the store. */
  private token: TokenRecord

  constructor(
    private readonly response: ServerResponse,
    private readonly plan: StreamPlan,
    private readonly services: Services,
    private readonly log: FastifyBaseLogger,
    private readonly onEnd: () => void,
  ) {
    this.afterSequence = plan.start.afterSequence
    this.filters = filtersOf(plan.params)
    this.tokenCheckedAtMs = services.clock.now()
    this.token = plan.token
  }

  /** True if the stream was opened with this token. */
  usesToken(tokenId: string): boolean {
    return this.token.id === tokenId
  }

  begin(headers: OutgoingHttpHeaders, timing: StreamTiming): void {
    this.response.writeHead(200, headers)
    this.response.on('close', () => this.end())
    // A client that left while the start was being planned has already had its 'close'.
    if (this.response.socket?.destroyed ?? true) {
      this.end()
      return
    }
    this.response.write(RETRY_FRAME)
    if (this.plan.start.gap !== null) this.response.write(gapFrame(this.plan.start.gap))
    const { orgId } = this.plan
    this.stops.push(
      this.services.bus.subscribe((announcedOrgId, headSequence) => {
        if (announcedOrgId === orgId && headSequence > this.afterSequence) this.wake()
      }),
    )
    const heartbeat = setInterval(() => void this.send(KEEP_ALIVE_FRAME), timing.heartbeatMs)
    const poll = setInterval(() => this.wake(), timing.pollMs)
    this.stops.push(
      () => clearInterval(heartbeat),
      () => clearInterval(poll),
    )
    this.wake()
  }

  /** Stops the stream and ends the response in order; safe to call more than once. */
  end(): void {
    if (this.closed) return
    this.closed = true
    for (const stop of this.stops) stop()
    this.onEnd()
    if (!this.response.destroyed && !this.response.writableEnded) this.response.end()
  }

  /** Ends the stream for a closing server; a client that does not take the end in time is dropped. */
  shutDown(): void {
    this.end()
    setTimeout(() => this.response.destroy(), SHUTDOWN_GRACE_MS).unref()
  }

  /**
   * Writes a frame. Past the socket's high-water mark it lets the socket flush first: http corks
   * the socket until the next tick, so only then does writableLength show what the client has not
   * taken. A client still holding more than MAX_BUFFERED_BYTES is cut off.
   */
  private async send(frame: Buffer): Promise<void> {
    if (this.closed || this.response.write(frame)) return
    await new Promise((resolve) => setImmediate(resolve))
    const bufferedBytes = this.response.writableLength
    if (this.closed || bufferedBytes <= MAX_BUFFERED_BYTES) return
    this.log.info({ bufferedBytes }, 'live stream client too slow; disconnected (it resumes with Last-Event-ID)')
    this.response.destroy()
    this.end()
  }

  /** Checked on every look, with the token read back from the store at most every TOKEN_RECHECK_MS. */
  private async tokenStillValid(): Promise<boolean> {
    const nowMs = this.services.clock.now()
    if (nowMs - this.tokenCheckedAtMs >= TOKEN_RECHECK_MS) {
      this.tokenCheckedAtMs = nowMs
      const current = await this.services.store.findTokenByHash(this.token.secretHash)
      if (current === null) return false
      this.token = current
    }
    return standingOf(this.token, nowMs) === 'success'
  }

  private wake(): void {
    if (this.closed) return
    if (this.pumping) {
      this.wokenWhilePumping = true
      return
    }
    this.pumping = true
    void this.pump()
  }

  private async pump(): Promise<void> {
    try {
      do {
        this.wokenWhilePumping = false
        await this.catchUp()
      } while (this.wokenWhilePumping && !this.closed)
    } catch (error) {
      // After an end (e.g. a closing server that already closed its store) a failed read is expected.
      if (!this.closed) this.log.error({ err: error }, 'live stream ended: could not read events')
      this.end()
    } finally {
      this.pumping = false
    }
  }

  /**
   * Sends every matching event up to the current head, a page at a time. The next page is read
   * only once the socket has drained, so a slow client is never more than a page behind in memory.
   */
  private async catchUp(): Promise<void> {
    const { store, signers } = this.services
    const { orgId, params } = this.plan
    if (!(await this.tokenStillValid())) {
      this.log.info({ tokenId: this.token.id }, 'live stream ended: its token expired or was revoked')
      this.end()
      return
    }
    const headSequence = await store.headSequence(orgId)
    while (!this.closed && this.afterSequence < headSequence) {
      const render = await lineRendererFor(params.format, () => signers.signerFor(orgId))
      const page = await store.readEvents({
        orgId,
        afterSequence: this.afterSequence,
        throughSequence: headSequence,
        limit: PAGE_SIZE,
        ...this.filters,
      })
      for (const event of page) {
        if (this.closed) return
        await this.send(auditFrame(event.sequence, render(event.line)))
        this.afterSequence = event.sequence
      }
      // A short page means nothing else up to the head matches the filters.
      if (page.length < PAGE_SIZE) this.afterSequence = headSequence
      if (!this.closed && this.response.writableNeedDrain) await drainedOrClosed(this.response)
    }
  }
}

const SSE_HEADERS: OutgoingHttpHeaders = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
  // A stream's connection is never reused, and closing it after the end lets a stopping server finish at once.
  connection: 'close',
}

/**
 * The open streams of one server. Each org's count is also kept in the store, renewed every third
 * of the replica lease, so the per-org limit holds across replicas (a crashed one's lapses).
 */
export class LiveStreams {
  private readonly byOrg = new Map<string, Set<LiveStream>>()
  /** Streams whose slot is being claimed in the store, per org. */
  private readonly opening = new Map<string, number>()
  private timing: StreamTiming = DEFAULT_STREAM_TIMING
  private stopHeartbeat: (() => void) | null = null

  constructor(private readonly services: Services) {}

  /** Changes the timing of streams opened from now on. */
  configure(timing: Partial<StreamTiming>): void {
    this.timing = { ...this.timing, ...timing }
  }

  countFor(orgId: string): number {
    return this.byOrg.get(orgId)?.size ?? 0
  }

  /** Takes over the reply and starts streaming; a 429 problem when the org has all its streams open. */
  async open(reply: FastifyReply, plan: StreamPlan): Promise<void> {
    const { orgId } = plan
    if (!(await this.claimSlot(orgId))) {
      throw new ProblemError(
        429,
        `An org can have at most ${MAX_STREAMS_PER_ORG} live streams open; close one and try again`,
      )
    }
    const streams = this.byOrg.get(orgId) ?? new Set<LiveStream>()
    this.byOrg.set(orgId, streams)
    // Fastify's own headers (the trace id) are not sent once the reply is hijacked, so they go along here.
    const headers: OutgoingHttpHeaders = { ...SSE_HEADERS }
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      if (value !== undefined && !(name in headers)) headers[name] = value
    }
    reply.hijack()
    const stream = new LiveStream(reply.raw, plan, this.services, reply.log, () => {
      streams.delete(stream)
      if (streams.size === 0) this.byOrg.delete(orgId)
      this.recordCounts([orgId], reply.log)
    })
    streams.add(stream)
    this.startHeartbeat(reply.log)
    stream.begin(headers, this.timing)
  }

  /** Ends the streams opened with a token just revoked on this server (SPEC.md §5.3: at once). */
  endForToken(orgId: string, tokenId: string): void {
    for (const stream of [...(this.byOrg.get(orgId) ?? [])]) if (stream.usesToken(tokenId)) stream.end()
  }

  /** Ends every open stream; the server calls this before it closes (clients resume with Last-Event-ID). */
  endAll(): void {
    for (const streams of [...this.byOrg.values()]) for (const stream of [...streams]) stream.shutDown()
    this.stopHeartbeat?.()
    this.stopHeartbeat = null
  }

  /** Reserves a slot here, then in the store against every replica's streams of the org. */
  private async claimSlot(orgId: string): Promise<boolean> {
    const openHere = this.countFor(orgId) + (this.opening.get(orgId) ?? 0)
    if (openHere >= MAX_STREAMS_PER_ORG) return false
    this.opening.set(orgId, (this.opening.get(orgId) ?? 0) + 1)
    try {
      const { store, clock, replica } = this.services
      const { holder, leaseMs } = replica
      const claim = { orgId, holder, openHere, maxPerOrg: MAX_STREAMS_PER_ORG, nowMs: clock.now(), leaseMs }
      return await store.claimStreamSlot(claim)
    } finally {
      const opening = (this.opening.get(orgId) ?? 1) - 1
      if (opening === 0) this.opening.delete(orgId)
      else this.opening.set(orgId, opening)
    }
  }

  /** Writes this server's counts of the orgs to the store; a failure only delays the correction. */
  private recordCounts(orgIds: readonly string[], log: FastifyBaseLogger): void {
    const { store, clock, replica } = this.services
    const counts = orgIds.map((orgId) => [orgId, this.countFor(orgId)] as const)
    store.recordStreamCounts(replica.holder, counts, clock.now(), replica.leaseMs).catch((error: unknown) => {
      log.warn({ err: error }, 'could not record the open live streams; the next heartbeat tries again')
    })
  }

  /** Renews this server's counts every third of the lease while it has streams open. */
  private startHeartbeat(log: FastifyBaseLogger): void {
    if (this.stopHeartbeat !== null) return
    const heartbeat = setInterval(() => {
      if (this.byOrg.size === 0) {
        clearInterval(heartbeat)
        this.stopHeartbeat = null
        return
      }
      this.recordCounts([...this.byOrg.keys()], log)
    }, renewalIntervalMs(this.services.replica.leaseMs))
    heartbeat.unref()
    this.stopHeartbeat = () => clearInterval(heartbeat)
  }
}

const registries = new WeakMap<Services, LiveStreams>()

/** The live streams of the server that owns `services`. */
export function liveStreamsOf(services: Services): LiveStreams {
  let streams = registries.get(services)
  if (!streams) {
    streams = new LiveStreams(services)
    registries.set(services, streams)
  }
  return streams
}
