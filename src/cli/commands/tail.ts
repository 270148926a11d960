// Owns `tail`: follows GET /v3/audit-logs/stream (SPEC.md §5.10, §9.9), printing each line raw,
// reconnecting with Last-Event-ID (backoff 1 s doubling to 30 s, with jitter) and, with --verify,
// checking each line before it is printed. Ctrl-C is the normal end: exit 0, or 3 after a failure.

import { setTimeout as delay } from 'node:timers/promises'
import { USER_AGENT } from '../../api/client.js'
import { ApiError, problemOf } from '../../api/errors.js'
import { EVENT_TYPES } from '../../core/events.js'
import { LINE_FORMATS } from '../../core/extract.js'
import type { LineStatus } from '../../core/verify.js'
import type { SseFrame, SseOpening } from '../../io/sse-client.js'
import { openSse } from '../../io/sse-client.js'
import { parseDurationMs } from '../../util/duration.js'
import { redactedUrl } from '../../util/redact-url.js'
import type { OptionsOf } from '../define-command.js'
import { defineCommand } from '../define-command.js'
import { CliError, UsageError, VerificationFailedError } from '../errors.js'
import type { Factory } from '../factory.js'
import { RefreshingVerifier } from '../refreshing-verifier.js'

export const definition = defineCommand({
  name: 'tail',
  summary: 'Stream audit events live as they are recorded, optionally verifying each line',
  args: [],
  flags: {
    format: { kind: 'enum', choices: LINE_FORMATS, defaultValue: 'json', help: 'Line format' },
    type: { kind: 'enum', choices: EVENT_TYPES, help: 'Only events of this type' },
    since: {
      kind: 'string',
      placeholder: 'duration',
      help: 'Start with the retained events of this period (e.g. 1h); every event is filtered by event_ts',
    },
    verify: { kind: 'boolean', help: 'Verify each line before printing it; exit 3 if any fails' },
    jwks: { kind: 'string', placeholder: 'file|url', help: 'JWKS for --verify (default: the server JWKS)' },
  },
  examples: [
    'konnect-audit tail',
    'konnect-audit tail --since 1h --type authorization --verify',
    'konnect-audit tail --format cef --json',
  ],
})

type Options = OptionsOf<typeof definition>

/** Time as tail sees it; tests pass one whose sleep does not wait. */
export interface TailTiming {
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>
  /** In [0, 1), for the backoff jitter. */
  random(): number
  now(): number
}

const SYSTEM_TIMING: TailTiming = {
  sleep: (ms, signal) => delay(ms, undefined, { signal }).catch(() => undefined),
  random: Math.random,
  now: Date.now,
}

const STREAM_PATH = '/v3/audit-logs/stream'
const TIMEOUTS = { headersMs: 30_000, idleMs: 45_000 }
const FIRST_BACKOFF_MS = 1000
const MAX_BACKOFF_MS = 30_000
const SEQUENCE = /^(0|[1-9][0-9]*)$/

/** The delay before reconnect attempt `attempt` (0-based): half the doubled base, plus up to half at random. */
function backoffMs(attempt: number, random: number): number {
  const base = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** Math.min(attempt, 16))
  return Math.round(base / 2 + (base / 2) * random)
}

export async function run(options: Options, f: Factory, timing: TailTiming = SYSTEM_TIMING): Promise<void> {
  if (options.jwks !== undefined && options.verify !== true) {
    throw new UsageError('--jwks is used only with --verify; add --verify to check each line')
  }
  const sinceMs = options.since === undefined ? null : parseDurationMs(options.since)
  if (sinceMs === null && options.since !== undefined) {
    throw new UsageError(`--since ${options.since} is not a duration: use e.g. 90m, 24h or 1d12h`)
  }
  const api = await f.api()
  const target = await f.target()
  // Subscribed only once the profile store is loaded: its file writer (conf -> when-exit) listens
  // to signals too and re-raises one after its cleanup, which kills the process unless a listener
  // of ours is still registered, i.e. subscribed after it, so Ctrl-C can end tail with its code.
  const stop = new AbortController()
  void f.shutdownSignal().then(() => stop.abort())
  const verifier =
    options.verify === true
      ? await RefreshingVerifier.load(
          options.jwks,
          { server: target.server?.value, token: target.token?.value, warn: (m) => f.io.err(m) },
          () => timing.now(),
        )
      : null
  const url = api.url(STREAM_PATH, {
    format: options.format ?? 'json',
    'filter[type]': options.type,
    'filter[ts][gte]': sinceMs === null ? undefined : new Date(timing.now() - sinceMs).toISOString(),
  })
  const tail = new Tail(f, verifier, {
    url,
    headers: { authorization: `Bearer ${target.token?.value ?? ''}`, 'user-agent': USER_AGENT },
  })
  await tail.follow(stop.signal, timing)
  if (tail.failures > 0) {
    throw new VerificationFailedError(
      `verification failed: ${tail.failedLines} line${tail.failedLines === 1 ? '' : 's'} and ${tail.gaps} gap${tail.gaps === 1 ? '' : 's'}`,
    )
  }
}

interface Connection {
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
}

/** One tail run: the connection loop, the last event id seen and the verification failures. */
class Tail {
  failedLines = 0
  gaps = 0
  private lastEventId: string | null = null

  constructor(
    private readonly f: Factory,
    private readonly verifier: RefreshingVerifier | null,
    private readonly connection: Connection,
  ) {}

  get failures(): number {
    return this.failedLines + (this.verifier === null ? 0 : this.gaps)
  }

  /** Streams until `signal` aborts; the first connection must succeed, later drops are retried. */
  async follow(signal: AbortSignal, timing: TailTiming): Promise<void> {
    let connectedBefore = false
    let attempt = 0
    while (!signal.aborted) {
      let reason: string
      try {
        const opening = await this.open(signal)
        if (opening.kind === 'status') {
          const retryable = opening.status === 429 || opening.status >= 500
          if (!retryable || !connectedBefore) throw errorForStatus(opening.status, opening.body)
          reason = `HTTP ${opening.status}`
        } else {
          connectedBefore = true
          attempt = 0
          reason = await this.read(opening.stream.frames(), () => opening.stream.close())
        }
      } catch (error) {
        if (signal.aborted) return
        if (error instanceof ApiError || error instanceof CliError) throw error
        const message = error instanceof Error ? error.message : String(error)
        if (!connectedBefore) throw new CliError(`cannot reach ${this.connection.url}: ${message}`)
        reason = message
      }
      if (signal.aborted) return
      const waitMs = backoffMs(attempt++, timing.random())
      if (!this.f.globals.quiet) {
        this.f.io.err(`Stream interrupted (${reason}); reconnecting in ${(waitMs / 1000).toFixed(1)}s`)
      }
      await timing.sleep(waitMs, signal)
    }
  }

  private async open(signal: AbortSignal): Promise<SseOpening> {
    const headers = {
      ...this.connection.headers,
      ...(this.lastEventId === null ? {} : { 'last-event-id': this.lastEventId }),
    }
    const opening = await openSse(this.connection.url, headers, TIMEOUTS, signal)
    if (this.f.globals.debug) {
      const status = opening.kind === 'stream' ? 200 : opening.status
      const resume = this.lastEventId === null ? '' : ` (Last-Event-ID ${this.lastEventId})`
      this.f.io.err(`debug: GET ${redactedUrl(this.connection.url)}${resume} -> ${status}`)
    }
    return opening
  }

  /** Handles frames until the stream ends or fails; returns why it ended. */
  private async read(frames: AsyncIterable<SseFrame>, close: () => void): Promise<string> {
    try {
      for await (const frame of frames) await this.handle(frame)
      return 'the server ended the stream'
    } finally {
      close()
    }
  }

  private async handle(frame: SseFrame): Promise<void> {
    if (frame.id !== null) this.lastEventId = frame.id
    if (frame.event === 'gap') {
      this.gaps++
      this.f.io.err(`Warning: ${gapText(frame.data)}`)
      return
    }
    if (frame.event !== 'audit' && frame.event !== 'message') return
    const sequence = frame.id !== null && SEQUENCE.test(frame.id) ? frame.id : null
    let status: LineStatus | null = null
    let kid: string | null = null
    if (this.verifier !== null) {
      const checked = await this.verifier.verify(frame.data)
      status = checked.verdict.status
      kid = checked.kid
      if (status !== 'valid') {
        this.failedLines++
        this.f.io.err(
          `Warning: sequence ${sequence ?? '(no id)'} failed verification: ${status} (${checked.verdict.reason})`,
        )
      }
    }
    // The line is written as received; --json wraps it as a JSON string, never re-serialising its content.
    const line = frame.data.toString('utf8')
    await this.f.io.out(
      this.f.globals.json
        ? `{"sequence":${sequence ?? 'null'},"status":${JSON.stringify(status)},"kid":${JSON.stringify(kid)},"line":${JSON.stringify(line)}}\n`
        : `${line}\n`,
    )
  }
}

/** The warning for a `gap` frame: which sequences were pruned before they could be sent. */
function gapText(data: Buffer): string {
  try {
    const gap = JSON.parse(data.toString('utf8')) as { after?: unknown; next?: unknown; reason?: unknown }
    if (Number.isSafeInteger(gap.after) && Number.isSafeInteger(gap.next)) {
      const first = (gap.after as number) + 1
      const last = (gap.next as number) - 1
      const range = first === last ? `event ${first} was` : `events ${first} to ${last} were`
      return `gap in the stream: ${range} ${gap.reason === 'pruned' ? 'pruned' : 'lost'} before they could be sent`
    }
  } catch {
    // Reported with its raw data below.
  }
  return `gap in the stream: ${data.toString('utf8')}`
}

function errorForStatus(status: number, body: Buffer): Error {
  if (status === 404) {
    return new CliError(`not supported by this server: it has no live stream (GET ${STREAM_PATH} gave HTTP 404)`)
  }
  return new ApiError(status, problemOf(body), `HTTP ${status}`)
}
