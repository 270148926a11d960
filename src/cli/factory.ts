// Owns construction of everything a command may touch. Tests build their own ports and call main,
// so every command runs in-process against captured streams.

import type { IOStreams, ProcessPorts, ShutdownSignal } from '../io/streams.js'
import { createIOStreams } from '../io/streams.js'

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
  /** Resolves with the first SIGINT or SIGTERM (never, where signals cannot be received). */
  shutdownSignal(): Promise<ShutdownSignal>
}

export function createFactory(ports: ProcessPorts, globals: GlobalFlags): Factory {
  return {
    io: createIOStreams(ports),
    globals,
    env: ports.env,
    shutdownSignal: () =>
      new Promise((resolve) => {
        ports.once?.('SIGINT', () => resolve('SIGINT'))
        ports.once?.('SIGTERM', () => resolve('SIGTERM'))
      }),
  }
}
