// Owns the server's memory of orgs: once created an org never changes or goes away (no API renames
// or deletes one), so a record read once serves every later request, sparing each protected
// request a store read. An org created since (by `serve org create` or through another replica)
// is read from the store on its first request.

import type { OrgRecord, Store } from '../../store/store.js'

export class OrgCache {
  private readonly orgs = new Map<string, OrgRecord>()

  constructor(private readonly store: Store) {}

  async find(id: string): Promise<OrgRecord | null> {
    const cached = this.orgs.get(id)
    if (cached !== undefined) return cached
    const org = await this.store.findOrg(id)
    if (org !== null) this.orgs.set(id, org)
    return org
  }
}
