// Owns durations as SPEC.md writes them: one or more `<int><unit>` groups, unit s m h d w
// (e.g. `90m`, `1d12h`), converted to milliseconds.

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }
const DURATION = /^(\d+[smhdw])+$/

/** Milliseconds of a duration, or null when the text is not one. */
export function parseDurationMs(text: string): number | null {
  if (!DURATION.test(text)) return null
  let total = 0
  for (const [, amount, unit] of text.matchAll(/(\d+)([smhdw])/g))
    total += Number(amount) * (UNIT_MS[unit as string] as number)
  return Number.isSafeInteger(total) ? total : null
}
