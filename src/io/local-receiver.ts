// Owns the HTTP side of `webhook listen` (SPEC.md §9.8): a local receiver that accepts POST on
// any path, checks an expected Authorization in constant time, gunzips (by header or magic),
// caps the body at 2 MiB decompressed and splits it into raw lines for the caller.

import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { createServer } from 'node:http'
import { gunzipSync } from 'node:zlib'

export const MAX_BATCH_BYTES = 2 * 1024 * 1024

export interface ReceivedBatch {
  /** 1-based count of accepted batches. */
  readonly batch: number
  readonly peer: string
  readonly lines: readonly Buffer[]
}

export interface ReceiverOptions {
  readonly host: string
  readonly port: number
  /** When set, requests must carry exactly this Authorization header. */
  readonly expectedAuthorization: string | null
  /** Handles one batch; the receiver answers 202 once it resolves. */
  onBatch(batch: ReceivedBatch): Promise<void>
}

function sameSecret(expected: string, given: string | undefined): boolean {
  const a = Buffer.from(expected)
  const b = Buffer.from(given ?? '')
  // Compare equal-length buffers only, so the comparison time does not depend on the content.
  return a.length === b.length && timingSafeEqual(a, b)
}

async function readCapped(request: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of request) {
    total += (chunk as Buffer).length
    if (total > MAX_BATCH_BYTES) return null
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

function isGzip(request: IncomingMessage, body: Buffer): boolean {
  return (request.headers['content-encoding'] ?? '').includes('gzip') || (body[0] === 0x1f && body[1] === 0x8b)
}

/** Lines of a batch: split on `\n`, one trailing `\r` trimmed, empty lines skipped. */
export function batchLines(body: Buffer): Buffer[] {
  const lines: Buffer[] = []
  let start = 0
  while (start <= body.length) {
    const newline = body.indexOf(0x0a, start)
    const end = newline < 0 ? body.length : newline
    let line = body.subarray(start, end)
    if (line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1)
    if (line.length > 0) lines.push(line)
    if (newline < 0) break
    start = newline + 1
  }
  return lines
}

function answer(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${text}\n`)
}

export async function startReceiver(options: ReceiverOptions): Promise<Server> {
  let batches = 0
  const server = createServer(async (request, response) => {
    if (request.method !== 'POST') return answer(response, 405, 'only POST is accepted')
    if (
      options.expectedAuthorization !== null &&
      !sameSecret(options.expectedAuthorization, request.headers.authorization)
    ) {
      return answer(response, 401, 'Authorization does not match')
    }
    const raw = await readCapped(request)
    if (raw === null) return answer(response, 413, 'batch over 2 MiB')
    let body = raw
    if (isGzip(request, raw)) {
      try {
        body = gunzipSync(raw, { maxOutputLength: MAX_BATCH_BYTES })
      } catch (error) {
        const tooLarge = (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE'
        return answer(response, tooLarge ? 413 : 400, tooLarge ? 'batch over 2 MiB once decompressed' : 'bad gzip body')
      }
    }
    batches++
    await options.onBatch({ batch: batches, peer: request.socket.remoteAddress ?? '', lines: batchLines(body) })
    return answer(response, 202, 'accepted')
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return server
}
