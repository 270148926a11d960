// Owns parsing of RFC 3339 timestamps to epoch milliseconds and their whole-second UTC form.
// Lives in util so that core stays free of the Date global (DESIGN.md §6, injected clock).

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/

/** Epoch milliseconds of an RFC 3339 timestamp, or null when it is not one (or not a real date). */
export function parseRfc3339Ms(text: string): number | null {
  const match = RFC3339.exec(text)
  if (!match) return null
  const [, year, month, day, hour, minute, second, fraction, offset] = match
  const fields = [year, month, day, hour, minute, second].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  const [y, mo, d, h, mi, s] = fields
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 60) return null
  const utc = Date.UTC(y, mo - 1, d, h, mi, Math.min(s, 59))
  if (new Date(utc).getUTCDate() !== d) return null // 31 April and the like
  const millis = fraction ? Math.floor(Number(`0${fraction}`) * 1000) : 0
  let offsetMs = 0
  if (offset && offset !== 'Z' && offset !== 'z') {
    const sign = offset.startsWith('-') ? -1 : 1
    offsetMs = sign * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6))) * 60_000
  }
  return utc + millis - offsetMs
}

/** `YYYY-MM-DDTHH:MM:SSZ` (UTC, fraction dropped) for epoch milliseconds: the stored `event_ts` form. */
export function formatUtcSeconds(epochMs: number): string {
  const wholeSecondsMs = Math.floor(epochMs / 1000) * 1000
  return `${new Date(wholeSecondsMs).toISOString().slice(0, 19)}Z`
}
