// Owns the duplicate-key check for JSON request bodies (SPEC.md §5.1: duplicate keys → 400).
// JSON.parse silently keeps the last value, so the text is scanned once more for repeats.

/** The first key that appears twice in one object of already-valid JSON text, or null. */
export function findDuplicateKey(text: string): string | null {
  const objects: Array<Set<string> | null> = []
  let expectKey = false
  for (let i = 0; i < text.length; i++) {
    const char = text[i]
    if (char === '"') {
      const end = endOfString(text, i)
      const top = objects.at(-1)
      if (expectKey && top) {
        const key = JSON.parse(text.slice(i, end)) as string
        if (top.has(key)) return key
        top.add(key)
      }
      expectKey = false
      i = end - 1
    } else if (char === '{') {
      objects.push(new Set())
      expectKey = true
    } else if (char === '[') {
      objects.push(null)
    } else if (char === '}' || char === ']') {
      objects.pop()
    } else if (char === ',') {
      expectKey = objects.at(-1) instanceof Set
    }
  }
  return null
}

function endOfString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++
    else if (text[i] === '"') return i + 1
  }
  return text.length
}
