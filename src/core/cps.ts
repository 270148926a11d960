// Owns the CPS line of SPEC.md §4.3: the signed JSON line wrapped as {"event":<line>}.
// No new signature: the inner line's `sig` is the signature.

export const CPS_PREFIX = '{"event":'

export function renderCpsLine(signedJsonLine: string): string {
  return `${CPS_PREFIX}${signedJsonLine}}`
}
