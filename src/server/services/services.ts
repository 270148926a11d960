// Owns the bundle of long-lived server services handed to every route handler.

import type { Clock } from '../../core/clock.js'
import type { Store } from '../../store/store.js'
import type { SelfAudit } from '../auth/self-audit.js'
import type { ServerConfig } from '../config.js'
import type { LeaseSettings } from '../workers/work-lease.js'
import type { EventBus } from './event-bus.js'
import type { EventWriter } from './event-writer.js'
import type { OrgCache } from './org-cache.js'
import type { SignerCache } from './signers.js'

export interface Services {
  readonly config: ServerConfig
  readonly store: Store
  readonly clock: Clock
  readonly signers: SignerCache
  /** Orgs as protected requests look them up. */
  readonly orgs: OrgCache
  /** Announces committed events to streams and workers. */
  readonly bus: EventBus
  /** Writes each org's events in order, so signing can run ahead of the commit. */
  readonly writer: EventWriter
  readonly audit: SelfAudit
  /** The org that anonymous JWKS requests default to. */
  readonly defaultOrgId: string
  /** Where events of requests without an identifiable token go; null = operational log only. */
  readonly unattributedOrgId: string | null
  /** Who this server is among replicas, and how long what it claims in the store lasts unrenewed. */
  readonly replica: LeaseSettings
}
