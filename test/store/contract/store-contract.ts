// Owns the store contract suite (DESIGN.md §8, Keyv-style): every adapter runs it unchanged, so the
// guarantees of SPEC.md §8 (gap-free sequences, monotonic rt, all-or-nothing batches, prefix
// pruning), Idempotency-Key records committed with their events, and the webhook and destination
// rules (cursor at the head on first configuration, in-use guards) hold for each.

import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { EventType } from '../../../src/core/events.js'
import type {
  ConfiguredWebhook,
  DestinationPosition,
  DestinationQuery,
  DestinationRecord,
  EndpointSettings,
  EventDraft,
  EventQuery,
  IdempotencyClaim,
  KeyRecord,
  LeasedWork,
  NewOrg,
  NewReplayJob,
  ReplayJob,
  Store,
  TokenRecord,
  WebhookChange,
  WebhookTargetChange,
  WebhookUpdate,
} from '../../../src/store/store.js'
import { StoreError } from '../../../src/store/store.js'
import { parseTraceId } from '../../../src/util/u64.js'

export interface StoreContractOptions {
  /**
   * Opens the data of `closed` again (same file or schema) after the suite closed it; give it for
   * durable stores so the suite can check that committed writes survive a restart.
   */
  readonly reopen?: (closed: Store) => Promise<Store>
}

const T0 = 1_767_225_600_000
const HOUR_MS = 3_600_000
const DAY_MS = 24 * HOUR_MS
const U64_MAX = parseTraceId('18446744073709551615')

function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

function newKey(orgId: string, createdAt: number): KeyRecord {
  const publicKey = randomBytes(32)
  return {
    kid: sha256Hex(publicKey).slice(0, 40),
    orgId,
    status: 'active',
    publicKey,
    privateKey: randomBytes(48),
    createdAt,
    retiredAt: null,
  }
}

function newToken(orgId: string, fields: Partial<TokenRecord> = {}): TokenRecord {
  return {
    id: randomUUID(),
    orgId,
    name: 'token',
    role: 'auditor',
    secretHash: sha256Hex(randomBytes(32)),
    createdAt: T0,
    expiresAt: null,
    lastUsedAt: null,
    revokedAt: null,
    ...fields,
  }
}

function newOrg(name: string, createdAt = T0): NewOrg {
  const org = { id: randomUUID(), name, createdAt }
  return {
    org,
    key: newKey(org.id, createdAt),
    adminToken: newToken(org.id, { name: 'initial-admin', role: 'admin', createdAt }),
  }
}

/** A draft whose line names its rt and trace id (with non-ASCII text), recording each render. */
function draft(
  type: EventType,
  eventTsMs: number,
  traceId = parseTraceId('42'),
): EventDraft & { renderedRts: number[] } {
  const renderedRts: number[] = []
  return {
    type,
    eventTsMs,
    traceId,
    renderedRts,
    render(rt) {
      renderedRts.push(rt)
      return `{"event_ts_ms":${eventTsMs},"principal_name":"Zoë 🛡","rt":${rt},"trace_id":${traceId},"type":"${type}"}`
    },
  }
}

const inlineSettings: EndpointSettings = {
  endpoint: 'https://siem.example.com/konnect',
  authorization: 'Splunk 00000000-aaaa',
  logFormat: 'json',
  skipSslVerification: false,
}

function newDestination(orgId: string, fields: Partial<DestinationRecord> = {}): DestinationRecord {
  return {
    id: randomUUID(),
    orgId,
    name: `destination-${randomUUID()}`,
    endpoint: 'https://siem.example.com/destination',
    authorization: 'Bearer destination-secret',
    logFormat: 'cef',
    skipSslVerification: false,
    createdAt: T0,
    updatedAt: T0,
    ...fields,
  }
}

function failingDraft(): EventDraft {
  return {
    type: 'authorization',
    eventTsMs: T0,
    traceId: parseTraceId('7'),
    render() {
      throw new Error('signer unavailable')
    },
  }
}

function drafts(count: number, type: EventType = 'authentication'): EventDraft[] {
  return Array.from({ length: count }, (_, index) => draft(type, T0 + index))
}

async function expectStoreError(promise: Promise<unknown>, kind: StoreError['kind']): Promise<void> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(StoreError)
  expect(error).toMatchObject({ kind })
}

export function storeContract(name: string, open: () => Promise<Store>, options: StoreContractOptions = {}): void {
  describe(`store contract: ${name}`, () => {
    let store: Store
    let init: NewOrg

    beforeEach(async () => {
      store = await open()
      init = newOrg('default')
      await store.bootstrap(init)
    })
    afterEach(async () => {
      await store.close()
    })

    const allEvents = (orgId: string) =>
      store.readEvents({ orgId, afterSequence: 0, throughSequence: Number.MAX_SAFE_INTEGER, limit: 1000 })

    describe('orgs and bootstrap', () => {
      it('bootstraps the org, key and admin token', async () => {
        expect(await store.listOrgs()).toEqual([init.org])
        expect(await store.findOrg(init.org.id)).toEqual(init.org)
        expect(await store.findOrgByName('default')).toEqual(init.org)
        expect(await store.activeKey(init.org.id)).toEqual(init.key)
        expect(await store.findTokenByHash(init.adminToken.secretHash)).toEqual(init.adminToken)
      })

      it('bootstraps only once: a second call returns false and changes nothing', async () => {
        const second = newOrg('other')
        expect(await store.bootstrap(second)).toBe(false)
        expect(await store.listOrgs()).toEqual([init.org])
        expect(await store.findTokenByHash(second.adminToken.secretHash)).toBeNull()
        await expectStoreError(store.activeKey(second.org.id), 'not_found')
      })

      it('creates further orgs, listed in creation order', async () => {
        const second = newOrg('second', T0 + 1)
        const third = newOrg('third', T0 + 2)
        await store.createOrg(third)
        await store.createOrg(second)
        expect(await store.listOrgs()).toEqual([init.org, second.org, third.org])
        expect(await store.findOrgByName('third')).toEqual(third.org)
        expect(await store.activeKey(third.org.id)).toEqual(third.key)
        expect(await store.findTokenByHash(third.adminToken.secretHash)).toEqual(third.adminToken)
      })

      it('refuses a duplicate org name with conflict and stores none of it', async () => {
        const duplicate = newOrg('default')
        await expectStoreError(store.createOrg(duplicate), 'conflict')
        expect(await store.listOrgs()).toEqual([init.org])
        expect(await store.findTokenByHash(duplicate.adminToken.secretHash)).toBeNull()
        expect(await store.listKeys(duplicate.org.id)).toEqual([])
      })

      it('returns null for unknown orgs', async () => {
        expect(await store.findOrg(randomUUID())).toBeNull()
        expect(await store.findOrgByName('nope')).toBeNull()
      })
    })

    describe('tokens', () => {
      it('inserts and finds a token by hash with every field intact', async () => {
        const token = newToken(init.org.id, { role: 'ingest', expiresAt: T0 + 86_400_000, lastUsedAt: T0 + 5 })
        await store.insertToken(token)
        expect(await store.findTokenByHash(token.secretHash)).toEqual(token)
        expect(await store.findTokenByHash(sha256Hex(randomBytes(32)))).toBeNull()
      })

      it('refuses a duplicate secret hash with conflict', async () => {
        const token = newToken(init.org.id, { secretHash: init.adminToken.secretHash })
        await expectStoreError(store.insertToken(token), 'conflict')
      })

      it('refuses a token for an unknown org with not_found', async () => {
        await expectStoreError(store.insertToken(newToken(randomUUID())), 'not_found')
      })

      it('lists by created_at then id, paging with an id cursor, only the given org', async () => {
        const other = newOrg('other')
        await store.createOrg(other)
        const idOf = (suffix: string) => `00000000-0000-4000-8000-00000000000${suffix}`
        const late = newToken(init.org.id, { id: idOf('a'), createdAt: T0 + 2 })
        const sameTimeB = newToken(init.org.id, { id: idOf('b'), createdAt: T0 + 1 })
        const sameTimeC = newToken(init.org.id, { id: idOf('c'), createdAt: T0 + 1 })
        for (const token of [late, sameTimeC, sameTimeB]) await store.insertToken(token)
        const expected = [init.adminToken, sameTimeB, sameTimeC, late]

        const orgId = init.org.id
        expect(await store.listTokens({ orgId, limit: 10 })).toEqual(expected)
        expect(await store.listTokens({ orgId, limit: 2 })).toEqual(expected.slice(0, 2))
        expect(await store.listTokens({ orgId, after: sameTimeB.id, limit: 2 })).toEqual(expected.slice(2, 4))
        expect(await store.listTokens({ orgId, after: late.id, limit: 2 })).toEqual([])
        expect(await store.listTokens({ orgId: other.org.id, limit: 10 })).toEqual([other.adminToken])
        // Backwards: the last `limit` before the position, still in ascending order.
        expect(await store.listTokens({ orgId, before: late.id, limit: 2 })).toEqual(expected.slice(1, 3))
        expect(await store.listTokens({ orgId, before: sameTimeC.id, limit: 10 })).toEqual(expected.slice(0, 2))
        expect(await store.listTokens({ orgId, before: init.adminToken.id, limit: 10 })).toEqual([])
      })

      it('treats a cursor from another org or an unknown id as the end of the list', async () => {
        const other = newOrg('other')
        await store.createOrg(other)
        const orgId = init.org.id
        for (const cursor of [other.adminToken.id, randomUUID()]) {
          expect(await store.listTokens({ orgId, after: cursor, limit: 10 })).toEqual([])
          expect(await store.listTokens({ orgId, before: cursor, limit: 10 })).toEqual([])
        }
      })

      it('counts unrevoked tokens, expired ones included', async () => {
        await store.insertToken(newToken(init.org.id, { expiresAt: T0 - 1 }))
        const revoked = newToken(init.org.id)
        await store.insertToken(revoked)
        await store.revokeToken(init.org.id, revoked.id, T0)
        expect(await store.countUnrevokedTokens(init.org.id)).toBe(2)
        expect(await store.countUnrevokedTokens(randomUUID())).toBe(0)
      })

      it('touches last_used_at, never moving it back', async () => {
        await store.touchToken(init.adminToken.id, T0 + 10)
        expect(await store.findTokenByHash(init.adminToken.secretHash)).toMatchObject({ lastUsedAt: T0 + 10 })
        await store.touchToken(init.adminToken.id, T0 + 5)
        expect(await store.findTokenByHash(init.adminToken.secretHash)).toMatchObject({ lastUsedAt: T0 + 10 })
        await expect(store.touchToken(randomUUID(), T0)).resolves.toBeUndefined()
      })

      it('revokes once, then reports already_revoked', async () => {
        const token = newToken(init.org.id)
        await store.insertToken(token)
        expect(await store.revokeToken(init.org.id, token.id, T0 + 7)).toBe('revoked')
        expect(await store.findTokenByHash(token.secretHash)).toMatchObject({ revokedAt: T0 + 7 })
        expect(await store.revokeToken(init.org.id, token.id, T0 + 9)).toBe('already_revoked')
        expect(await store.findTokenByHash(token.secretHash)).toMatchObject({ revokedAt: T0 + 7 })
      })

      it("reports not_found for an unknown id and for another org's token, revoking nothing", async () => {
        const other = newOrg('other')
        await store.createOrg(other)
        const token = newToken(other.org.id)
        await store.insertToken(token)
        expect(await store.revokeToken(init.org.id, randomUUID(), T0)).toBe('not_found')
        expect(await store.revokeToken(init.org.id, token.id, T0)).toBe('not_found')
        expect(await store.findTokenByHash(token.secretHash)).toMatchObject({ revokedAt: null })
      })

      it("refuses to revoke the org's last active admin token", async () => {
        expect(await store.revokeToken(init.org.id, init.adminToken.id, T0)).toBe('last_admin')
        const second = newToken(init.org.id, { role: 'admin' })
        await store.insertToken(second)
        expect(await store.revokeToken(init.org.id, init.adminToken.id, T0)).toBe('revoked')
        expect(await store.revokeToken(init.org.id, second.id, T0)).toBe('last_admin')
        expect(await store.findTokenByHash(second.secretHash)).toMatchObject({ revokedAt: null })
      })

      it('does not count expired or revoked admin tokens as active', async () => {
        const expired = newToken(init.org.id, { role: 'admin', expiresAt: T0 })
        const revoked = newToken(init.org.id, { role: 'admin', revokedAt: T0 - 1 })
        await store.insertToken(expired)
        await store.insertToken(revoked)
        expect(await store.revokeToken(init.org.id, init.adminToken.id, T0)).toBe('last_admin')
        expect(await store.revokeToken(init.org.id, expired.id, T0)).toBe('revoked')
      })

      it('counts an admin token that expires later as active', async () => {
        const expiring = newToken(init.org.id, { role: 'admin', expiresAt: T0 + 1 })
        await store.insertToken(expiring)
        expect(await store.revokeToken(init.org.id, init.adminToken.id, T0)).toBe('revoked')
      })

      it('lets non-admin tokens go regardless of admins', async () => {
        const auditor = newToken(init.org.id, { role: 'auditor' })
        await store.insertToken(auditor)
        expect(await store.revokeToken(init.org.id, auditor.id, T0)).toBe('revoked')
      })
    })

    describe('signing keys', () => {
      it('returns the active key with its bytes intact', async () => {
        const key = await store.activeKey(init.org.id)
        expect(Buffer.isBuffer(key.publicKey)).toBe(true)
        expect(key.publicKey.equals(init.key.publicKey)).toBe(true)
        expect(key.privateKey.equals(init.key.privateKey)).toBe(true)
        await expectStoreError(store.activeKey(randomUUID()), 'not_found')
      })

      it('rotates: retires the active key and activates the new one', async () => {
        const second = newKey(init.org.id, T0 + 1000)
        const third = newKey(init.org.id, T0 + 2000)
        await store.rotateKey(init.org.id, second, T0 + 1000)
        await store.rotateKey(init.org.id, third, T0 + 2000)
        expect(await store.activeKey(init.org.id)).toEqual(third)
        expect(await store.listKeys(init.org.id)).toEqual([
          third,
          { ...second, status: 'retired', retiredAt: T0 + 2000 },
          { ...init.key, status: 'retired', retiredAt: T0 + 1000 },
        ])
      })

      it('keeps each org to its own keys', async () => {
        const other = newOrg('other')
        await store.createOrg(other)
        await store.rotateKey(other.org.id, newKey(other.org.id, T0 + 1), T0 + 1)
        expect(await store.listKeys(init.org.id)).toEqual([init.key])
        expect(await store.listKeys(other.org.id)).toHaveLength(2)
      })

      it('rotates atomically: a conflicting new key leaves the old one active', async () => {
        const clash = { ...newKey(init.org.id, T0 + 1), kid: init.key.kid }
        await expectStoreError(store.rotateKey(init.org.id, clash, T0 + 1), 'conflict')
        expect(await store.listKeys(init.org.id)).toEqual([init.key])
      })

      it('refuses to rotate an unknown org with not_found', async () => {
        const orgId = randomUUID()
        await expectStoreError(store.rotateKey(orgId, newKey(orgId, T0), T0), 'not_found')
      })
    })

    describe('events', () => {
      it('assigns consecutive sequences from 1 across batches', async () => {
        const first = await store.appendEvents(init.org.id, T0, drafts(3))
        const second = await store.appendEvents(init.org.id, T0, drafts(2))
        expect([...first, ...second].map((event) => event.sequence)).toEqual([1, 2, 3, 4, 5])
        expect(await store.headSequence(init.org.id)).toBe(5)
        expect((await allEvents(init.org.id)).map((event) => event.sequence)).toEqual([1, 2, 3, 4, 5])
      })

      it('keeps sequences independent per org', async () => {
        const other = newOrg('other')
        await store.createOrg(other)
        await store.appendEvents(init.org.id, T0, drafts(3))
        const committed = await store.appendEvents(other.org.id, T0, drafts(2))
        expect(committed.map((event) => event.sequence)).toEqual([1, 2])
        expect(await store.headSequence(init.org.id)).toBe(3)
        expect(await store.headSequence(other.org.id)).toBe(2)
      })

      it('stays gap-free under concurrent appends', async () => {
        const batches = await Promise.all(
          Array.from({ length: 10 }, () => store.appendEvents(init.org.id, T0, drafts(3))),
        )
        const sequences = batches.flat().map((event) => event.sequence)
        expect([...sequences].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, index) => index + 1))
        for (const batch of batches) {
          expect(batch.map((event) => event.sequence - (batch[0]?.sequence ?? 0))).toEqual([0, 1, 2])
        }
      })

      it('commits rt = max(now, previous rt), never going back when the clock does', async () => {
        const [first] = await store.appendEvents(init.org.id, T0 + 1000, drafts(1))
        const [behind] = await store.appendEvents(init.org.id, T0 + 500, drafts(1))
        const [ahead] = await store.appendEvents(init.org.id, T0 + 2000, drafts(1))
        expect([first?.rt, behind?.rt, ahead?.rt]).toEqual([T0 + 1000, T0 + 1000, T0 + 2000])
        expect((await allEvents(init.org.id)).map((event) => event.rt)).toEqual([T0 + 1000, T0 + 1000, T0 + 2000])
      })

      it('renders each draft once with the committed rt and stores its exact bytes', async () => {
        await store.appendEvents(init.org.id, T0 + 1000, drafts(1))
        const batch = [draft('authentication', T0), draft('gateway_access', T0 + 3)]
        const committed = await store.appendEvents(init.org.id, T0, batch)
        expect(committed.map((event) => event.rt)).toEqual([T0 + 1000, T0 + 1000])
        expect(batch.map((each) => each.renderedRts)).toEqual([[T0 + 1000], [T0 + 1000]])

        const stored = await store.readEvents({
          orgId: init.org.id,
          afterSequence: 1,
          throughSequence: 3,
          limit: 10,
        })
        expect(stored.map((event) => ({ ...event, line: event.line.toString('utf8') }))).toEqual(
          batch.map((each, index) => ({
            sequence: index + 2,
            type: each.type,
            eventTsMs: each.eventTsMs,
            rt: T0 + 1000,
            line: each.render(T0 + 1000),
          })),
        )
        for (const event of stored) expect(Buffer.isBuffer(event.line)).toBe(true)
      })

      it('stores all drafts or none: a failing render leaves no event and no gap', async () => {
        await store.appendEvents(init.org.id, T0 + 1000, drafts(1))
        const batch = [draft('authentication', T0), failingDraft(), draft('authorization', T0)]
        await expect(store.appendEvents(init.org.id, T0 + 5000, batch)).rejects.toThrow('signer unavailable')
        expect(await store.headSequence(init.org.id)).toBe(1)
        expect(await allEvents(init.org.id)).toHaveLength(1)

        const [next] = await store.appendEvents(init.org.id, T0 + 2000, drafts(1))
        expect(next).toMatchObject({ sequence: 2, rt: T0 + 2000 })
      })

      it('keeps a trace_id above 2^53 exact', async () => {
        const [committed] = await store.appendEvents(init.org.id, T0, [draft('authentication', T0, U64_MAX)])
        expect(committed?.traceId).toBe('18446744073709551615')
        const [stored] = await allEvents(init.org.id)
        expect(stored?.line.toString('utf8')).toContain('"trace_id":18446744073709551615,')
      })

      it('refuses an unknown org with not_found', async () => {
        await expectStoreError(store.appendEvents(randomUUID(), T0, drafts(1)), 'not_found')
      })

      it('commits nothing for an empty batch', async () => {
        expect(await store.appendEvents(init.org.id, T0, [])).toEqual([])
        expect(await store.headSequence(init.org.id)).toBe(0)
      })

      it('reports head sequence 0 for an org without events', async () => {
        expect(await store.headSequence(init.org.id)).toBe(0)
        expect(await store.headSequence(randomUUID())).toBe(0)
      })

      describe('readEvents', () => {
        const types: EventType[] = ['authentication', 'authorization', 'gateway_access']
        // Sequence n has type types[n % 3] and event_ts T0 + 10 * (7 - n), so ts runs against sequence.
        beforeEach(async () => {
          const batch = Array.from({ length: 6 }, (_, index) =>
            draft(types[(index + 1) % 3] ?? 'authentication', T0 + 10 * (6 - index)),
          )
          await store.appendEvents(init.org.id, T0, batch)
          const other = newOrg('other')
          await store.createOrg(other)
          await store.appendEvents(other.org.id, T0, drafts(6))
        })
        const read = async (filters: Omit<Partial<EventQuery>, 'orgId'>) =>
          (
            await store.readEvents({
              orgId: init.org.id,
              afterSequence: 0,
              throughSequence: 6,
              limit: 100,
              ...filters,
            })
          ).map((event) => event.sequence)

        it('reads one org in ascending sequence order', async () => {
          expect(await read({})).toEqual([1, 2, 3, 4, 5, 6])
        })

        it('bounds by afterSequence (exclusive) and throughSequence (inclusive)', async () => {
          expect(await read({ afterSequence: 2, throughSequence: 5 })).toEqual([3, 4, 5])
          expect(await read({ afterSequence: 6, throughSequence: 6 })).toEqual([])
        })

        it('filters event_ts with inclusive bounds', async () => {
          expect(await read({ tsGte: T0 + 20, tsLte: T0 + 40 })).toEqual([3, 4, 5])
          expect(await read({ tsGte: T0 + 50 })).toEqual([1, 2])
          expect(await read({ tsLte: T0 + 10 })).toEqual([6])
        })

        it('filters by type', async () => {
          expect(await read({ type: 'authorization' })).toEqual([1, 4])
          expect(await read({ type: 'authentication', tsLte: T0 + 40 })).toEqual([3, 6])
        })

        it('stops at the limit', async () => {
          expect(await read({ limit: 2 })).toEqual([1, 2])
          expect(await read({ afterSequence: 2, limit: 2, type: 'gateway_access' })).toEqual([5])
        })

        it('reads the page that ends before beforeSequence, in ascending order', async () => {
          expect(await read({ beforeSequence: 5, limit: 2 })).toEqual([3, 4])
          expect(await read({ beforeSequence: 5 })).toEqual([1, 2, 3, 4])
          expect(await read({ beforeSequence: 1 })).toEqual([])
        })

        it('applies every other bound and filter to a page before a sequence', async () => {
          expect(await read({ beforeSequence: 6, type: 'authorization', limit: 1 })).toEqual([4])
          expect(await read({ beforeSequence: 4, afterSequence: 1 })).toEqual([2, 3])
          expect(await read({ beforeSequence: 9, throughSequence: 5, limit: 2 })).toEqual([4, 5])
          expect(await read({ beforeSequence: 6, tsGte: T0 + 40, limit: 5 })).toEqual([1, 2, 3])
        })
      })

      describe('countEvents', () => {
        const minutes = (count: number) => count * 60_000
        // event_ts: T0 + 1 min, + 5 min, + 59:59 (authentication, authorization, authentication),
        // T0 + 1 h (authorization), T0 + 3 h + 1 ms (authentication); another org has its own.
        beforeEach(async () => {
          await store.appendEvents(init.org.id, T0, [
            draft('authentication', T0 + minutes(1)),
            draft('authorization', T0 + minutes(5)),
            draft('authentication', T0 + HOUR_MS - 1000),
            draft('authorization', T0 + HOUR_MS),
            draft('authentication', T0 + 3 * HOUR_MS + 1),
          ])
          const other = newOrg('other')
          await store.createOrg(other)
          await store.appendEvents(other.org.id, T0, drafts(4))
        })
        const count = (filters: Partial<Omit<EventQuery, 'orgId'>> & { bucketMs?: number }) =>
          store.countEvents({ orgId: init.org.id, tsGte: T0, tsLte: T0 + 4 * HOUR_MS, bucketMs: HOUR_MS, ...filters })

        it('counts per bucket aligned to multiples of the bucket, omitting empty ones', async () => {
          expect(await count({})).toEqual([
            { startMs: T0, count: 3 },
            { startMs: T0 + HOUR_MS, count: 1 },
            { startMs: T0 + 3 * HOUR_MS, count: 1 },
          ])
          expect(await count({ bucketMs: DAY_MS })).toEqual([{ startMs: T0, count: 5 }])
        })

        it('bounds event_ts inclusively and filters by type', async () => {
          expect(await count({ tsGte: T0 + minutes(2), tsLte: T0 + HOUR_MS })).toEqual([
            { startMs: T0, count: 2 },
            { startMs: T0 + HOUR_MS, count: 1 },
          ])
          expect(await count({ type: 'authorization' })).toEqual([
            { startMs: T0, count: 1 },
            { startMs: T0 + HOUR_MS, count: 1 },
          ])
          expect(await count({ tsGte: T0 + 5 * HOUR_MS, tsLte: T0 + 6 * HOUR_MS })).toEqual([])
        })

        it('floors times before 1970 to their bucket start', async () => {
          await store.appendEvents(init.org.id, T0, [draft('authentication', -1)])
          expect(await count({ tsGte: -DAY_MS, tsLte: 0, bucketMs: minutes(1) })).toEqual([
            { startMs: -minutes(1), count: 1 },
          ])
        })
      })
    })

    describe('idempotency keys', () => {
      const claim = (key: string, nowMs = T0, requestHash = 'a'.repeat(64)): IdempotencyClaim => ({
        key,
        requestHash,
        expiredAtOrBeforeMs: nowMs - DAY_MS,
        responseStatus: 201,
        renderResponse: (committed) => JSON.stringify(committed.map((event) => event.sequence)),
      })
      const appendOnce = (key: string, nowMs = T0, requestHash?: string, orgId = init.org.id) =>
        store.appendEventsOnce(orgId, nowMs, drafts(2), claim(key, nowMs, requestHash))

      it('commits the events and keeps the response rendered from their sequences', async () => {
        const outcome = await appendOnce('key-1')
        const response = { requestHash: 'a'.repeat(64), status: 201, body: '[1,2]' }
        expect(outcome).toEqual({
          outcome: 'committed',
          events: [expect.objectContaining({ sequence: 1 }), expect.objectContaining({ sequence: 2 })],
          response,
        })
        expect(await store.findIdempotentResponse(init.org.id, 'key-1', T0 - DAY_MS)).toEqual(response)
        expect(await store.findIdempotentResponse(init.org.id, 'key-2', T0 - DAY_MS)).toBeNull()
      })

      it('stores nothing for a key already used and returns its first response, whatever the hash', async () => {
        await appendOnce('key-1')
        const again = await appendOnce('key-1', T0 + HOUR_MS, 'b'.repeat(64))
        expect(again).toEqual({
          outcome: 'exists',
          response: { requestHash: 'a'.repeat(64), status: 201, body: '[1,2]' },
        })
        expect(await store.headSequence(init.org.id)).toBe(2)
      })

      it('keeps keys per org', async () => {
        const other = newOrg('other')
        await store.createOrg(other)
        await appendOnce('shared')
        expect(await appendOnce('shared', T0, undefined, other.org.id)).toMatchObject({ outcome: 'committed' })
        expect(await store.headSequence(other.org.id)).toBe(2)
      })

      it('lets exactly one of concurrent appends with a new key store its events', async () => {
        const outcomes = await Promise.all(Array.from({ length: 5 }, () => appendOnce('race')))
        expect(outcomes.filter((outcome) => outcome.outcome === 'committed')).toHaveLength(1)
        expect(await store.headSequence(init.org.id)).toBe(2)
      })

      it('stores neither events nor key when a render fails', async () => {
        const failingResponse = {
          ...claim('broken'),
          renderResponse: (): string => {
            throw new Error('cannot render')
          },
        }
        await expect(store.appendEventsOnce(init.org.id, T0, drafts(1), failingResponse)).rejects.toThrow(
          'cannot render',
        )
        await expect(store.appendEventsOnce(init.org.id, T0, [failingDraft()], claim('broken'))).rejects.toThrow(
          'signer unavailable',
        )
        expect(await store.findIdempotentResponse(init.org.id, 'broken', 0)).toBeNull()
        expect(await store.headSequence(init.org.id)).toBe(0)
      })

      it('neither matches nor blocks a key once expired; a new use replaces it', async () => {
        await appendOnce('old')
        expect(await store.findIdempotentResponse(init.org.id, 'old', T0)).toBeNull()
        const reused = await appendOnce('old', T0 + DAY_MS, 'c'.repeat(64))
        expect(reused).toMatchObject({ outcome: 'committed', response: { requestHash: 'c'.repeat(64), body: '[3,4]' } })
        expect(await store.findIdempotentResponse(init.org.id, 'old', T0)).toMatchObject({ body: '[3,4]' })
      })

      it('prunes keys created at or before the time, at most maxKeys per call', async () => {
        await appendOnce('k1', T0)
        await appendOnce('k2', T0 + 1)
        await appendOnce('k3', T0 + 2)
        expect(await store.pruneIdempotencyKeys(T0 + 1, 1)).toBe(1)
        expect(await store.pruneIdempotencyKeys(T0 + 1, 10)).toBe(1)
        expect(await store.pruneIdempotencyKeys(T0 + 1, 10)).toBe(0)
        expect(await store.findIdempotentResponse(init.org.id, 'k1', 0)).toBeNull()
        expect(await store.findIdempotentResponse(init.org.id, 'k2', 0)).toBeNull()
        expect(await store.findIdempotentResponse(init.org.id, 'k3', 0)).toMatchObject({ body: '[5,6]' })
      })
    })

    describe('pruning', () => {
      const sequencesOf = async (orgId = init.org.id) => (await allEvents(orgId)).map((event) => event.sequence)

      it('deletes the prefix committed before the time and keeps the org head', async () => {
        await store.appendEvents(init.org.id, T0, drafts(3))
        await store.appendEvents(init.org.id, T0 + 1000, drafts(2))
        expect(await store.pruneEvents(init.org.id, T0 + 1000, 100)).toEqual({
          deletedEvents: 3,
          throughSequence: 3,
          undeliveredPruned: 0,
        })
        expect(await sequencesOf()).toEqual([4, 5])
        expect(await store.pruneEvents(init.org.id, T0 + 1000, 100)).toMatchObject({ deletedEvents: 0 })
        const [next] = await store.appendEvents(init.org.id, T0, drafts(1))
        expect(next).toMatchObject({ sequence: 6, rt: T0 + 1000 })
      })

      it('prunes by commit time, keeping a later event whose event_ts is older', async () => {
        await store.appendEvents(init.org.id, T0, drafts(2))
        await store.appendEvents(init.org.id, T0 + 5000, [draft('authentication', T0 - 10 * DAY_MS)])
        await store.pruneEvents(init.org.id, T0 + 1000, 100)
        expect(await sequencesOf()).toEqual([3])
      })

      it('deletes at most maxEvents per call, oldest first', async () => {
        await store.appendEvents(init.org.id, T0, drafts(5))
        expect(await store.pruneEvents(init.org.id, T0 + 1, 2)).toMatchObject({ deletedEvents: 2, throughSequence: 2 })
        expect(await sequencesOf()).toEqual([3, 4, 5])
        expect(await store.pruneEvents(init.org.id, T0 + 1, 2)).toMatchObject({ deletedEvents: 2, throughSequence: 4 })
        expect(await store.pruneEvents(init.org.id, T0 + 1, 2)).toMatchObject({ deletedEvents: 1, throughSequence: 5 })
        expect(await sequencesOf()).toEqual([])
        expect(await store.headSequence(init.org.id)).toBe(5)
      })

      it('leaves other orgs alone', async () => {
        const other = newOrg('other')
        await store.createOrg(other)
        await store.appendEvents(other.org.id, T0, drafts(2))
        await store.appendEvents(init.org.id, T0, drafts(2))
        await store.pruneEvents(init.org.id, T0 + 1, 100)
        expect(await sequencesOf(other.org.id)).toEqual([1, 2])
        expect(await store.pruneEvents(randomUUID(), T0 + 1, 100)).toMatchObject({ deletedEvents: 0 })
      })

      it('counts undelivered pruned events and moves the delivery cursor past them', async () => {
        await store.appendEvents(init.org.id, T0, drafts(2))
        await store.updateWebhook(init.org.id, T0, () => ({
          target: { mode: 'inline', settings: inlineSettings },
          enabled: true,
        }))
        await store.appendEvents(init.org.id, T0, drafts(3))
        await store.appendEvents(init.org.id, T0 + 1000, drafts(1))
        expect(await store.pruneEvents(init.org.id, T0 + 1, 4)).toEqual({
          deletedEvents: 4,
          throughSequence: 4,
          undeliveredPruned: 2,
        })
        expect(await store.pruneEvents(init.org.id, T0 + 1, 4)).toEqual({
          deletedEvents: 1,
          throughSequence: 5,
          undeliveredPruned: 1,
        })
        expect(await store.getWebhook(init.org.id)).toMatchObject({
          delivery: { deliveredSequence: 5, undeliveredPruned: 3 },
        })
      })

      it('keeps a delivery cursor that is already past the pruned events', async () => {
        await store.appendEvents(init.org.id, T0, drafts(3))
        await store.updateWebhook(init.org.id, T0, () => ({ target: { mode: 'inline', settings: inlineSettings } }))
        expect(await store.pruneEvents(init.org.id, T0 + 1, 2)).toMatchObject({ undeliveredPruned: 0 })
        expect(await store.getWebhook(init.org.id)).toMatchObject({
          delivery: { deliveredSequence: 3, undeliveredPruned: 0 },
        })
      })
    })

    describe('webhook', () => {
      const inline = (fields: Partial<EndpointSettings> = {}): WebhookTargetChange => ({
        mode: 'inline',
        settings: { ...inlineSettings, ...fields },
      })
      const configure = (orgId: string, change: WebhookChange, nowMs = T0) =>
        store.updateWebhook(orgId, nowMs, () => change)
      const webhookOf = async (update: Promise<WebhookUpdate>) => {
        const result = await update
        if (result.outcome !== 'updated') throw new Error(`expected an update, got ${result.outcome}`)
        return result.webhook
      }

      it('is unconfigured (null) until configured; deleting it then is a no-op', async () => {
        expect(await store.getWebhook(init.org.id)).toBeNull()
        await store.deleteWebhook(init.org.id)
        expect(await store.getWebhook(init.org.id)).toBeNull()
      })

      it('starts the delivery cursor at the head on first configuration, in a fresh delivery state', async () => {
        await store.appendEvents(init.org.id, T0, drafts(3))
        const saved = await webhookOf(configure(init.org.id, { target: inline(), enabled: true }, T0 + 5))
        const expected: ConfiguredWebhook = {
          orgId: init.org.id,
          target: { mode: 'inline', settings: inlineSettings },
          enabled: true,
          updatedAt: T0 + 5,
          delivery: {
            deliveredSequence: 3,
            status: 'active',
            lastAttempt: null,
            lastSuccessAt: null,
            nextAttemptAt: null,
            consecutiveFailures: 0,
            undeliveredPruned: 0,
            configRevision: expect.any(Number),
          },
        }
        expect(saved).toEqual(expected)
        expect(await store.getWebhook(init.org.id)).toEqual(expected)
      })

      it('keeps enabled false when the first configuration does not set it', async () => {
        const saved = await webhookOf(configure(init.org.id, { target: inline() }))
        expect(saved).toMatchObject({ enabled: false, delivery: { deliveredSequence: 0 } })
      })

      it('stores the authorization verbatim and null as none', async () => {
        const authorization = ' Splunk \tabc=  '
        expect(await webhookOf(configure(init.org.id, { target: inline({ authorization }) }))).toMatchObject({
          target: { settings: { authorization } },
        })
        expect(await webhookOf(configure(init.org.id, { target: inline({ authorization: null }) }))).toMatchObject({
          target: { settings: { authorization: null } },
        })
      })

      it('keeps the cursor on later changes; a target change or a flag change updates updated_at', async () => {
        await store.appendEvents(init.org.id, T0, drafts(2))
        await configure(init.org.id, { target: inline(), enabled: true }, T0 + 1)
        await store.appendEvents(init.org.id, T0, drafts(4))
        const retargeted = await webhookOf(
          configure(init.org.id, { target: inline({ endpoint: 'https://other.example/x', logFormat: 'cps' }) }, T0 + 2),
        )
        expect(retargeted).toMatchObject({
          enabled: true,
          updatedAt: T0 + 2,
          target: { settings: { endpoint: 'https://other.example/x', logFormat: 'cps' } },
          delivery: { deliveredSequence: 2 },
        })
        const paused = await webhookOf(configure(init.org.id, { enabled: false }, T0 + 3))
        expect(paused).toEqual({ ...retargeted, enabled: false, updatedAt: T0 + 3 })
      })

      it('lets decide see the committed webhook; null from decide changes nothing', async () => {
        const seen: Array<ConfiguredWebhook | null> = []
        const decideNothing = (current: ConfiguredWebhook | null) => {
          seen.push(current)
          return null
        }
        expect(await store.updateWebhook(init.org.id, T0, decideNothing)).toEqual({ outcome: 'updated', webhook: null })
        expect(await store.getWebhook(init.org.id)).toBeNull()
        const saved = await webhookOf(configure(init.org.id, { target: inline() }))
        expect(await store.updateWebhook(init.org.id, T0 + 9, decideNothing)).toEqual({
          outcome: 'updated',
          webhook: saved,
        })
        expect(seen).toEqual([null, saved])
      })

      it('serialises concurrent updates: each decides on the result of the one before', async () => {
        await configure(init.org.id, { target: inline({ endpoint: 'https://siem.example/0' }) })
        const bump = (current: ConfiguredWebhook | null): WebhookChange => {
          const endpoint = current?.target.mode === 'inline' ? current.target.settings.endpoint : ''
          return { target: inline({ endpoint: `${endpoint}+` }) }
        }
        await Promise.all(Array.from({ length: 5 }, () => store.updateWebhook(init.org.id, T0, bump)))
        expect(await store.getWebhook(init.org.id)).toMatchObject({
          target: { settings: { endpoint: 'https://siem.example/0+++++' } },
        })
      })

      it('stores nothing when decide throws', async () => {
        const refuse = () => {
          throw new Error('refused')
        }
        await expect(store.updateWebhook(init.org.id, T0, refuse)).rejects.toThrow('refused')
        expect(await store.getWebhook(init.org.id)).toBeNull()
        const saved = await webhookOf(configure(init.org.id, { target: inline() }))
        await expect(store.updateWebhook(init.org.id, T0 + 1, refuse)).rejects.toThrow('refused')
        expect(await store.getWebhook(init.org.id)).toEqual(saved)
      })

      it('refuses to configure without a target, storing nothing', async () => {
        await expect(configure(init.org.id, { enabled: true })).rejects.toThrow(RangeError)
        expect(await store.getWebhook(init.org.id)).toBeNull()
      })

      it('refuses an unknown org with not_found', async () => {
        await expectStoreError(configure(randomUUID(), { target: inline() }), 'not_found')
      })

      it('references a destination of its org, resolved on read, discarding inline settings', async () => {
        const destination = newDestination(init.org.id)
        await store.insertDestination(destination, 100)
        await configure(init.org.id, { target: inline({ authorization: 'secret' }), enabled: true })
        const referenced = await webhookOf(
          configure(init.org.id, { target: { mode: 'destination', destinationId: destination.id } }, T0 + 1),
        )
        expect(referenced).toMatchObject({
          enabled: true,
          updatedAt: T0 + 1,
          target: { mode: 'destination', destination },
        })
        expect(await store.getWebhook(init.org.id)).toEqual(referenced)
        expect(JSON.stringify(referenced)).not.toContain(inlineSettings.endpoint)
      })

      it('answers unknown_destination for an unknown or foreign destination, storing nothing', async () => {
        const other = newOrg('other')
        await store.createOrg(other)
        const foreign = newDestination(other.org.id)
        await store.insertDestination(foreign, 100)
        for (const destinationId of [randomUUID(), foreign.id]) {
          expect(await configure(init.org.id, { target: { mode: 'destination', destinationId } })).toEqual({
            outcome: 'unknown_destination',
          })
        }
        expect(await store.getWebhook(init.org.id)).toBeNull()
        const saved = await webhookOf(configure(init.org.id, { target: inline() }))
        expect(
          await configure(init.org.id, { target: { mode: 'destination', destinationId: foreign.id }, enabled: true }),
        ).toEqual({ outcome: 'unknown_destination' })
        expect(await store.getWebhook(init.org.id)).toEqual(saved)
      })

      it('deletes: unconfigured again, and the next configuration starts at the new head', async () => {
        await store.appendEvents(init.org.id, T0, drafts(2))
        await configure(init.org.id, { target: inline(), enabled: true })
        await store.deleteWebhook(init.org.id)
        expect(await store.getWebhook(init.org.id)).toBeNull()
        await store.appendEvents(init.org.id, T0, drafts(3))
        const again = await webhookOf(configure(init.org.id, { target: inline() }))
        expect(again).toMatchObject({ enabled: false, delivery: { deliveredSequence: 5 } })
      })

      it('keeps each org to its own webhook', async () => {
        const other = newOrg('other')
        await store.createOrg(other)
        await configure(init.org.id, { target: inline() })
        expect(await store.getWebhook(other.org.id)).toBeNull()
        await store.deleteWebhook(other.org.id)
        expect(await store.getWebhook(init.org.id)).not.toBeNull()
      })
    })

    describe('delivery state', () => {
      const configure = (change: WebhookChange, nowMs = T0) => store.updateWebhook(init.org.id, nowMs, () => change)
      const inline = (fields: Partial<EndpointSettings> = {}): WebhookTargetChange => ({
        mode: 'inline',
        settings: { ...inlineSettings, ...fields },
      })
      const delivery = async () => {
        const webhook = await store.getWebhook(init.org.id)
        if (webhook === null) throw new Error('the webhook is unconfigured')
        return webhook.delivery
      }
      const attempt = (atMs: number, responseCode: number, responseMessage = 'Internal Server Error') => ({
        atMs,
        responseCode,
        responseMessage,
      })
      const fail = async (nextAttemptAtMs: number | null, status: 'active' | 'inactive' = 'active', atMs = T0 + 10) =>
        store.recordDeliveryFailure(init.org.id, {
          attempt: attempt(atMs, 500),
          configRevision: (await delivery()).configRevision,
          status,
          nextAttemptAtMs,
        })

      beforeEach(async () => {
        await store.appendEvents(init.org.id, T0, drafts(2))
        await configure({ target: inline(), enabled: true })
        await store.appendEvents(init.org.id, T0, drafts(5))
      })

      it('records failures with the cursor kept: count, status, next attempt and last attempt', async () => {
        expect(await fail(T0 + 1010)).toBe(true)
        expect(await fail(T0 + 30_020, 'inactive', T0 + 20)).toBe(true)
        expect(await delivery()).toMatchObject({
          deliveredSequence: 2,
          status: 'inactive',
          consecutiveFailures: 2,
          nextAttemptAt: T0 + 30_020,
          lastAttempt: attempt(T0 + 20, 500),
          lastSuccessAt: null,
        })
        expect(await fail(null, 'inactive')).toBe(true)
        expect(await delivery()).toMatchObject({ nextAttemptAt: null, consecutiveFailures: 3 })
      })

      it('records a success: cursor forward, active, failures and schedule cleared, last success set', async () => {
        await fail(T0 + 1010, 'inactive')
        await store.recordDeliverySuccess(init.org.id, 5, attempt(T0 + 50, 204, 'No Content'))
        expect(await delivery()).toMatchObject({
          deliveredSequence: 5,
          status: 'active',
          consecutiveFailures: 0,
          nextAttemptAt: null,
          lastAttempt: attempt(T0 + 50, 204, 'No Content'),
          lastSuccessAt: T0 + 50,
        })
      })

      it('never moves the cursor back, e.g. after pruning moved it past the delivered batch', async () => {
        await store.pruneEvents(init.org.id, T0 + 1, 6)
        expect((await delivery()).deliveredSequence).toBe(6)
        await store.recordDeliverySuccess(init.org.id, 4, attempt(T0 + 50, 200, 'OK'))
        expect(await delivery()).toMatchObject({ deliveredSequence: 6, lastSuccessAt: T0 + 50 })
      })

      it('keeps a failure out when the configuration changed since its attempt; a flag change does not count', async () => {
        const { configRevision } = await delivery()
        const failure = {
          attempt: attempt(T0 + 10, 503),
          configRevision,
          status: 'inactive',
          nextAttemptAtMs: T0,
        } as const
        await configure({ enabled: false })
        await configure({ enabled: true })
        expect((await delivery()).configRevision).toBe(configRevision)
        expect(await store.recordDeliveryFailure(init.org.id, failure)).toBe(true)
        await configure({ target: inline({ endpoint: 'https://siem.example.com/new' }) })
        expect(await store.recordDeliveryFailure(init.org.id, failure)).toBe(false)
        expect(await delivery()).toMatchObject({ status: 'active', consecutiveFailures: 0, nextAttemptAt: null })
      })

      it('changes the revision when the referenced destination changes what or where it sends, not its name', async () => {
        const destination = newDestination(init.org.id)
        await store.insertDestination(destination, 100)
        await configure({ target: { mode: 'destination', destinationId: destination.id } })
        const referenced = (await delivery()).configRevision
        await store.updateDestination(init.org.id, destination.id, { name: 'renamed' }, T0 + 1)
        expect((await delivery()).configRevision).toBe(referenced)
        await store.updateDestination(init.org.id, destination.id, { logFormat: 'json' }, T0 + 2)
        expect((await delivery()).configRevision).toBeGreaterThan(referenced)
      })

      it('never brings an old revision back after the webhook is deleted and configured again', async () => {
        const seen = new Set([(await delivery()).configRevision])
        for (let round = 0; round < 3; round++) {
          await store.deleteWebhook(init.org.id)
          await configure({ target: inline() })
          const { configRevision } = await delivery()
          expect(seen.has(configRevision)).toBe(false)
          seen.add(configRevision)
        }
      })

      it('records nothing while unconfigured', async () => {
        const { configRevision } = await delivery()
        await store.deleteWebhook(init.org.id)
        await store.recordDeliverySuccess(init.org.id, 5, attempt(T0, 200, 'OK'))
        const failure = { attempt: attempt(T0, 500), configRevision, status: 'active', nextAttemptAtMs: null } as const
        expect(await store.recordDeliveryFailure(init.org.id, failure)).toBe(false)
        expect(await store.getWebhook(init.org.id)).toBeNull()
      })

      it('keeps each org to its own delivery state', async () => {
        const other = newOrg('other')
        await store.createOrg(other)
        await store.updateWebhook(other.org.id, T0, () => ({ target: inline(), enabled: true }))
        await store.recordDeliverySuccess(init.org.id, 7, attempt(T0, 200, 'OK'))
        await fail(T0 + 1000)
        expect(await store.getWebhook(other.org.id)).toMatchObject({
          delivery: { deliveredSequence: 0, lastAttempt: null, consecutiveFailures: 0 },
        })
      })

      it('tells listeners about committed webhook and destination changes, until they unsubscribe', async () => {
        const destination = newDestination(init.org.id)
        await store.insertDestination(destination, 100)
        const heard: Array<{ orgId: string; webhook: Promise<ConfiguredWebhook | null> }> = []
        const unsubscribe = store.onWebhookChange((orgId) => heard.push({ orgId, webhook: store.getWebhook(orgId) }))
        await configure({ target: inline({ logFormat: 'cps' }) })
        await configure({ enabled: false })
        await store.updateDestination(init.org.id, destination.id, { name: 'renamed' }, T0 + 1)
        await store.deleteWebhook(init.org.id)
        await store.appendEvents(init.org.id, T0, drafts(1))
        await store.recordDeliverySuccess(init.org.id, 3, attempt(T0, 200, 'OK'))
        unsubscribe()
        await configure({ target: inline() })
        expect(heard.map(({ orgId }) => orgId)).toEqual(new Array(4).fill(init.org.id))
        const [retargeted, paused, , deleted] = await Promise.all(heard.map(({ webhook }) => webhook))
        expect(retargeted).toMatchObject({ target: { settings: { logFormat: 'cps' } } })
        expect(paused).toMatchObject({ enabled: false })
        expect(deleted).toBeNull()
      })
    })

    describe('destinations', () => {
      it('inserts and finds a destination with every field intact, only in its org', async () => {
        const destination = newDestination(init.org.id, { authorization: 'Bearer\t x ', skipSslVerification: true })
        expect(await store.insertDestination(destination, 100)).toBe('inserted')
        expect(await store.findDestination(init.org.id, destination.id)).toEqual(destination)
        const other = newOrg('other')
        await store.createOrg(other)
        expect(await store.findDestination(other.org.id, destination.id)).toBeNull()
        expect(await store.findDestination(init.org.id, randomUUID())).toBeNull()
      })

      it('refuses a duplicate name in the org with conflict; other orgs may reuse it', async () => {
        await store.insertDestination(newDestination(init.org.id, { name: 'splunk' }), 100)
        await expectStoreError(
          store.insertDestination(newDestination(init.org.id, { name: 'splunk' }), 100),
          'conflict',
        )
        const other = newOrg('other')
        await store.createOrg(other)
        expect(await store.insertDestination(newDestination(other.org.id, { name: 'splunk' }), 100)).toBe('inserted')
        expect(await store.listDestinations({ orgId: init.org.id, limit: 10 })).toHaveLength(1)
      })

      it('refuses a destination of an unknown org with not_found', async () => {
        await expectStoreError(store.insertDestination(newDestination(randomUUID()), 100), 'not_found')
      })

      it('stops at the per-org maximum, counting each org apart', async () => {
        for (const name of ['a', 'b']) {
          expect(await store.insertDestination(newDestination(init.org.id, { name }), 2)).toBe('inserted')
        }
        expect(await store.insertDestination(newDestination(init.org.id, { name: 'c' }), 2)).toBe('limit_reached')
        expect(await store.listDestinations({ orgId: init.org.id, limit: 10 })).toHaveLength(2)
        const other = newOrg('other')
        await store.createOrg(other)
        expect(await store.insertDestination(newDestination(other.org.id, { name: 'c' }), 2)).toBe('inserted')
      })

      describe('listDestinations', () => {
        const idOf = (digit: number) => `00000000-0000-4000-8000-00000000000${digit}`
        const stored: DestinationRecord[] = []
        beforeEach(async () => {
          stored.length = 0
          const rows: Array<[number, string, number]> = [
            [3, 'Splunk-Prod', T0 + 2],
            [1, 'splunk-dev', T0 + 1],
            [2, 'Zoë 50%_off', T0 + 1],
            [4, 'elastic', T0 + 3],
          ]
          for (const [digit, name, createdAt] of rows) {
            const destination = newDestination(init.org.id, { id: idOf(digit), name, createdAt, updatedAt: createdAt })
            await store.insertDestination(destination, 100)
            stored.push(destination)
          }
          stored.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
          const other = newOrg('other')
          await store.createOrg(other)
          await store.insertDestination(newDestination(other.org.id, { name: 'splunk-other' }), 100)
        })
        const names = async (query: Omit<DestinationQuery, 'orgId' | 'limit'> & { limit?: number }) =>
          (await store.listDestinations({ orgId: init.org.id, limit: 100, ...query })).map((each) => each.name)
        const positionOf = (name: string): DestinationPosition => {
          const found = stored.find((each) => each.name === name)
          if (found === undefined) throw new Error(`no destination ${name}`)
          return { createdAt: found.createdAt, id: found.id }
        }

        it('orders one org by created_at then id', async () => {
          expect(await names({})).toEqual(['splunk-dev', 'Zoë 50%_off', 'Splunk-Prod', 'elastic'])
          expect(await store.listDestinations({ orgId: init.org.id, limit: 100 })).toEqual(stored)
        })

        it('pages forward after a position and backward before one, in ascending order', async () => {
          expect(await names({ limit: 2 })).toEqual(['splunk-dev', 'Zoë 50%_off'])
          expect(await names({ after: positionOf('Zoë 50%_off'), limit: 2 })).toEqual(['Splunk-Prod', 'elastic'])
          expect(await names({ after: positionOf('elastic') })).toEqual([])
          expect(await names({ before: positionOf('elastic'), limit: 2 })).toEqual(['Zoë 50%_off', 'Splunk-Prod'])
          expect(await names({ before: positionOf('splunk-dev') })).toEqual([])
        })

        it('pages by position, so a deleted cursor row does not end the list', async () => {
          const position = positionOf('Zoë 50%_off')
          expect(await store.deleteDestination(init.org.id, position.id)).toBe('deleted')
          expect(await names({ after: position })).toEqual(['Splunk-Prod', 'elastic'])
        })

        it('filters by exact name', async () => {
          expect(await names({ nameEquals: 'splunk-dev' })).toEqual(['splunk-dev'])
          expect(await names({ nameEquals: 'SPLUNK-DEV' })).toEqual([])
        })

        it('filters by a case-insensitive substring, Unicode and wildcard characters literal', async () => {
          expect(await names({ nameContains: 'SPLUNK' })).toEqual(['splunk-dev', 'Splunk-Prod'])
          expect(await names({ nameContains: 'zOË' })).toEqual(['Zoë 50%_off'])
          expect(await names({ nameContains: '%_' })).toEqual(['Zoë 50%_off'])
          expect(await names({ nameContains: '_' })).toEqual(['Zoë 50%_off'])
          expect(await names({ nameContains: 'splunk', after: positionOf('splunk-dev') })).toEqual(['Splunk-Prod'])
        })
      })

      it('updates the given fields only, with updated_at; an empty change writes nothing', async () => {
        const destination = newDestination(init.org.id)
        await store.insertDestination(destination, 100)
        const updated = await store.updateDestination(
          init.org.id,
          destination.id,
          { logFormat: 'cps', skipSslVerification: true, authorization: 'new' },
          T0 + 10,
        )
        const expected = {
          ...destination,
          logFormat: 'cps',
          skipSslVerification: true,
          authorization: 'new',
          updatedAt: T0 + 10,
        }
        expect(updated).toEqual(expected)
        expect(await store.findDestination(init.org.id, destination.id)).toEqual(expected)
        expect(await store.updateDestination(init.org.id, destination.id, {}, T0 + 20)).toEqual(expected)
        expect(await store.findDestination(init.org.id, destination.id)).toEqual(expected)
      })

      it('answers null for an unknown or foreign destination, changing nothing', async () => {
        const other = newOrg('other')
        await store.createOrg(other)
        const foreign = newDestination(other.org.id)
        await store.insertDestination(foreign, 100)
        expect(await store.updateDestination(init.org.id, foreign.id, { name: 'mine' }, T0)).toBeNull()
        expect(await store.updateDestination(init.org.id, randomUUID(), { name: 'mine' }, T0)).toBeNull()
        expect(await store.findDestination(other.org.id, foreign.id)).toEqual(foreign)
      })

      it('refuses a rename onto an existing name with conflict, changing nothing', async () => {
        const first = newDestination(init.org.id, { name: 'first' })
        const second = newDestination(init.org.id, { name: 'second' })
        await store.insertDestination(first, 100)
        await store.insertDestination(second, 100)
        await expectStoreError(
          store.updateDestination(init.org.id, second.id, { name: 'first', endpoint: 'https://x.example' }, T0 + 1),
          'conflict',
        )
        expect(await store.findDestination(init.org.id, second.id)).toEqual(second)
      })

      it('applies a change to the referenced destination at once, keeping the webhook and its cursor', async () => {
        const destination = newDestination(init.org.id)
        await store.insertDestination(destination, 100)
        await store.appendEvents(init.org.id, T0, drafts(2))
        await store.updateWebhook(init.org.id, T0, () => ({
          target: { mode: 'destination', destinationId: destination.id },
          enabled: true,
        }))
        await store.updateDestination(init.org.id, destination.id, { endpoint: 'https://moved.example/in' }, T0 + 5)
        expect(await store.getWebhook(init.org.id)).toMatchObject({
          enabled: true,
          updatedAt: T0,
          target: { destination: { endpoint: 'https://moved.example/in', updatedAt: T0 + 5 } },
          delivery: { deliveredSequence: 2, status: 'active', consecutiveFailures: 0 },
        })
      })

      it('deletes an unreferenced destination; refuses one in use; not_found for unknown or foreign ids', async () => {
        const used = newDestination(init.org.id, { name: 'used' })
        const spare = newDestination(init.org.id, { name: 'spare' })
        await store.insertDestination(used, 100)
        await store.insertDestination(spare, 100)
        await store.updateWebhook(init.org.id, T0, () => ({ target: { mode: 'destination', destinationId: used.id } }))
        expect(await store.deleteDestination(init.org.id, used.id)).toBe('in_use')
        expect(await store.findDestination(init.org.id, used.id)).toEqual(used)
        expect(await store.deleteDestination(init.org.id, spare.id)).toBe('deleted')
        expect(await store.deleteDestination(init.org.id, spare.id)).toBe('not_found')
        const other = newOrg('other')
        await store.createOrg(other)
        expect(await store.deleteDestination(other.org.id, used.id)).toBe('not_found')

        await store.updateWebhook(init.org.id, T0, () => ({ target: { mode: 'inline', settings: inlineSettings } }))
        expect(await store.deleteDestination(init.org.id, used.id)).toBe('deleted')
      })

      it('keeps the destination when the webhook is deleted', async () => {
        const destination = newDestination(init.org.id)
        await store.insertDestination(destination, 100)
        await store.updateWebhook(init.org.id, T0, () => ({
          target: { mode: 'destination', destinationId: destination.id },
        }))
        await store.deleteWebhook(init.org.id)
        expect(await store.findDestination(init.org.id, destination.id)).toEqual(destination)
        expect(await store.deleteDestination(init.org.id, destination.id)).toBe('deleted')
      })
    })

    describe('replay jobs', () => {
      const enableWebhook = (orgId: string, enabled = true) =>
        store.updateWebhook(orgId, T0, (current) =>
          current === null ? { target: { mode: 'inline', settings: inlineSettings }, enabled } : { enabled },
        )
      const newJob = (orgId: string, fields: Partial<NewReplayJob> = {}): NewReplayJob => ({
        id: randomUUID(),
        orgId,
        startAtMs: T0,
        endAtMs: T0 + HOUR_MS,
        ...fields,
      })
      const accepted = async (job: NewReplayJob, nowMs = T0 + 10) => {
        const outcome = await store.submitReplayJob(job, nowMs)
        if (outcome.outcome !== 'accepted') throw new Error(`expected the job accepted, got ${outcome.outcome}`)
        return outcome.job
      }
      const running = async (job: NewReplayJob) => {
        await accepted(job)
        await store.queueReplayJob(job.orgId, job.id, T0 + 11)
        const started = await store.startReplayJob(job.orgId, job.id, T0 + 12)
        if (started === null) throw new Error('expected the job to start')
        return started
      }

      it('has none before the first submission', async () => {
        expect(await store.getReplayJob(init.org.id)).toBeNull()
      })

      it('refuses a job while the webhook is unconfigured or disabled, storing nothing', async () => {
        expect(await store.submitReplayJob(newJob(init.org.id), T0)).toEqual({ outcome: 'webhook_unavailable' })
        await enableWebhook(init.org.id, false)
        expect(await store.submitReplayJob(newJob(init.org.id), T0)).toEqual({ outcome: 'webhook_unavailable' })
        expect(await store.getReplayJob(init.org.id)).toBeNull()
      })

      it('stores an accepted job with empty progress and announces it to subscribers', async () => {
        await enableWebhook(init.org.id)
        const announced: string[] = []
        const unsubscribe = store.onReplayJobSubmitted((orgId) => announced.push(orgId))
        const job = newJob(init.org.id)
        const expected: ReplayJob = {
          ...job,
          status: 'accepted',
          updatedAt: T0 + 10,
          throughSequence: null,
          total: 0,
          sent: 0,
          replayedSequence: 0,
          batchesSent: 0,
          error: null,
        }
        expect(await store.submitReplayJob(job, T0 + 10)).toEqual({ outcome: 'accepted', job: expected })
        expect(await store.getReplayJob(init.org.id)).toEqual(expected)
        expect(announced).toEqual([init.org.id])
        unsubscribe()
        await store.finishReplayJob(init.org.id, job.id, { status: 'failed', error: 'stop' }, T0 + 11)
        await accepted(newJob(init.org.id))
        expect(announced).toEqual([init.org.id])
      })

      it('refuses a second job while one is accepted, pending or running, then replaces an ended one', async () => {
        await enableWebhook(init.org.id)
        const first = newJob(init.org.id)
        await accepted(first)
        const refused = async () => {
          const outcome = await store.submitReplayJob(newJob(init.org.id, { startAtMs: T0 + 1 }), T0 + 20)
          expect(outcome).toMatchObject({ outcome: 'job_active', job: { id: first.id } })
        }
        await refused()
        expect(await store.queueReplayJob(init.org.id, first.id, T0 + 11)).toMatchObject({ status: 'pending' })
        await refused()
        expect(await store.startReplayJob(init.org.id, first.id, T0 + 12)).toMatchObject({ status: 'running' })
        await refused()
        expect(await store.finishReplayJob(init.org.id, first.id, { status: 'completed' }, T0 + 13)).toBe(true)

        const second = newJob(init.org.id, { startAtMs: T0 - HOUR_MS })
        const replaced = await accepted(second, T0 + 30)
        expect(replaced).toMatchObject({ id: second.id, status: 'accepted', total: 0, throughSequence: null })
        expect(await store.finishReplayJob(init.org.id, second.id, { status: 'failed', error: 'x' }, T0 + 31)).toBe(
          true,
        )
        expect((await accepted(newJob(init.org.id), T0 + 40)).status).toBe('accepted')
      })

      it('checks the webhook before the running job (SPEC.md §5.6 order)', async () => {
        await enableWebhook(init.org.id)
        await accepted(newJob(init.org.id))
        await enableWebhook(init.org.id, false)
        expect(await store.submitReplayJob(newJob(init.org.id), T0 + 20)).toEqual({ outcome: 'webhook_unavailable' })
      })

      it('moves accepted → pending → running only for the named job and its current state', async () => {
        await enableWebhook(init.org.id)
        const job = newJob(init.org.id)
        await accepted(job)
        expect(await store.startReplayJob(init.org.id, job.id, T0 + 11)).toBeNull()
        expect(await store.queueReplayJob(init.org.id, randomUUID(), T0 + 11)).toBeNull()
        expect(await store.queueReplayJob(init.org.id, job.id, T0 + 11)).toMatchObject({
          status: 'pending',
          updatedAt: T0 + 11,
        })
        expect(await store.queueReplayJob(init.org.id, job.id, T0 + 12)).toBeNull()
        expect(await store.startReplayJob(init.org.id, randomUUID(), T0 + 12)).toBeNull()
        expect(await store.startReplayJob(init.org.id, job.id, T0 + 12)).toMatchObject({
          status: 'running',
          updatedAt: T0 + 12,
        })
        expect(await store.startReplayJob(init.org.id, job.id, T0 + 13)).toBeNull()
      })

      it('fixes the selection when it starts: the window inclusive at both ends, up to the head of that moment', async () => {
        await enableWebhook(init.org.id)
        const inWindow = [T0, T0 + 1000, T0 + HOUR_MS]
        const outside = [T0 - 1000, T0 + HOUR_MS + 1000]
        await store.appendEvents(
          init.org.id,
          T0,
          [...inWindow, ...outside].map((ts) => draft('authorization', ts)),
        )
        const job = newJob(init.org.id)
        const started = await running(job)
        expect(started).toMatchObject({ throughSequence: 5, total: 3, sent: 0, replayedSequence: 0 })
        await store.appendEvents(init.org.id, T0, [draft('authorization', T0 + 5)])
        expect(await store.getReplayJob(init.org.id)).toMatchObject({ throughSequence: 5, total: 3 })
        const selection = { orgId: init.org.id, startAtMs: T0, endAtMs: T0 + HOUR_MS }
        expect(await store.countReplaySelection({ ...selection, afterSequence: 0, throughSequence: 5 })).toBe(3)
        expect(await store.countReplaySelection({ ...selection, afterSequence: 1, throughSequence: 5 })).toBe(2)
        expect(await store.countReplaySelection({ ...selection, afterSequence: 0, throughSequence: 6 })).toBe(4)
      })

      it('records progress only for the running job, the cursor never moving back, and never the live cursor', async () => {
        await enableWebhook(init.org.id)
        await store.appendEvents(init.org.id, T0, drafts(4))
        const liveBefore = (await store.getWebhook(init.org.id))?.delivery
        const job = newJob(init.org.id)
        expect(await store.recordReplayProgress(init.org.id, job.id, { throughSequence: 1, events: 1 }, T0)).toBe(false)
        await running(job)
        expect(await store.recordReplayProgress(init.org.id, job.id, { throughSequence: 3, events: 2 }, T0 + 20)).toBe(
          true,
        )
        expect(await store.recordReplayProgress(init.org.id, randomUUID(), { throughSequence: 4, events: 1 }, T0)).toBe(
          false,
        )
        await store.recordReplayProgress(init.org.id, job.id, { throughSequence: 2, events: 1 }, T0 + 21)
        expect(await store.getReplayJob(init.org.id)).toMatchObject({
          replayedSequence: 3,
          sent: 3,
          batchesSent: 2,
          updatedAt: T0 + 21,
        })
        expect((await store.getWebhook(init.org.id))?.delivery).toEqual(liveBefore)
      })

      it('completes only a running job, fails any active one with its reason, and never ends one twice', async () => {
        await enableWebhook(init.org.id)
        const queued = newJob(init.org.id)
        await accepted(queued)
        expect(await store.finishReplayJob(init.org.id, queued.id, { status: 'completed' }, T0 + 20)).toBe(false)
        const failure = { status: 'failed', error: 'the webhook was disabled during the replay' } as const
        expect(await store.finishReplayJob(init.org.id, queued.id, failure, T0 + 21)).toBe(true)
        expect(await store.getReplayJob(init.org.id)).toMatchObject({
          status: 'failed',
          error: failure.error,
          updatedAt: T0 + 21,
        })
        expect(await store.finishReplayJob(init.org.id, queued.id, failure, T0 + 22)).toBe(false)

        const job = newJob(init.org.id)
        await running(job)
        expect(await store.finishReplayJob(init.org.id, randomUUID(), { status: 'completed' }, T0 + 30)).toBe(false)
        expect(await store.finishReplayJob(init.org.id, job.id, { status: 'completed' }, T0 + 31)).toBe(true)
        expect(await store.getReplayJob(init.org.id)).toMatchObject({ status: 'completed', error: null })
        expect(await store.finishReplayJob(init.org.id, job.id, failure, T0 + 32)).toBe(false)
        expect(await store.recordReplayProgress(init.org.id, job.id, { throughSequence: 9, events: 1 }, T0)).toBe(false)
      })

      it('keeps each org to its own job', async () => {
        const other = newOrg('other')
        await store.createOrg(other)
        await enableWebhook(init.org.id)
        await enableWebhook(other.org.id)
        const job = newJob(init.org.id)
        await accepted(job)
        expect((await accepted(newJob(other.org.id))).orgId).toBe(other.org.id)
        expect(await store.queueReplayJob(other.org.id, job.id, T0)).toBeNull()
        expect(await store.getReplayJob(init.org.id)).toMatchObject({ id: job.id, status: 'accepted' })
      })
    })

    describe('leases', () => {
      const LEASE_MS = 30_000
      const claim = (holder: string, nowMs: number, work: LeasedWork = 'delivery') =>
        store.claimLease({ orgId: init.org.id, work, holder, nowMs, leaseMs: LEASE_MS })

      it('gives a free lease to one holder and refuses it to another while it runs', async () => {
        expect(await claim('replica-a', T0)).toBe(true)
        expect(await claim('replica-b', T0 + 1)).toBe(false)
        expect(await claim('replica-b', T0 + LEASE_MS - 1)).toBe(false)
      })

      it('lets only one of many concurrent claimants win', async () => {
        const holders = Array.from({ length: 8 }, (_, i) => `replica-${i}`)
        const outcomes = await Promise.all(holders.map((holder) => claim(holder, T0)))
        expect(outcomes.filter(Boolean)).toHaveLength(1)
      })

      it('renews the holder’s lease, which then outlasts the first term', async () => {
        await claim('replica-a', T0)
        expect(await claim('replica-a', T0 + 10_000)).toBe(true)
        expect(await claim('replica-b', T0 + LEASE_MS)).toBe(false)
        expect(await claim('replica-b', T0 + 10_000 + LEASE_MS)).toBe(true)
      })

      it('lets another holder take a lapsed lease, after which the old holder cannot renew', async () => {
        await claim('replica-a', T0)
        expect(await claim('replica-b', T0 + LEASE_MS)).toBe(true)
        expect(await claim('replica-a', T0 + LEASE_MS + 1)).toBe(false)
      })

      it('frees a released lease at once, but only when its holder releases it', async () => {
        await claim('replica-a', T0)
        await store.releaseLease(init.org.id, 'delivery', 'replica-b')
        expect(await claim('replica-b', T0 + 1)).toBe(false)
        await store.releaseLease(init.org.id, 'delivery', 'replica-a')
        expect(await claim('replica-b', T0 + 2)).toBe(true)
      })

      it('keeps each kind of work and each org a lease of its own', async () => {
        const other = newOrg('other')
        await store.createOrg(other)
        expect(await claim('replica-a', T0, 'delivery')).toBe(true)
        expect(await claim('replica-b', T0, 'replay')).toBe(true)
        expect(await claim('replica-c', T0, 'pruning')).toBe(true)
        expect(
          await store.claimLease({ orgId: other.org.id, work: 'delivery', holder: 'replica-b', nowMs: T0, leaseMs: 1 }),
        ).toBe(true)
      })

      it('reports a lease of an unknown org as not found', async () => {
        await expectStoreError(
          store.claimLease({ orgId: randomUUID(), work: 'delivery', holder: 'replica-a', nowMs: T0, leaseMs: 1 }),
          'not_found',
        )
      })
    })

    describe('stream slots (the per-org stream limit across replicas)', () => {
      const LEASE_MS = 30_000
      const MAX = 3
      const claim = (holder: string, openHere: number, nowMs = T0) =>
        store.claimStreamSlot({ orgId: init.org.id, holder, openHere, maxPerOrg: MAX, nowMs, leaseMs: LEASE_MS })

      it('counts every holder’s streams while its lease holds, and its own from what it says', async () => {
        expect(await claim('replica-a', 0)).toBe(true)
        expect(await claim('replica-a', 1)).toBe(true)
        expect(await claim('replica-b', 0)).toBe(true)
        expect(await claim('replica-b', 1)).toBe(false)
        expect(await claim('replica-a', 2)).toBe(false)
        // A holder's own row never counts against it: what it has open is openHere.
        expect(await claim('replica-a', 0, T0 + 1)).toBe(true)
      })

      it('frees the slots of a holder that records fewer streams, or whose lease lapses', async () => {
        expect(await claim('replica-a', 0)).toBe(true)
        expect(await claim('replica-a', 1)).toBe(true)
        expect(await claim('replica-a', 2)).toBe(true)
        expect(await claim('replica-b', 0)).toBe(false)
        await store.recordStreamCounts('replica-a', [[init.org.id, 1]], T0 + 1, LEASE_MS)
        expect(await claim('replica-b', 0, T0 + 2)).toBe(true)
        expect(await claim('replica-b', 1, T0 + 3)).toBe(true)
        expect(await claim('replica-b', 2, T0 + 4)).toBe(false)
        // replica-a stops renewing: its stream lapses with its lease.
        expect(await claim('replica-b', 2, T0 + 1 + LEASE_MS)).toBe(true)
      })

      it('keeps each org’s count apart', async () => {
        const other = newOrg('other')
        await store.createOrg(other)
        for (let open = 0; open < MAX; open++) expect(await claim('replica-a', open)).toBe(true)
        const otherClaim = { orgId: other.org.id, holder: 'replica-b', openHere: 0, maxPerOrg: MAX, nowMs: T0 }
        expect(await store.claimStreamSlot({ ...otherClaim, leaseMs: LEASE_MS })).toBe(true)
      })

      it('lets concurrent claims of many holders take no more than the limit', async () => {
        const holders = Array.from({ length: 8 }, (_, i) => `replica-${i}`)
        const outcomes = await Promise.all(holders.map((holder) => claim(holder, 0)))
        expect(outcomes.filter(Boolean)).toHaveLength(MAX)
      })
    })

    describe('health', () => {
      it('pings while open and reports unavailable once closed', async () => {
        await expect(store.ping()).resolves.toBeUndefined()
        await store.close()
        await expectStoreError(store.ping(), 'unavailable')
        await expectStoreError(store.listOrgs(), 'unavailable')
      })
    })

    const { reopen } = options
    if (reopen !== undefined) {
      describe('durability', () => {
        it('keeps every committed write across close and reopen', async () => {
          const token = newToken(init.org.id, { role: 'ingest' })
          await store.insertToken(token)
          const newer = newKey(init.org.id, T0 + 1)
          await store.rotateKey(init.org.id, newer, T0 + 1)
          await store.appendEvents(init.org.id, T0 + 1000, [draft('authentication', T0, U64_MAX)])
          const before = {
            orgs: await store.listOrgs(),
            tokens: await store.listTokens({ orgId: init.org.id, limit: 10 }),
            keys: await store.listKeys(init.org.id),
            events: await allEvents(init.org.id),
          }
          await store.close()

          store = await reopen(store)
          expect({
            orgs: await store.listOrgs(),
            tokens: await store.listTokens({ orgId: init.org.id, limit: 10 }),
            keys: await store.listKeys(init.org.id),
            events: await allEvents(init.org.id),
          }).toEqual(before)
          expect(await store.bootstrap(newOrg('again'))).toBe(false)
        })

        it('continues sequence and rt where they were after reopen', async () => {
          await store.appendEvents(init.org.id, T0 + 1000, drafts(2))
          await store.close()
          store = await reopen(store)
          const [next] = await store.appendEvents(init.org.id, T0, drafts(1))
          expect(next).toMatchObject({ sequence: 3, rt: T0 + 1000 })
        })

        it('keeps the delivery state and revision across close and reopen', async () => {
          await store.appendEvents(init.org.id, T0, drafts(2))
          await store.updateWebhook(init.org.id, T0, () => ({
            target: { mode: 'inline', settings: inlineSettings },
            enabled: true,
          }))
          await store.appendEvents(init.org.id, T0, drafts(3))
          await store.recordDeliverySuccess(init.org.id, 4, { atMs: T0 + 1, responseCode: 200, responseMessage: 'OK' })
          const configured = await store.getWebhook(init.org.id)
          const configRevision = configured?.delivery.configRevision ?? -1
          await store.recordDeliveryFailure(init.org.id, {
            attempt: { atMs: T0 + 2, responseCode: 0, responseMessage: 'timeout after 15s' },
            configRevision,
            status: 'inactive',
            nextAttemptAtMs: T0 + 30_000,
          })
          const webhook = await store.getWebhook(init.org.id)
          await store.close()
          store = await reopen(store)
          expect(await store.getWebhook(init.org.id)).toEqual(webhook)
          expect(webhook?.delivery).toMatchObject({ deliveredSequence: 4, status: 'inactive', consecutiveFailures: 1 })
        })

        it('keeps the replay job and its progress across close and reopen', async () => {
          await store.appendEvents(init.org.id, T0, drafts(3))
          await store.updateWebhook(init.org.id, T0, () => ({
            target: { mode: 'inline', settings: inlineSettings },
            enabled: true,
          }))
          const id = randomUUID()
          await store.submitReplayJob({ id, orgId: init.org.id, startAtMs: T0, endAtMs: T0 + HOUR_MS }, T0 + 1)
          await store.queueReplayJob(init.org.id, id, T0 + 2)
          await store.startReplayJob(init.org.id, id, T0 + 3)
          await store.recordReplayProgress(init.org.id, id, { throughSequence: 2, events: 2 }, T0 + 4)
          const job = await store.getReplayJob(init.org.id)
          await store.close()
          store = await reopen(store)
          expect(await store.getReplayJob(init.org.id)).toEqual(job)
          expect(job).toMatchObject({ status: 'running', total: 3, sent: 2, replayedSequence: 2, throughSequence: 3 })
        })

        it('keeps the webhook, its cursor and destinations across close and reopen', async () => {
          const destination = newDestination(init.org.id)
          await store.insertDestination(destination, 100)
          await store.appendEvents(init.org.id, T0, drafts(2))
          await store.updateWebhook(init.org.id, T0 + 1, () => ({
            target: { mode: 'destination', destinationId: destination.id },
            enabled: true,
          }))
          const webhook = await store.getWebhook(init.org.id)
          await store.close()
          store = await reopen(store)
          expect(await store.getWebhook(init.org.id)).toEqual(webhook)
          expect(await store.listDestinations({ orgId: init.org.id, limit: 10 })).toEqual([destination])
        })
      })
    }
  })
}
