// Owns the body of a delivery request (SPEC.md §4.2–§4.3, §6.1): stored lines rendered in the
// target's format (JSON spliced, CPS wrapped, CEF rendered and signed now with the org's active
// key, on the signing workers), each ending "\n", cut to the batch limits. It sends nothing.

import { unsignedCefLine } from '../../core/cef.js'
import { batchLineCount } from '../../core/delivery-plan.js'
import { eventOfStoredLine } from '../../core/stored-line.js'
import type { LogFormat, StoredEvent } from '../../store/store.js'
import type { SignerCache } from './signers.js'
import { cpsLineOf } from './stream-frames.js'

const NEWLINE = 0x0a

export interface RenderedBatch {
  /** The events in the body: a prefix of those given, in the same order. */
  readonly events: readonly StoredEvent[]
  /** The uncompressed body: one line per event, each ending "\n". */
  readonly body: Buffer
}

/** CEF lines of stored events, all signed with the org's active key in one batch on the workers. */
async function cefLines(events: readonly StoredEvent[], signers: SignerCache, orgId: string): Promise<Buffer[]> {
  const key = await signers.activeKey(orgId)
  const unsigned = events.map((event) => unsignedCefLine(eventOfStoredLine(event.line)))
  const signatures = await signers.signOnWorkers(key, unsigned)
  return unsigned.map((line, i) => Buffer.from(`${line} sig=${signatures[i]}`, 'utf8'))
}

/**
 * Renders the longest prefix of `events` that fits one batch of at most `maxEvents` lines and
 * 1 MiB; every CEF line of a batch is signed with the same key.
 */
export async function renderBatch(
  events: readonly StoredEvent[],
  format: LogFormat,
  signer: { readonly signers: SignerCache; readonly orgId: string },
  maxEvents: number,
): Promise<RenderedBatch> {
  const candidates = events.slice(0, maxEvents)
  const lines =
    format === 'cef'
      ? await cefLines(candidates, signer.signers, signer.orgId)
      : candidates.map((event) => (format === 'cps' ? cpsLineOf(event.line) : event.line))
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
