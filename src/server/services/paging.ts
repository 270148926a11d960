// Owns keyset paging of list routes (SPEC.md §5.7): `page[after]` or `page[before]` an opaque
// cursor, pages in ascending order, and relative `next`/`previous` links only where more rows
// exist. Each list decides what a position is and how its cursor encodes it.

import { ProblemError } from '../problem.js'

/** Where a page is read from: after a position, before one, or from the start. */
export interface PageDirection<P> {
  readonly after?: P
  readonly before?: P
}

export interface PageCursors {
  readonly 'page[after]'?: string
  readonly 'page[before]'?: string
}

export function badCursor(field: string): ProblemError {
  return new ProblemError(400, 'Invalid page cursor', [
    { field, rule: 'invalid', reason: 'is not a valid cursor', source: 'query' },
  ])
}

/** The direction the query's cursor asks for, decoded; both cursors at once are a 400. */
export function pageDirectionOf<P>(query: PageCursors, decode: (cursor: string, field: string) => P): PageDirection<P> {
  const after = query['page[after]']
  const before = query['page[before]']
  if (after !== undefined && before !== undefined) {
    throw new ProblemError(400, 'Invalid query parameters', [
      { field: 'page[before]', rule: 'invalid', reason: 'cannot be combined with page[after]', source: 'query' },
    ])
  }
  if (after !== undefined) return { after: decode(after, 'page[after]') }
  if (before !== undefined) return { before: decode(before, 'page[before]') }
  return {}
}

export interface KeysetPaging<R, P> {
  readonly size: number
  readonly direction: PageDirection<P>
  /** Rows in ascending order: the first `limit` after `after`, or the last `limit` before `before`. */
  read(direction: PageDirection<P>, limit: number): Promise<R[]>
  positionOf(row: R): P
  /** The relative link to the page after or before a position. */
  link(cursor: keyof PageCursors, position: P): string
}

/** One page in ascending order, with its `next` and `previous` links (null where nothing lies beyond). */
export async function keysetPage<R, P>(paging: KeysetPaging<R, P>) {
  const { size, direction, read, positionOf, link } = paging
  const backward = direction.before !== undefined
  // One extra row tells whether more exist in the direction read.
  const rows = await read(direction, size + 1)
  const page = backward ? rows.slice(-size) : rows.slice(0, size)
  const moreInDirection = rows.length > size
  const anyBeyond = async (beyond: PageDirection<P>) => (await read(beyond, 1)).length > 0

  const first = page[0]
  const last = page.at(-1)
  const hasNext = last !== undefined && (backward ? await anyBeyond({ after: positionOf(last) }) : moreInDirection)
  const hasPrevious =
    first !== undefined &&
    (backward ? moreInDirection : direction.after !== undefined && (await anyBeyond({ before: positionOf(first) })))
  return {
    page,
    next: hasNext ? link('page[after]', positionOf(last)) : null,
    previous: hasPrevious ? link('page[before]', positionOf(first)) : null,
  }
}
