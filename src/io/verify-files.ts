// Owns verify's input pipeline: files (or stdin) -> gunzip if needed -> numbered lines -> ~1 MiB
// chunks -> the worker pool, with at most `maxInFlight` chunks outstanding and every result
// consumed in input order. Memory is bounded by the chunks in flight, not by the input.

import { createReadStream } from 'node:fs'
import type { Readable } from 'node:stream'
import type { NumberedLine } from '../core/lines.js'
import { numberedLines } from '../core/lines.js'
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
  readonly sink: VerifySink
}

/** Receives results in input order; writes are buffered until flush. */
export interface VerifySink {
  line(outcome: LineOutcome): void
  fileError(file: string, message: string): void
  flush(): Promise<void>
}

/**
 * Numbers every physical line of the run (all files) from 1, so a duplicate's first occurrence
 * is one 32-bit position in the signature index, mapped back to its file and line here.
 */
class RunPositions {
  private readonly bases: number[] = []
  private next = 0

  startFile(): void {
    this.bases.push(this.next)
  }

  endFile(lineCount: number): void {
    this.next = (this.bases.at(-1) as number) + lineCount
  }

  position(fileIndex: number, line: number): number {
    return (this.bases[fileIndex] as number) + line
  }

  locate(position: number): { fileIndex: number; line: number } {
    let fileIndex = this.bases.length - 1
    while (fileIndex > 0 && (this.bases[fileIndex] as number) >= position) fileIndex--
    return { fileIndex, line: position - (this.bases[fileIndex] as number) }
  }
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
  take(allocate: (bytes: number) => Uint8Array<ArrayBuffer>): ({ lineNumbers: number[] } & LineChunk) | null {
    if (this.numbers.length === 0) return null
    const data = allocate(this.bytes)
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
  const { files, pool, tally, kids, sink } = options
  const pending: PendingChunk[] = []
  const positions = new RunPositions()

  const consume = async ({ fileIndex, lineNumbers, verdicts: promised }: PendingChunk): Promise<void> => {
    const verdicts = await promised
    tally.widenEventTs(verdicts.earliest, verdicts.latest)
    const file = files[fileIndex] as string
    for (let i = 0; i < lineNumbers.length; i++) {
      const line = lineNumbers[i] as number
      const verdict = decodeVerdict(verdicts, i)
      const kid = verdict.status === 'valid' ? (kids[verdict.keyIndex] ?? null) : null
      tally.countLine(verdict.status, kid)
      let duplicateOf: LineOutcome['duplicateOf'] = null
      if (verdicts.hasSignature[i] === 1) {
        const keyA = verdicts.signatureKeys[i * 2] as number
        const keyB = verdicts.signatureKeys[i * 2 + 1] as number
        const first = tally.duplicateOf(keyA, keyB, positions.position(fileIndex, line))
        if (first !== null) {
          const where = positions.locate(first)
          duplicateOf = { file: files[where.fileIndex] as string, line: where.line }
        }
      }
      sink.line({ file, line, verdict, kid, duplicateOf })
    }
    await sink.flush()
  }

  const submit = async (fileIndex: number, builder: ChunkBuilder): Promise<void> => {
    const taken = builder.take((bytes) => pool.chunkBuffer(bytes))
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
    let lineCount = 0
    positions.startFile()
    try {
      for await (const batch of numberedLines(gunzipIfCompressed(sourceOf(file, options.stdin)), MAX_LINE_BYTES)) {
        for (const { number, bytes } of batch) {
          if (bytes !== null && bytes.length === 0) tally.countBlank()
          else builder.add(number, bytes)
        }
        lineCount = (batch.at(-1) as NumberedLine).number
        if (builder.size >= CHUNK_BYTES) await submit(fileIndex, builder)
      }
      await submit(fileIndex, builder)
    } catch (error) {
      await submit(fileIndex, builder)
      await drain()
      tally.countFileError()
      sink.fileError(file, errorMessage(error))
    }
    positions.endFile(lineCount)
  }
  await drain()
  await sink.flush()
}
