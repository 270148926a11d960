// Owns transparent gzip input: a stream whose first bytes are the gzip magic 1f 8b is inflated
// (multi-member allowed), whatever the file is called; anything else passes through unchanged.

import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'

async function* replay(head: Buffer[], rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield* head
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value
}

export async function* gunzipIfCompressed(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const iterator = source[Symbol.asyncIterator]()
  const head: Buffer[] = []
  let headBytes = 0
  while (headBytes < 2) {
    const next = await iterator.next()
    if (next.done) break
    head.push(next.value)
    headBytes += next.value.length
  }
  const start = Buffer.concat(head)
  if (start[0] !== 0x1f || start[1] !== 0x8b) {
    yield* replay(head, iterator)
    return
  }
  const gunzip = createGunzip()
  const piping = pipeline(Readable.from(replay(head, iterator)), gunzip)
  piping.catch(() => {}) // the same error surfaces through the iteration below
  yield* gunzip
  await piping
}
