// Owns one Server-Sent Events connection over node:http(s) (SPEC.md §5.10): the request with the
// caller's headers, the status, and complete frames whose `data` keeps its raw bytes. It never
// reconnects by itself and knows nothing of tokens or exit codes; the caller decides both.

import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'

/** One dispatched frame; `id` is the frame's own `id` field, null when it carried none. */
export interface SseFrame {
  readonly id: string | null
  /** The `event` field, or `message` when absent (as EventSource names it). */
  readonly event: string
  /** The `data` fields joined with LF, byte for byte. */
  readonly data: Buffer
}

export interface SseTimeouts {
  /** Until the response headers arrive. */
  readonly headersMs: number
  /** Longest silence on an open stream (the server sends a keep-alive every 15 s). */
  readonly idleMs: number
}

export type SseOpening =
  | { readonly kind: 'stream'; readonly stream: SseStream }
  | {
      readonly kind: 'status'
      readonly status: number
      readonly headers: IncomingHttpHeaders
      readonly body: Buffer
    }

const LF = 0x0a
const CR = 0x0d
const COLON = 0x3a
const SPACE = 0x20
/** A non-200 answer is read only this far: it is an error body, not a stream. */
const MAX_ERROR_BODY_BYTES = 64 * 1024

/** Splits an SSE byte stream into frames; lines end in LF or CRLF. */
export class SseParser {
  private pending: Buffer = Buffer.alloc(0)
  private id: string | null = null
  private event: string | null = null
  private data: Buffer[] | null = null

  push(chunk: Buffer): SseFrame[] {
    const frames: SseFrame[] = []
    let buffer = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk])
    for (let newline = buffer.indexOf(LF); newline >= 0; newline = buffer.indexOf(LF)) {
      const end = newline > 0 && buffer[newline - 1] === CR ? newline - 1 : newline
      const frame = this.line(buffer.subarray(0, end))
      if (frame) frames.push(frame)
      buffer = buffer.subarray(newline + 1)
    }
    // Copied so the retained tail does not pin the whole chunk it came from.
    this.pending = Buffer.from(buffer)
    return frames
  }

  private line(line: Buffer): SseFrame | null {
    if (line.length === 0) return this.dispatch()
    const colon = line.indexOf(COLON)
    if (colon === 0) return null // a comment, e.g. the keep-alive
    const field = (colon < 0 ? line : line.subarray(0, colon)).toString('utf8')
    const valueStart = colon < 0 ? line.length : line[colon + 1] === SPACE ? colon + 2 : colon + 1
    const value = line.subarray(valueStart)
    if (field === 'data') {
      this.data ??= []
      this.data.push(Buffer.from(value))
    } else if (field === 'event') this.event = value.toString('utf8')
    else if (field === 'id' && !value.includes(0)) this.id = value.toString('utf8')
    return null
  }

  private dispatch(): SseFrame | null {
    const { data, event, id } = this
    this.data = null
    this.event = null
    this.id = null
    if (data === null) return null
    const joined = Buffer.concat(data.flatMap((part, i) => (i === 0 ? [part] : [LF_BYTES, part])))
    return { id, event: event ?? 'message', data: joined }
  }
}

const LF_BYTES = Buffer.from('\n')

/** An open stream: iterate its frames; `close` ends it from this side. */
export class SseStream {
  constructor(
    private readonly request: ClientRequest,
    private readonly response: IncomingMessage,
  ) {}

  /** Frames as they complete; ends when the server ends the body, throws when the connection fails. */
  async *frames(): AsyncGenerator<SseFrame> {
    const parser = new SseParser()
    for await (const chunk of this.response) yield* parser.push(chunk as Buffer)
  }

  close(): void {
    this.request.destroy()
  }
}

/**
 * Opens `url` as an event stream. Resolves with the stream on 200 and with the status and a
 * (capped) body otherwise; rejects on connection errors, timeouts and an abort.
 */
export function openSse(
  url: string,
  headers: Readonly<Record<string, string>>,
  timeouts: SseTimeouts,
  signal: AbortSignal,
): Promise<SseOpening> {
  return new Promise((resolve, reject) => {
    const target = new URL(url)
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest
    const request = send(target, {
      method: 'GET',
      headers: { accept: 'text/event-stream', 'cache-control': 'no-cache', ...headers },
      signal,
    })
    request.setTimeout(timeouts.headersMs, () =>
      request.destroy(new Error(`no answer within ${Math.round(timeouts.headersMs / 1000)}s`)),
    )
    request.on('error', reject) // later errors surface through the response body
    request.once('response', (response) => {
      if (response.statusCode === 200) {
        request.setTimeout(timeouts.idleMs, () =>
          request.destroy(new Error(`the stream was silent for ${Math.round(timeouts.idleMs / 1000)}s`)),
        )
        resolve({ kind: 'stream', stream: new SseStream(request, response) })
        return
      }
      readErrorBody(response).then(
        (body) => resolve({ kind: 'status', status: response.statusCode ?? 0, headers: response.headers, body }),
        reject,
      )
    })
    request.end()
  })
}

async function readErrorBody(response: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of response) {
    chunks.push(chunk as Buffer)
    total += (chunk as Buffer).length
    if (total >= MAX_ERROR_BODY_BYTES) {
      response.destroy()
      break
    }
  }
  return Buffer.concat(chunks)
}
