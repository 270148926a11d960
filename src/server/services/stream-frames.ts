// Owns the bytes of the live stream (SPEC.md §5.10): the retry hint, one `audit` frame per event
// in the requested format, the `gap` notice and the keep-alive comment. JSON and CPS frames splice
// the stored line unchanged; CEF is rendered from it and signed with the key active now (§4.4).

import { renderCefLine } from '../../core/cef.js'
import { CPS_PREFIX } from '../../core/cps.js'
import type { LineFormat } from '../../core/extract.js'
import type { Signer } from '../../core/signing.js'
import { eventOfStoredLine } from '../../core/stored-line.js'
import type { PruningGap } from './stream-start.js'

/** Tells EventSource clients to reconnect 2 s after a drop (SPEC.md §5.10). */
export const RETRY_FRAME = Buffer.from('retry: 2000\n\n')
export const KEEP_ALIVE_FRAME = Buffer.from(': keep-alive\n\n')

const CPS_PREFIX_BYTES = Buffer.from(CPS_PREFIX)
const CPS_SUFFIX_BYTES = Buffer.from('}')
const FRAME_END = Buffer.from('\n\n')

/** Turns one stored line into the `data` of its frame. */
export type LineRenderer = (storedLine: Buffer) => Buffer

const storedJson: LineRenderer = (line) => line
/** `{"event":` + the stored line + `}` (SPEC.md §4.3). */
export const cpsLineOf: LineRenderer = (line) => Buffer.concat([CPS_PREFIX_BYTES, line, CPS_SUFFIX_BYTES])

/**
 * The renderer for a format. Only CEF needs a key, so the org's signer is fetched only then; call
 * this once per page so that a rotation applies from the next page on.
 */
export async function lineRendererFor(format: LineFormat, currentSigner: () => Promise<Signer>): Promise<LineRenderer> {
  if (format === 'json') return storedJson
  if (format === 'cps') return cpsLineOf
  const signer = await currentSigner()
  return (line) => Buffer.from(renderCefLine(eventOfStoredLine(line), signer), 'utf8')
}

/** `id`, `event: audit` and the rendered line; lines never hold a raw CR or LF, so one data field suffices. */
export function auditFrame(sequence: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`id: ${sequence}\nevent: audit\ndata: `), data, FRAME_END])
}

/** Sent before anything else when the resume point was pruned; it has no id, so a reconnect before the next event hears it again. */
export function gapFrame(gap: PruningGap): Buffer {
  return Buffer.from(`event: gap\ndata: ${JSON.stringify({ after: gap.after, next: gap.next, reason: 'pruned' })}\n\n`)
}
