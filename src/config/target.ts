// Owns which profile, server and token a command uses (SPEC.md §9.1), and where each came from:
// profile: --profile, KONNECT_AUDIT_PROFILE, the current profile, `default`;
// server: --server, KONNECT_AUDIT_SERVER, the profile; token: KONNECT_AUDIT_TOKEN, the profile.

import type { ProfileStore } from './profiles.js'

export type Source = 'flag' | 'env' | 'profile'

export interface Sourced {
  readonly value: string
  readonly source: Source
}

export interface Target {
  readonly profile: string
  readonly server: Sourced | null
  readonly token: Sourced | null
}

export function resolveTarget(
  flags: { readonly profile?: string; readonly server?: string },
  env: Readonly<Record<string, string | undefined>>,
  profiles: ProfileStore,
): Target {
  const profile = flags.profile || env.KONNECT_AUDIT_PROFILE || profiles.currentName() || 'default'
  const saved = profiles.get(profile)
  const server: Sourced | null = flags.server
    ? { value: flags.server, source: 'flag' }
    : env.KONNECT_AUDIT_SERVER
      ? { value: env.KONNECT_AUDIT_SERVER, source: 'env' }
      : saved?.server
        ? { value: saved.server, source: 'profile' }
        : null
  const token: Sourced | null = env.KONNECT_AUDIT_TOKEN
    ? { value: env.KONNECT_AUDIT_TOKEN, source: 'env' }
    : saved?.token
      ? { value: saved.token, source: 'profile' }
      : null
  return { profile, server, token }
}
