// Owns duplicate detection for verify (SPEC.md §9.7): remembers where each signature was first
// seen, keyed by a 64-bit fold of all 64 signature bytes, in flat typed arrays (16 B a slot).

export interface FirstSeen {
  readonly fileIndex: number
  readonly line: number
}

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

const SLOT_WORDS = 4 // key a, key b, file index, line (0 = empty)
const MAX_LOAD = 0.7

export class SignatureIndex {
  private slots = new Uint32Array(SLOT_WORDS << 16)
  private mask = (1 << 16) - 1
  private count = 0

  /** Returns the earlier occurrence of this key, or records this one and returns null. */
  firstSeen(keyA: number, keyB: number, fileIndex: number, line: number): FirstSeen | null {
    const slot = this.find(keyA, keyB)
    const base = slot * SLOT_WORDS
    const slots = this.slots
    if (slots[base + 3] !== 0) return { fileIndex: slots[base + 2] as number, line: slots[base + 3] as number }
    slots[base] = keyA
    slots[base + 1] = keyB
    slots[base + 2] = fileIndex
    slots[base + 3] = Math.min(line, 0xffffffff)
    if (++this.count > (this.mask + 1) * MAX_LOAD) this.grow()
    return null
  }

  private find(keyA: number, keyB: number): number {
    let slot = (keyA ^ Math.imul(keyB, 0x9e3779b1)) & this.mask
    for (;;) {
      const base = slot * SLOT_WORDS
      const line = this.slots[base + 3]
      if (line === 0 || (this.slots[base] === keyA && this.slots[base + 1] === keyB)) return slot
      slot = (slot + 1) & this.mask
    }
  }

  private grow(): void {
    const old = this.slots
    this.mask = this.mask * 2 + 1
    this.slots = new Uint32Array((this.mask + 1) * SLOT_WORDS)
    for (let base = 0; base < old.length; base += SLOT_WORDS) {
      if (old[base + 3] === 0) continue
      const target = this.find(old[base] as number, old[base + 1] as number) * SLOT_WORDS
      this.slots.set(old.subarray(base, base + SLOT_WORDS), target)
    }
  }
}
