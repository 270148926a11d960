// Owns `logs pull`: downloads a time window of raw signed lines from GET /v3/audit-logs as NDJSON,
// page by page along Link: rel="next", written byte for byte (SPEC.md §9.9). To a FILE it resumes
// an interrupted download from FILE.pull-state.json; it never parses a line.

import { isUtf8 } from 'node:buffer'
import type { ApiClient } from '../../../api/client.js'
import { EVENT_TYPES } from '../../../core/events.js'
import { writeJson } from '../../../io/output.js'
import type { PullArguments, PullState } from '../../../io/pull-state.js'
import {
  exists,
  PartFile,
  PullStateError,
  partPathOf,
  readPullState,
  removePullState,
  statePathOf,
  writePullState,
} from '../../../io/pull-state.js'
import { parseDurationMs } from '../../../util/duration.js'
import type { OptionsOf } from '../../define-command.js'
import { defineCommand } from '../../define-command.js'
import { CliError, UsageError } from '../../errors.js'
import type { Factory } from '../../factory.js'
import { windowChoiceOf } from '../../time-window.js'

const MAX_PAGE_SIZE = 1000

export const definition = defineCommand({
  name: 'logs pull',
  summary: 'Download raw signed audit logs of a time window as NDJSON (resumable)',
  args: [],
  flags: {
    since: { kind: 'string', placeholder: 'duration', help: 'Window ending now, e.g. 24h' },
    start: { kind: 'string', placeholder: 'time', help: 'Window start (RFC 3339); needs --end' },
    end: { kind: 'string', placeholder: 'time', help: 'Window end (RFC 3339); needs --start' },
    type: { kind: 'enum', choices: EVENT_TYPES, help: 'Only events of this type' },
    output: {
      kind: 'string',
      short: 'o',
      placeholder: 'file',
      required: true,
      help: 'Write to FILE (resumable; - for stdout)',
    },
    pageSize: {
      kind: 'integer',
      min: 1,
      max: MAX_PAGE_SIZE,
      placeholder: 'n',
      help: 'Events per request, 1 to 1000 (default 1000)',
    },
    force: { kind: 'boolean', help: 'Replace an existing FILE, or discard a pull state made with other arguments' },
  },
  examples: [
    'konnect-audit logs pull --since 24h -o audit.ndjson',
    'konnect-audit logs pull --start 2026-11-25T00:00:00Z --end 2026-11-26T00:00:00Z --type authorization -o authz.ndjson',
    'konnect-audit logs pull --since 1h -o - | konnect-audit verify',
  ],
})

type Options = OptionsOf<typeof definition>

const PULL_PATH = '/v3/audit-logs'
const NDJSON = 'application/x-ndjson'
const DEFAULT_PAGE_SIZE = 1000
const LF = 0x0a
const LF_BYTES = Buffer.from('\n')

interface Progress {
  events: number
  pages: number
}

export async function run(options: Options, f: Factory): Promise<void> {
  const args = pullArgumentsOf(options)
  const api = await f.api()
  const server = api.url('')
  if (options.output === '-') {
    await pullToStdout(api, firstPagePath(queryOf(args, Date.now())), f)
    return
  }
  await pullToFile(api, server, args, options.output, options.force === true, f)
}

/** The arguments as the state compares them: times normalised to UTC, the page size resolved. */
function pullArgumentsOf(options: Options): PullArguments {
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE
  const type = options.type ?? null
  const window = windowChoiceOf(options)
  if (window.kind === 'since') return { since: window.since, start: null, end: null, type, pageSize }
  if (window.startMs >= window.endMs)
    throw new UsageError(`--start ${options.start} must be before --end ${options.end}`)
  return { since: null, start: isoOf(window.startMs), end: isoOf(window.endMs), type, pageSize }
}

const isoOf = (ms: number): string => new Date(ms).toISOString()

/** The first page's query; `--since` becomes a fixed window ending now. */
function queryOf(args: PullArguments, nowMs: number): Record<string, string> {
  const window =
    args.since === null
      ? { gte: args.start as string, lte: args.end as string }
      : { gte: isoOf(nowMs - (parseDurationMs(args.since) as number)), lte: isoOf(nowMs) }
  return {
    'filter[ts][gte]': window.gte,
    'filter[ts][lte]': window.lte,
    ...(args.type === null ? {} : { 'filter[type]': args.type }),
    'page[size]': String(args.pageSize),
  }
}

const firstPagePath = (query: Readonly<Record<string, string>>): string =>
  `${PULL_PATH}?${new URLSearchParams(query).toString()}`

function describeArguments(args: PullArguments): string {
  const window = args.since === null ? `--start ${args.start} --end ${args.end}` : `--since ${args.since}`
  return `${window}${args.type === null ? '' : ` --type ${args.type}`} --page-size ${args.pageSize}`
}

interface Page {
  readonly body: Buffer
  readonly events: number
  /** Path and query of the next page, relative to the base URL; null on the last page. */
  readonly next: string | null
}

async function fetchPage(api: ApiClient, path: string): Promise<Page> {
  const response = await api.send('GET', path, { headers: { accept: NDJSON } })
  const contentType = String(response.headers['content-type'] ?? '')
  if (!contentType.toLowerCase().startsWith(NDJSON)) {
    throw new CliError(
      `the server answered with ${contentType || 'no content type'} instead of NDJSON; is ${api.url('')} a konnect-audit server?`,
    )
  }
  let body = response.body
  // Pages are concatenated, so a last line without its newline would run into the next page.
  if (body.length > 0 && body[body.length - 1] !== LF) body = Buffer.concat([body, LF_BYTES])
  const link = nextLink(response.headers.link)
  return { body, events: countLines(body), next: link === null ? null : relativeToBase(link, api.url('')) }
}

function countLines(body: Buffer): number {
  let count = 0
  for (let at = body.indexOf(LF); at >= 0; at = body.indexOf(LF, at + 1)) count++
  return count
}

/** The target of `rel="next"` in a Link header, if any. */
function nextLink(header: string | string[] | undefined): string | null {
  const text = Array.isArray(header) ? header.join(', ') : (header ?? '')
  for (const [, target, params] of text.matchAll(/<([^>]*)>([^<]*)/g)) {
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(params ?? '')
    const relations = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/)
    if (relations.includes('next')) return target ?? null
  }
  return null
}

/**
 * A link as a path under the base URL. Servers link from their root (`/v3/…`); behind a proxy
 * with a path prefix the link may carry that prefix, which must not be doubled.
 */
function relativeToBase(link: string, baseUrl: string): string {
  const base = new URL(baseUrl)
  const prefix = base.pathname.replace(/\/+$/, '')
  const url = new URL(link, base)
  if (url.origin !== base.origin) {
    throw new CliError(`the server linked its next page to another origin (${url.origin}); not following it`)
  }
  const path = `${url.pathname}${url.search}`
  return prefix !== '' && path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : path
}

async function pullToStdout(api: ApiClient, firstPath: string, f: Factory): Promise<void> {
  const progress: Progress = { events: 0, pages: 0 }
  const bar = progressBar(f)
  let path: string | null = firstPath
  try {
    while (path !== null) {
      const page = await fetchPage(api, path)
      // io.out takes text: decoding is lossless only for UTF-8, so anything else stops the pull.
      if (!isUtf8(page.body)) {
        throw new CliError(`page ${progress.pages + 1} is not valid UTF-8; use -o FILE to keep its raw bytes`)
      }
      await f.io.out(page.body.toString('utf8'))
      progress.events += page.events
      progress.pages++
      bar.update(progress)
      path = page.next
    }
  } finally {
    bar.clear()
  }
  if (!f.globals.quiet) f.io.err(summaryLine(progress, 'stdout'))
}

function sameArguments(saved: PullArguments, given: PullArguments): boolean {
  const keys: ReadonlyArray<keyof PullArguments> = ['since', 'start', 'end', 'type', 'pageSize']
  return keys.every((key) => saved[key] === given[key])
}

/** What to do with FILE and its state: start afresh or continue a saved pull. */
async function resumePoint(file: string, args: PullArguments, force: boolean, f: Factory): Promise<PullState | null> {
  let state: PullState | null
  try {
    state = await readPullState(file)
  } catch (error) {
    if (!(error instanceof PullStateError)) throw ioError(statePathOf(file), error)
    if (force) {
      await guardIo(statePathOf(file), () => removePullState(file))
      return null
    }
    throw new UsageError(`${error.message}; delete it, or pass --force to start over`)
  }
  if (state !== null && sameArguments(state.arguments, args)) return state
  if (state !== null && !force) {
    throw new UsageError(
      `${statePathOf(file)} belongs to an interrupted pull with other arguments (${describeArguments(state.arguments)}): run that again to resume it, or pass --force to discard it and start over`,
    )
  }
  if (state === null && !force && (await exists(file))) {
    throw new UsageError(`${file} already exists: pass --force to replace it, or choose another -o FILE`)
  }
  if (state !== null) {
    if (!f.globals.quiet) f.io.err(`Discarding the interrupted pull in ${statePathOf(file)} (--force)`)
    await guardIo(statePathOf(file), () => removePullState(file))
  }
  return null
}

async function pullToFile(
  api: ApiClient,
  server: string,
  args: PullArguments,
  file: string,
  force: boolean,
  f: Factory,
): Promise<void> {
  const saved = await resumePoint(file, args, force, f)
  // A fresh pull creates FILE.part and its state only once the first page has arrived, so a
  // refused token or an unreachable server leaves nothing behind.
  let part: PartFile | null = saved === null ? null : await openPart(file, saved.bytes)
  let state: PullState
  if (saved === null) {
    const query = queryOf(args, Date.now())
    state = { version: 1, arguments: args, server, query, next: firstPagePath(query), bytes: 0, events: 0, pages: 0 }
  } else {
    state = saved
    if (!f.globals.quiet) {
      f.io.err(
        `Resuming the pull into ${file}: ${plural(state.events, 'event')} in ${plural(state.pages, 'page')} so far`,
      )
      if (saved.server !== server) f.io.err(`Warning: this pull began against ${saved.server}, now ${server}`)
    }
  }
  const progress: Progress = { events: state.events, pages: state.pages }
  const bar = progressBar(f)
  try {
    for (;;) {
      const page = await fetchPage(api, state.next)
      const opened = part ?? (await openPart(file, null))
      part = opened
      await guardIo(partPathOf(file), () => opened.append(page.body))
      progress.events += page.events
      progress.pages++
      bar.update(progress)
      if (page.next === null) break
      state = { ...state, next: page.next, bytes: opened.bytes, events: progress.events, pages: progress.pages }
      await guardIo(statePathOf(file), () => writePullState(file, state))
    }
  } catch (error) {
    await part?.close().catch(() => undefined)
    throw error
  } finally {
    bar.clear()
  }
  const finished = part
  await guardIo(file, async () => {
    await finished.commit()
    await removePullState(file)
  })
  if (f.globals.json) {
    await writeJson(f.io, { file, events: progress.events, pages: progress.pages, resumed: saved !== null })
  } else if (!f.globals.quiet) {
    f.io.err(summaryLine(progress, file))
  }
}

/** FILE.part, new or cut back to where the saved state continues. */
async function openPart(file: string, resumeAtBytes: number | null): Promise<PartFile> {
  try {
    return await PartFile.open(file, resumeAtBytes)
  } catch (error) {
    if (error instanceof PullStateError) {
      throw new UsageError(`cannot resume: ${error.message}; pass --force to start over`)
    }
    throw ioError(partPathOf(file), error)
  }
}

function summaryLine(progress: Progress, where: string): string {
  return `Pulled ${plural(progress.events, 'event')} in ${plural(progress.pages, 'page')} to ${where}`
}

const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`

/** A one-line progress display on a terminal's stderr; nothing otherwise, with -q or with --json. */
function progressBar(f: Factory): { update(progress: Progress): void; clear(): void } {
  const shown = f.io.stderrIsTTY && !f.globals.quiet && !f.globals.json
  let drawn = false
  return {
    update: (progress) => {
      if (!shown) return
      drawn = true
      f.io.errStream.write(`\rPulling: ${plural(progress.events, 'event')}, ${plural(progress.pages, 'page')}`)
    },
    clear: () => {
      if (drawn) f.io.errStream.write('\r\x1b[K')
      drawn = false
    },
  }
}

async function guardIo<T>(path: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step()
  } catch (error) {
    throw ioError(path, error)
  }
}

function ioError(path: string, error: unknown): unknown {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') {
    return new CliError(`cannot use ${path}: ${error.message}`)
  }
  return error
}
