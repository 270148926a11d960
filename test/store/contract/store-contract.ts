// Owns the store contract suite (DESIGN.md §8, Keyv-style): every adapter runs it unchanged, so the
// guarantees of SPEC.md §8 (gap-free sequences, monotonic rt, all-or-nothing batches) hold for each.

import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { EventType } from '../../../src/core/events.js'
import type { EventDraft, EventQuery, KeyRecord, NewOrg, Store, TokenRecord } from '../../../src/store/store.js'
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

        expect(await store.listTokens(init.org.id, null, 10)).toEqual(expected)
        expect(await store.listTokens(init.org.id, null, 2)).toEqual(expected.slice(0, 2))
        expect(await store.listTokens(init.org.id, sameTimeB.id, 2)).toEqual(expected.slice(2, 4))
        expect(await store.listTokens(init.org.id, late.id, 2)).toEqual([])
        expect(await store.listTokens(other.org.id, null, 10)).toEqual([other.adminToken])
      })

      it('treats a cursor from another org or an unknown id as the end of the list', async () => {
        const other = newOrg('other')
        await store.createOrg(other)
        expect(await store.listTokens(init.org.id, other.adminToken.id, 10)).toEqual([])
        expect(await store.listTokens(init.org.id, randomUUID(), 10)).toEqual([])
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
            tokens: await store.listTokens(init.org.id, null, 10),
            keys: await store.listKeys(init.org.id),
            events: await allEvents(init.org.id),
          }
          await store.close()

          store = await reopen(store)
          expect({
            orgs: await store.listOrgs(),
            tokens: await store.listTokens(init.org.id, null, 10),
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
      })
    }
  })
}
