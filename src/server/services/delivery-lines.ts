// Owns the body of a delivery request (SPEC.md §4.2–§4.3, §6.1): stored lines rendered in the
// target's format (JSON spliced, CPS wrapped, CEF rendered and signed now with the org's active
// key), each ending "\n", cut to the batch limits. It sends nothing and keeps no state.

import { batchLineCount } from '../../core/delivery-plan.js'
import type { Signer } from '../../core/signing.js'
import type { LogFormat, StoredEvent } from '../../store/store.js'
import { lineRendererFor } from './stream-frames.js'

const NEWLINE = 0x0a

export interface RenderedBatch {
  /** The events in the body: a prefix of those given, in the same order. */
  readonly events: readonly StoredEvent[]
  /** The uncompressed body: one line per event, each ending "\n". */
  readonly body: Buffer
}

/**
 * Renders the longest prefix of `events` that fits one batch of at most `maxEvents` lines and
 * 1 MiB. `currentSigner` is asked only for CEF, once, so every line of a batch has the same key.
 */
export async function renderBatch(
  events: readonly StoredEvent[],
  format: LogFormat,
  currentSigner: () => Promise<Signer>,
  maxEvents: number,
): Promise<RenderedBatch> {
  const render = await lineRendererFor(format, currentSigner)
  const lines = events.slice(0, maxEvents).map((event) => render(event.line))
  const count = batchLineCount(
    lines.map((line) => line.length),
    maxEvents,
  )
  return { events: events.slice(0, count), body: joinLines(lines.slice(0, count)) }
}

function joinLines(lines: readonly Buffer[]): Buffer {
  const body = Buffer.allocUnsafe(lines.reduce((bytes, line) => bytes + line.length + 1, 0))
  let offset = 0
  for (const line of lines) {
    offset += line.copy(body, offset)
    body[offset++] = NEWLINE
  }
  return body
}
