// Starts a real server on 127.0.0.1:0 with a fresh SQLite data dir, for tests over loopback HTTP.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Clock } from '../../src/core/clock.js'
import type { LogDestination } from '../../src/server/app.js'
import type { ServeFlags } from '../../src/server/config.js'
import { resolveServerConfig } from '../../src/server/config.js'
import type { RunningServer } from '../../src/server/serve.js'
import { startServer } from '../../src/server/serve.js'
import { tempDir } from './temp-files.js'

export interface TestServer extends RunningServer {
  readonly dataDir: string
  /** The initial admin token written at first start. */
  readonly adminToken: string
  /** fetch against the server with an optional bearer token. */
  request(path: string, init?: RequestInit & { token?: string | null }): Promise<Response>
}

/** `log` receives the server's pino log when a test reads it; none by default. */
export async function startTestServer(
  flags: ServeFlags = {},
  clock?: Clock,
  log: LogDestination = null,
): Promise<TestServer> {
  const dataDir = flags.dataDir ?? tempDir('ka-server-').path('data')
  const config = resolveServerConfig({ listen: '127.0.0.1:0', logLevel: 'silent', ...flags, dataDir }, {})
  const server = await startServer(config, { log, ...(clock ? { clock } : {}) })
  const adminToken = config.bootstrapToken ?? readFileSync(join(dataDir, 'initial-admin-token'), 'utf8').trim()
  const request = (path: string, init: RequestInit & { token?: string | null } = {}) => {
    const { token = adminToken, headers, ...rest } = init
    return fetch(`${server.url}${path}`, {
      ...rest,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(headers as Record<string, string>),
      },
    })
  }
  return Object.assign(server, { dataDir, adminToken, request })
}

export function jsonBody(body: unknown): RequestInit {
  return { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
}

/** A response body parsed as JSON, loosely typed for assertions. */
// biome-ignore lint/suspicious/noExplicitAny: tests assert on response bodies whose shape is the subject under test
export const jsonOf = (response: Response): Promise<any> => response.json()
