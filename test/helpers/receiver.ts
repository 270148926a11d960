// A scripted webhook receiver on 127.0.0.1:0 (http, or https with a given certificate) for
// delivery tests: it records every request with its gunzipped lines and answers from a script
// (status, hang, reset), then with a default answer.

import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import { createServer as createHttpServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { gunzipSync } from 'node:zlib'

export type Reply =
  | {
      readonly kind: 'status'
      readonly status: number
      readonly reason?: string
      readonly headers?: Record<string, string>
      readonly body?: string | Buffer
    }
  /** Reads the request, then never answers. */
  | { readonly kind: 'hang' }
  /** Destroys the connection once the request has arrived. */
  | { readonly kind: 'reset' }
  /** Sends headers and part of a body, then never ends it. */
  | { readonly kind: 'endless-body'; readonly status: number; readonly bytes: number }

export const ok: Reply = { kind: 'status', status: 200 }
export const answer = (status: number, headers: Record<string, string> = {}): Reply => ({
  kind: 'status',
  status,
  headers,
})

export interface ReceivedRequest {
  readonly method: string
  readonly url: string
  readonly headers: IncomingHttpHeaders
  /** The body as received (gzip). */
  readonly body: Buffer
  /** The gunzipped body. */
  readonly text: string
  /** The lines of the gunzipped body, without their "\n" (an unterminated tail would be the last entry). */
  readonly lines: string[]
  /** TLS SNI the client sent, for https receivers. */
  readonly servername: string | null
  /** How the receiver answered it. */
  readonly reply: Reply
}

export interface Receiver {
  readonly url: string
  readonly port: number
  readonly requests: ReceivedRequest[]
  /** Answers the next requests in this order, then with the default. */
  script(...replies: Reply[]): void
  /** The answer once the script is used up (initially 200); a function decides per request. */
  answerWith(reply: Reply | ((request: Omit<ReceivedRequest, 'reply'>) => Reply)): void
  /** Resolves with the request at this index (0-based) once it has arrived, or rejects after `timeoutMs`. */
  request(index: number, timeoutMs?: number): Promise<ReceivedRequest>
  close(): Promise<void>
}

export interface ReceiverOptions {
  readonly tls?: { readonly cert: string; readonly key: string }
}

function linesOf(text: string): string[] {
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  return lines
}

export async function startReceiver(options: ReceiverOptions = {}): Promise<Receiver> {
  const requests: ReceivedRequest[] = []
  const script: Reply[] = []
  const arrivals: Array<() => void> = []
  let fallback: Reply | ((request: Omit<ReceivedRequest, 'reply'>) => Reply) = ok

  const handle = (incoming: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = []
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
    incoming.on('end', () => {
      const body = Buffer.concat(chunks)
      const text = incoming.headers['content-encoding'] === 'gzip' ? gunzipSync(body).toString('utf8') : ''
      const socket = incoming.socket as Partial<TLSSocket>
      const request = {
        method: incoming.method ?? '',
        url: incoming.url ?? '',
        headers: incoming.headers,
        body,
        text,
        lines: linesOf(text),
        servername: typeof socket.servername === 'string' ? socket.servername : null,
      }
      const reply = script.shift() ?? (typeof fallback === 'function' ? fallback(request) : fallback)
      requests.push({ ...request, reply })
      for (const arrived of arrivals.splice(0)) arrived()
      respond(reply, response)
    })
  }
  const server = options.tls ? createHttpsServer(options.tls, handle) : createHttpServer(handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}/hook?source=konnect`,
    port,
    requests,
    script: (...replies) => script.push(...replies),
    answerWith: (reply) => {
      fallback = reply
    },
    request: (index, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const deadline = setTimeout(
          () => reject(new Error(`request ${index} did not arrive in ${timeoutMs} ms`)),
          timeoutMs,
        )
        const check = () => {
          const found = requests[index]
          if (found === undefined) arrivals.push(check)
          else {
            clearTimeout(deadline)
            resolve(found)
          }
        }
        check()
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function respond(reply: Reply, response: ServerResponse): void {
  if (reply.kind === 'hang') return
  if (reply.kind === 'reset') {
    response.socket?.destroy()
    return
  }
  if (reply.kind === 'endless-body') {
    response.writeHead(reply.status, { 'content-type': 'text/plain' })
    response.write(Buffer.alloc(reply.bytes, 'x'))
    return
  }
  if (reply.reason === undefined) response.writeHead(reply.status, reply.headers)
  else response.writeHead(reply.status, reply.reason, reply.headers)
  response.end(reply.body)
}
