// Owns the server configuration (SPEC.md §9.6): flags, then KONNECT_AUDIT_* variables, then
// defaults, read once and frozen. Nothing else in the server reads the environment.

import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { isWellFormedToken } from '../core/tokens.js'
import { parseDurationMs } from '../util/duration.js'
import { redactedUrl } from '../util/redact-url.js'

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

export interface ServerConfig {
  readonly listenHost: string
  readonly listenPort: number
  readonly dataDir: string
  /** PostgreSQL URL shared by replicas; null = SQLite in the data dir. */
  readonly databaseUrl: string | null
  /** How long a replica's lease on an org's work lasts unless renewed (SPEC.md §6.5). */
  readonly leaseMs: number
  readonly retentionMs: number
  /** Initial admin token for an empty store, instead of a generated one. */
  readonly bootstrapToken: string | null
  readonly allowInsecureEndpoints: boolean
  readonly tls: { readonly cert: string; readonly key: string } | null
  /** Peers (CIDR blocks) whose X-Forwarded-For sets an event's `src`. */
  readonly trustProxy: readonly string[]
  /** Org id for events of requests with no identifiable token; 'none' = operational log only; null = the default org. */
  readonly unattributedEventsOrg: string | null
  readonly logLevel: LogLevel
  readonly dev: boolean
}

/** The `serve` flags as the command parses them (all optional). */
export interface ServeFlags {
  readonly listen?: string
  readonly dataDir?: string
  readonly dev?: boolean
  readonly database?: string
  readonly retention?: string
  readonly bootstrapTokenFile?: string
  readonly allowInsecureEndpoints?: boolean
  readonly tlsCert?: string
  readonly tlsKey?: string
  readonly trustProxy?: string
  readonly unattributedEventsOrg?: string
  readonly logLevel?: LogLevel
}

/** A configuration mistake: the serve command reports it as a usage error (exit 2). */
export class ServerConfigError extends Error {
  override readonly name = 'ServerConfigError'
}

/** SPEC.md §6.5: a 30 s lease, renewed every 10 s. */
const DEFAULT_LEASE_MS = 30_000
const MIN_LEASE_MS = 3000
const MAX_LEASE_MS = 600_000
const MIN_RETENTION_MS = 3_600_000
const MAX_RETENTION_MS = 3650 * 86_400_000

function parseListen(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text)
  const host = match?.[1] ?? match?.[2]
  const port = Number(match?.[3])
  if (!host || !Number.isInteger(port) || port > 65535 || (match?.[1] && isIP(match[1]) !== 6)) {
    throw new ServerConfigError(`--listen ${text} is not HOST:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)`)
  }
  return { host, port }
}

function parseRetention(text: string): number {
  const ms = parseDurationMs(text)
  if (ms === null || ms < MIN_RETENTION_MS || ms > MAX_RETENTION_MS) {
    throw new ServerConfigError(`--retention ${text} must be a duration from 1h to 3650d (e.g. 7d, 36h)`)
  }
  return ms
}

function parseDatabaseUrl(text: string | undefined): string | null {
  if (text === undefined || text === '') return null
  if (!/^postgres(ql)?:\/\/./.test(text)) {
    throw new ServerConfigError(
      `--database ${redactedUrl(text)} is not a postgres:// URL; omit it to use SQLite in the data dir`,
    )
  }
  return text
}

/**
 * KONNECT_AUDIT_LEASE_TIME (decision, not a flag): replicas' lease on an org's work. Shorter means a
 * faster takeover after a crash, but below the 15 s attempt budget a slow attempt may outlive its
 * lease and its batch be sent twice.
 */
function parseLeaseMs(text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULT_LEASE_MS
  const ms = parseDurationMs(text)
  if (ms === null || ms < MIN_LEASE_MS || ms > MAX_LEASE_MS) {
    throw new ServerConfigError(`KONNECT_AUDIT_LEASE_TIME ${text} must be a duration from 3s to 10m (e.g. 30s)`)
  }
  return ms
}

function defaultDataDir(env: Readonly<Record<string, string | undefined>>, dev: boolean): string {
  if (dev) return resolve('.konnect-audit')
  const base = env.XDG_DATA_HOME || join(homedir(), '.local', 'share')
  return join(base, 'konnect-audit')
}

function readBootstrapToken(flags: ServeFlags, env: Readonly<Record<string, string | undefined>>): string | null {
  let token: string | undefined = env.KONNECT_AUDIT_BOOTSTRAP_TOKEN
  if (flags.bootstrapTokenFile !== undefined) {
    try {
      token = readFileSync(flags.bootstrapTokenFile, 'utf8').trim()
    } catch (error) {
      throw new ServerConfigError(`cannot read --bootstrap-token-file: ${(error as Error).message}`)
    }
  }
  if (token === undefined || token === '') return null
  if (!isWellFormedToken(token)) {
    throw new ServerConfigError('the bootstrap token must be kat_ followed by 43 base64url characters (47 in all)')
  }
  return token
}

function parseTrustProxy(text: string | undefined): string[] {
  if (text === undefined || text === '') return []
  return text.split(',').map((cidr) => {
    const [address, bits] = cidr.trim().split('/')
    const family = isIP(address ?? '')
    const maxBits = family === 6 ? 128 : 32
    if (family === 0 || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= maxBits))) {
      throw new ServerConfigError(`--trust-proxy ${cidr.trim()} is not an IP address or CIDR block`)
    }
    return cidr.trim()
  })
}

export function resolveServerConfig(
  flags: ServeFlags,
  env: Readonly<Record<string, string | undefined>>,
): ServerConfig {
  const databaseUrl = parseDatabaseUrl(flags.database ?? env.KONNECT_AUDIT_DATABASE_URL)
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) {
    throw new ServerConfigError('--tls-cert and --tls-key go together')
  }
  const dev = flags.dev === true
  const { host, port } = parseListen(flags.listen ?? env.KONNECT_AUDIT_LISTEN ?? '127.0.0.1:8080')
  const unattributed = flags.unattributedEventsOrg
  return Object.freeze({
    listenHost: host,
    listenPort: port,
    dataDir: resolve(flags.dataDir ?? env.KONNECT_AUDIT_DATA_DIR ?? defaultDataDir(env, dev)),
    databaseUrl,
    leaseMs: parseLeaseMs(env.KONNECT_AUDIT_LEASE_TIME),
    retentionMs: parseRetention(flags.retention ?? '7d'),
    bootstrapToken: readBootstrapToken(flags, env),
    allowInsecureEndpoints: flags.allowInsecureEndpoints === true,
    tls: flags.tlsCert !== undefined && flags.tlsKey !== undefined ? { cert: flags.tlsCert, key: flags.tlsKey } : null,
    trustProxy: parseTrustProxy(flags.trustProxy),
    unattributedEventsOrg: unattributed === undefined || unattributed === 'default' ? null : unattributed,
    logLevel: flags.logLevel ?? 'info',
    dev,
  })
}
