// Owns construction of everything a command may touch. Tests build their own ports and call main,
// so every command runs in-process against captured streams; heavy modules load on first use.

import type { ApiClient } from '../api/client.js'
import type { ProfileStore } from '../config/profiles.js'
import type { Sourced, Target } from '../config/target.js'
import type { IOStreams, ProcessPorts, ShutdownSignal } from '../io/streams.js'
import { createIOStreams } from '../io/streams.js'
import { NotAuthenticatedError, UsageError } from './errors.js'
import { isLoopbackUrl } from './loopback.js'
import { parseServerUrl } from './server-url.js'

/** The global flags of SPEC.md §9.1. */
export interface GlobalFlags {
  readonly profile?: string
  readonly server?: string
  readonly json: boolean
  readonly input: boolean
  readonly color: boolean
  readonly quiet: boolean
  readonly debug: boolean
}

export interface Factory {
  readonly io: IOStreams
  readonly globals: GlobalFlags
  readonly env: ProcessPorts['env']
  profiles(): Promise<ProfileStore>
  /** Profile, server and token as resolved for this run, with their sources. */
  target(): Promise<Target>
  /** A client for the resolved server; `token: false` leaves the token out (public routes, login). */
  api(options?: { readonly token?: string | false }): Promise<ApiClient>
  /** Resolves with the first SIGINT or SIGTERM (never, where signals cannot be received). */
  shutdownSignal(): Promise<ShutdownSignal>
}

const SOURCE_NAMES: Record<Sourced['source'], string> = {
  flag: '--server',
  env: 'KONNECT_AUDIT_SERVER',
  profile: 'the profile',
}

export function createFactory(ports: ProcessPorts, globals: GlobalFlags): Factory {
  const io = createIOStreams(ports)
  let profiles: Promise<ProfileStore> | null = null
  const factory: Factory = {
    io,
    globals,
    env: ports.env,
    profiles: () => {
      profiles ??= import('../config/profiles.js').then((module) => module.openProfileStore(ports.env))
      return profiles
    },
    target: async () =>
      (await import('../config/target.js')).resolveTarget(globals, ports.env, await factory.profiles()),
    api: async (options = {}) => {
      const target = await factory.target()
      if (!target.server) {
        throw new UsageError(
          'no server configured: run konnect-audit login --server URL, or pass --server or KONNECT_AUDIT_SERVER',
        )
      }
      const token = options.token === false ? null : (options.token ?? target.token?.value ?? null)
      if (token === null && options.token !== false) {
        throw new NotAuthenticatedError('no token: run konnect-audit login, or set KONNECT_AUDIT_TOKEN')
      }
      const url = parseServerUrl(target.server.value, SOURCE_NAMES[target.server.source])
      if (token !== null && url.protocol === 'http:' && !isLoopbackUrl(url) && !globals.quiet) {
        io.err(`Warning: sending the token over plain http to ${url.host}; use https`)
      }
      const { ApiClient } = await import('../api/client.js')
      return new ApiClient({
        baseUrl: target.server.value,
        token,
        ...(globals.debug ? { debug: (line: string) => io.err(`debug: ${line}`) } : {}),
      })
    },
    shutdownSignal: () =>
      new Promise((resolve) => {
        ports.on?.('SIGINT', () => resolve('SIGINT'))
        ports.on?.('SIGTERM', () => resolve('SIGTERM'))
      }),
  }
  return factory
}
