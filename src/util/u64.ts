// Owns the unsigned 64-bit trace id as a decimal string: it never passes through a JS number,
// because values above 2^53 would silently change (SPEC.md §3.2).

declare const traceIdBrand: unique symbol
/** A decimal string in [0, 2^64 − 1], no sign and no leading zero. */
export type TraceId = string & { readonly [traceIdBrand]: true }

const U64_MAX = (1n << 64n) - 1n
const DECIMAL = /^(0|[1-9][0-9]{0,19})$/

export function isTraceId(text: string): text is TraceId {
  return DECIMAL.test(text) && BigInt(text) <= U64_MAX
}

export function parseTraceId(text: string): TraceId {
  if (!isTraceId(text)) throw new RangeError(`not an unsigned 64-bit integer: ${text}`)
  return text
}
