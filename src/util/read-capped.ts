// Owns reading a byte stream whole up to a bound: past `maxBytes` it stops (leaving the loop
// destroys the stream) and throws what `tooLarge` makes, rather than growing without bound.

export async function readCapped(
  chunks: AsyncIterable<Uint8Array>,
  maxBytes: number,
  tooLarge: () => Error,
): Promise<Buffer> {
  const parts: Uint8Array[] = []
  let total = 0
  for await (const chunk of chunks) {
    total += chunk.length
    if (total > maxBytes) throw tooLarge()
    parts.push(chunk)
  }
  return Buffer.concat(parts)
}
