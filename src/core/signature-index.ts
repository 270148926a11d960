// Owns duplicate detection for verify (SPEC.md §9.7): remembers where each signature was first
// seen, keyed by a 64-bit fold of all 64 signature bytes, in flat typed arrays (12 B a slot).

/** Folds a 64-byte signature into two 32-bit words; any single changed byte changes the fold. */
export function signatureKey(signature: Uint8Array): [number, number] {
  const view = new DataView(signature.buffer, signature.byteOffset, signature.byteLength)
  let a = 0
  let b = 0
  for (let i = 0; i < 64; i += 8) {
    a = (a ^ view.getUint32(i, true)) >>> 0
    b = (b ^ view.getUint32(i + 4, true)) >>> 0
  }
  return [a, b]
}

const SLOT_WORDS = 3 // key a, key b, position (0 = empty)
/** Linear probing stays short enough at this load, and 2^21 slots (24 MiB) hold 1.8M lines. */
const MAX_LOAD = 0.875

/**
 * Remembers the first position (a positive 32-bit number the caller assigns, such as a line
 * ordinal over the whole run) at which each signature key was seen.
 */
export class SignatureIndex {
  private slots = new Uint32Array(SLOT_WORDS << 16)
  private mask = (1 << 16) - 1
  private count = 0

  /** Returns the earlier position of this key, or records this one and returns null. */
  firstSeen(keyA: number, keyB: number, position: number): number | null {
    const base = this.find(keyA, keyB) * SLOT_WORDS
    const slots = this.slots
    if (slots[base + 2] !== 0) return slots[base + 2] as number
    slots[base] = keyA
    slots[base + 1] = keyB
    slots[base + 2] = position
    if (++this.count > (this.mask + 1) * MAX_LOAD) this.grow()
    return null
  }

  private find(keyA: number, keyB: number): number {
    let slot = (keyA ^ Math.imul(keyB, 0x9e3779b1)) & this.mask
    for (;;) {
      const base = slot * SLOT_WORDS
      if (this.slots[base + 2] === 0 || (this.slots[base] === keyA && this.slots[base + 1] === keyB)) return slot
      slot = (slot + 1) & this.mask
    }
  }

  private grow(): void {
    const old = this.slots
    this.mask = this.mask * 2 + 1
    this.slots = new Uint32Array((this.mask + 1) * SLOT_WORDS)
    for (let base = 0; base < old.length; base += SLOT_WORDS) {
      if (old[base + 2] === 0) continue
      const target = this.find(old[base] as number, old[base + 1] as number) * SLOT_WORDS
      for (let word = 0; word < SLOT_WORDS; word++) this.slots[target + word] = old[base + word] as number
    }
  }
}
