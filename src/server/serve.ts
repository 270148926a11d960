// Owns a server's life: data dir (locked for SQLite), store, first start, the app listening, the
// workers with the system timer and this replica's leases, other replicas' commits fed to the event
// bus, and the graceful stop (stop accepting, finish in-flight requests, stop the workers and
// release their leases, close the store, release the lock).

import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { FastifyInstance } from 'fastify'
import type { Clock } from '../core/clock.js'
import { systemClock } from '../core/clock.js'
import type { Store } from '../store/store.js'
import type { LogDestination } from './app.js'
import { buildApp } from './app.js'
import { SelfAudit } from './auth/self-audit.js'
import { bootstrapStore } from './bootstrap.js'
import type { ServerConfig } from './config.js'
import { ensureDataDir, lockDataDir } from './data-dir.js'
import { openConfiguredStore } from './open-store.js'
import { EventBus } from './services/event-bus.js'
import { EventWriter } from './services/event-writer.js'
import { OrgCache } from './services/org-cache.js'
import type { Services } from './services/services.js'
import { SignerCache } from './services/signers.js'
import type { DeliveryTimer } from './workers/delivery.js'
import { DeliveryWorker } from './workers/delivery.js'
import { PruningWorker } from './workers/pruning.js'
import { ReplayWorker } from './workers/replay.js'
import type { LeaseSettings } from './workers/work-lease.js'

export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:8080. */
  readonly url: string
  readonly app: FastifyInstance
  readonly store: Store
  readonly services: Services
  /** Retention pruning; tests run a pass directly instead of waiting for the timer. */
  readonly pruning: PruningWorker
  /** Live delivery; tests move their clock and settle it instead of waiting for timers. */
  readonly delivery: DeliveryWorker
  /** Replay jobs; tests move their clock and settle it instead of waiting for timers. */
  readonly replay: ReplayWorker
  close(): Promise<void>
}

export interface StartOptions {
  readonly log: LogDestination
  readonly clock?: Clock
}

/** The timer the workers get: Node's, which a worker may not reach for itself (DESIGN.md §6). */
const systemTimer: DeliveryTimer = {
  every: (intervalMs, task) => {
    const interval = setInterval(task, intervalMs)
    return () => clearInterval(interval)
  },
  after: (delayMs, task) => {
    const timeout = setTimeout(task, delayMs)
    return () => clearTimeout(timeout)
  },
  yieldToIo: () => new Promise((resolve) => setImmediate(resolve)),
}

/**
 * This server's leases. With SQLite the data-dir lock lets one server run, so a constant holder
 * lets a restarted server take its leases back at once; each PostgreSQL replica is its own holder.
 */
function leaseSettings(config: ServerConfig): LeaseSettings {
  const holder = config.databaseUrl === null ? 'sqlite' : `${hostname()}/${process.pid}/${randomUUID()}`
  return { holder, leaseMs: config.leaseMs }
}

export async function startServer(config: ServerConfig, options: StartOptions): Promise<RunningServer> {
  const clock = options.clock ?? systemClock
  ensureDataDir(config.dataDir)
  // The data dir holds the SQLite file; with PostgreSQL it only receives the first admin token.
  const releaseLock = config.databaseUrl === null ? lockDataDir(config.dataDir) : () => {}
  const lease = leaseSettings(config)
  let store: Store | null = null
  let unsubscribe = () => {}
  try {
    store = await openConfiguredStore(config)
    const boot = await bootstrapStore(store, {
      dataDir: config.dataDir,
      bootstrapToken: config.bootstrapToken,
      nowMs: clock.now(),
    })
    const signers = new SignerCache(store)
    const services = await assembleServices(config, store, clock, signers, boot.defaultOrgId, lease)
    const { bus } = services
    const unsubscribes = [
      store.onEventsCommittedElsewhere((orgId, headSequence) => bus.announce(orgId, headSequence)),
      store.onKeysRotatedElsewhere((orgId) => signers.forget(orgId)),
    ]
    unsubscribe = () => {
      for (const each of unsubscribes) each()
    }
    const app = await buildApp(services, options.log)
    if (boot.tokenFile) app.log.info(`initial admin token written to ${boot.tokenFile}`)
    if (!boot.created && config.bootstrapToken !== null) {
      app.log.warn('the store is already initialised, so the bootstrap token is ignored')
    }
    const address = await app.listen({ host: config.listenHost, port: config.listenPort })
    const pruning = new PruningWorker({
      store,
      clock,
      timer: systemTimer,
      log: app.log,
      lease,
      retentionMs: config.retentionMs,
    })
    pruning.start()
    const delivery = new DeliveryWorker({
      store,
      clock,
      timer: systemTimer,
      bus: services.bus,
      signers,
      log: app.log,
      lease,
      allowInsecureEndpoints: config.allowInsecureEndpoints,
    })
    delivery.start()
    const replay = new ReplayWorker({
      store,
      clock,
      timer: systemTimer,
      signers,
      log: app.log,
      lease,
      allowInsecureEndpoints: config.allowInsecureEndpoints,
    })
    replay.start()
    const openStore = store
    return {
      url: address,
      app,
      store,
      services,
      pruning,
      delivery,
      replay,
      close: async () => {
        unsubscribe()
        await app.close()
        await delivery.stop()
        await replay.stop()
        await pruning.stop()
        await services.writer.flushAll()
        await services.signers.close()
        await openStore.close()
        releaseLock()
      },
    }
  } catch (error) {
    unsubscribe()
    await store?.close()
    releaseLock()
    throw error
  }
}

async function assembleServices(
  config: ServerConfig,
  store: Store,
  clock: Clock,
  signers: SignerCache,
  defaultOrgId: string,
  replica: LeaseSettings,
): Promise<Services> {
  let unattributedOrgId: string | null = defaultOrgId
  if (config.unattributedEventsOrg === 'none') unattributedOrgId = null
  else if (config.unattributedEventsOrg !== null) {
    if (!(await store.findOrg(config.unattributedEventsOrg))) {
      throw new Error(`--unattributed-events-org ${config.unattributedEventsOrg} is not an org of this store`)
    }
    unattributedOrgId = config.unattributedEventsOrg
  }
  const bus = new EventBus()
  const writer = new EventWriter(store, bus, () => clock.now(), systemTimer.after)
  const audit = new SelfAudit(writer, signers)
  const orgs = new OrgCache(store)
  return { config, store, clock, signers, orgs, bus, writer, defaultOrgId, unattributedOrgId, audit, replica }
}
