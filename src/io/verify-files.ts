// Owns verify's input pipeline: files (or stdin) -> gunzip if needed -> numbered lines -> ~1 MiB
// chunks -> the worker pool, with at most `maxInFlight` chunks outstanding and every result
// consumed in input order. Memory is bounded by the chunks in flight, not by the input.

import { createReadStream } from 'node:fs'
import type { Readable } from 'node:stream'
import { numberedLines } from '../core/lines.js'
import type { FirstSeen } from '../core/signature-index.js'
import { MAX_LINE_BYTES } from '../core/verify.js'
import type { ChunkVerdicts, DecodedVerdict, LineChunk } from '../core/verify-chunk.js'
import { decodeVerdict } from '../core/verify-chunk.js'
import type { VerifyTally } from '../core/verify-tally.js'
import { gunzipIfCompressed } from './decompress.js'
import type { VerifyPool } from './verify-pool.js'

const CHUNK_BYTES = 1024 * 1024

export interface LineOutcome {
  readonly file: string
  readonly line: number
  readonly verdict: DecodedVerdict
  /** The kid of the key that verified the line, for valid lines. */
  readonly kid: string | null
  readonly duplicateOf: { readonly file: string; readonly line: number } | null
}

export interface VerifyFilesOptions {
  /** Paths; `-` is stdin. */
  readonly files: readonly string[]
  readonly stdin: Readable
  readonly pool: VerifyPool
  readonly maxInFlight: number
  /** kid of each usable JWKS key, by key index. */
  readonly kids: readonly string[]
  readonly tally: VerifyTally
  onLine(outcome: LineOutcome): Promise<void>
  onFileError(file: string, message: string): Promise<void>
}

interface PendingChunk {
  readonly fileIndex: number
  readonly lineNumbers: number[]
  readonly verdicts: Promise<ChunkVerdicts>
}

class ChunkBuilder {
  private lines: Uint8Array[] = []
  private tooLong: number[] = []
  private numbers: number[] = []
  private bytes = 0

  get size(): number {
    return this.bytes
  }

  add(number: number, bytes: Uint8Array | null): void {
    this.numbers.push(number)
    this.lines.push(bytes ?? new Uint8Array(0))
    this.tooLong.push(bytes === null ? 1 : 0)
    this.bytes += bytes?.length ?? 0
  }

  /** Copies the lines into one transferable buffer and starts over. */
  take(): ({ lineNumbers: number[] } & LineChunk) | null {
    if (this.numbers.length === 0) return null
    const data = new Uint8Array(this.bytes)
    const ends = new Uint32Array(this.lines.length)
    let offset = 0
    this.lines.forEach((line, i) => {
      data.set(line, offset)
      offset += line.length
      ends[i] = offset
    })
    const taken = { lineNumbers: this.numbers, data, ends, tooLong: Uint8Array.from(this.tooLong) }
    this.lines = []
    this.tooLong = []
    this.numbers = []
    this.bytes = 0
    return taken
  }
}

function errorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.replace(/, \w+ '.*'$/, '') // "ENOENT: no such file or directory, open 'x'" -> without the path
}

function sourceOf(file: string, stdin: Readable): AsyncIterable<Buffer> {
  return file === '-' ? stdin : createReadStream(file, { highWaterMark: CHUNK_BYTES })
}

export async function verifyFiles(options: VerifyFilesOptions): Promise<void> {
  const { files, pool, tally, kids } = options
  const pending: PendingChunk[] = []

  const consume = async ({ fileIndex, lineNumbers, verdicts: promised }: PendingChunk): Promise<void> => {
    const verdicts = await promised
    tally.widenEventTs(verdicts.earliest, verdicts.latest)
    const file = files[fileIndex] as string
    for (let i = 0; i < lineNumbers.length; i++) {
      const line = lineNumbers[i] as number
      const verdict = decodeVerdict(verdicts, i)
      const kid = verdict.status === 'valid' ? (kids[verdict.keyIndex] ?? null) : null
      tally.countLine(verdict.status, kid)
      let first: FirstSeen | null = null
      if (verdicts.hasSignature[i] === 1) {
        first = tally.duplicateOf(
          verdicts.signatureKeys[i * 2] as number,
          verdicts.signatureKeys[i * 2 + 1] as number,
          fileIndex,
          line,
        )
      }
      const duplicateOf = first && { file: files[first.fileIndex] as string, line: first.line }
      await options.onLine({ file, line, verdict, kid, duplicateOf })
    }
  }

  const submit = async (fileIndex: number, builder: ChunkBuilder): Promise<void> => {
    const taken = builder.take()
    if (!taken) return
    const { lineNumbers, ...chunk } = taken
    pending.push({ fileIndex, lineNumbers, verdicts: pool.verify(chunk) })
    while (pending.length >= options.maxInFlight) await consume(pending.shift() as PendingChunk)
  }

  const drain = async (): Promise<void> => {
    while (pending.length > 0) await consume(pending.shift() as PendingChunk)
  }

  for (const [fileIndex, file] of files.entries()) {
    const builder = new ChunkBuilder()
    try {
      for await (const batch of numberedLines(gunzipIfCompressed(sourceOf(file, options.stdin)), MAX_LINE_BYTES)) {
        for (const { number, bytes } of batch) {
          if (bytes !== null && bytes.length === 0) tally.countBlank()
          else builder.add(number, bytes)
        }
        if (builder.size >= CHUNK_BYTES) await submit(fileIndex, builder)
      }
      await submit(fileIndex, builder)
    } catch (error) {
      await submit(fileIndex, builder)
      await drain()
      tally.countFileError()
      await options.onFileError(file, errorMessage(error))
    }
  }
  await drain()
}
