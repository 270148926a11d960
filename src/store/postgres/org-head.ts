// Owns reading an org's row as appends see it: its last sequence and last rt, the high-water marks
// new events are numbered and timed from; optionally locked for the rest of the transaction, which
// every write of one org queues behind.

import { orgNotFound } from '../records.js'
import type { NamedStatement, Queryable } from './connection.js'

export interface OrgHead {
  readonly lastSequence: number
  readonly lastRt: number
}

const SELECT_HEAD = 'SELECT last_sequence AS "lastSequence", last_rt AS "lastRt" FROM orgs WHERE id = $1'
const READ_HEAD: NamedStatement = { name: 'konnect_audit_org_head', text: SELECT_HEAD }

/** The org's head (StoreError not_found for an unknown org). */
export async function readOrgHead(db: Queryable, orgId: string): Promise<OrgHead> {
  const head = await db.row<OrgHead>(READ_HEAD, [orgId])
  if (head === null) throw orgNotFound(orgId)
  return head
}

/** The org's last sequence, 0 when it has none or is unknown. */
export async function headSequenceIn(db: Queryable, orgId: string): Promise<number> {
  return (await db.row<OrgHead>(READ_HEAD, [orgId]))?.lastSequence ?? 0
}

/** Locks the org's row for the rest of the transaction and returns its head. */
export async function lockOrg(tx: Queryable, orgId: string): Promise<OrgHead> {
  const head = await tx.row<OrgHead>(`${SELECT_HEAD} FOR UPDATE`, [orgId])
  if (head === null) throw orgNotFound(orgId)
  return head
}
