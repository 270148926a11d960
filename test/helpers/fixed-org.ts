// A first org with fixed ids and fake key bytes, for store tests that read rows back by hand.

export const FIXED_ORG_ID = '5b1f0c2e-8a4d-4c1e-9f3a-2d7e6b9c0a11'

export const FIXED_ORG = {
  org: { id: FIXED_ORG_ID, name: 'default', createdAt: 1 },
  key: {
    kid: 'a'.repeat(40),
    orgId: FIXED_ORG_ID,
    status: 'active',
    publicKey: Buffer.alloc(32, 1),
    privateKey: Buffer.alloc(48, 2),
    createdAt: 1,
    retiredAt: null,
  },
  adminToken: {
    id: '0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a',
    orgId: FIXED_ORG_ID,
    name: 'initial-admin',
    role: 'admin',
    secretHash: 'b'.repeat(64),
    createdAt: 1,
    expiresAt: null,
    lastUsedAt: null,
    revokedAt: null,
  },
} as const
