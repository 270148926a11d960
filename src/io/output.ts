// Owns how commands print results (SPEC.md §9.3): a cli-table3 table on a terminal (relative
// times), tab-separated values without a header otherwise (RFC 3339, nothing truncated), and one
// JSON document with --json.

import Table from 'cli-table3'
import type { IOStreams } from './streams.js'

export interface Column<Row> {
  readonly header: string
  readonly value: (row: Row) => string | number | boolean | null | undefined
  /** The value is an RFC 3339 time, shown relative on a terminal. */
  readonly time?: boolean
}

const NEVER = '0001-01-01T00:00:00Z'

/** `3m ago`, `in 2h`, or `never` for the "never" time of SPEC.md §5.1. */
export function relativeTime(iso: string, nowMs: number): string {
  if (iso === NEVER) return 'never'
  const deltaMs = Date.parse(iso) - nowMs
  if (!Number.isFinite(deltaMs)) return iso
  const units: Array<[string, number]> = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ]
  const magnitude = Math.abs(deltaMs)
  const [unit, size] = units.find(([, ms]) => magnitude >= ms) ?? ['s', 1000]
  const amount = Math.floor(magnitude / size)
  return deltaMs < 0 ? `${amount}${unit} ago` : `in ${amount}${unit}`
}

function cell<Row>(column: Column<Row>, row: Row, tty: boolean): string {
  const value = column.value(row)
  if (value === null || value === undefined) return tty ? '-' : ''
  if (column.time && tty && typeof value === 'string') return relativeTime(value, Date.now())
  return String(value)
}

export async function writeRows<Row>(
  io: IOStreams,
  rows: readonly Row[],
  columns: readonly Column<Row>[],
): Promise<void> {
  if (!io.stdoutIsTTY) {
    await io.out(rows.map((row) => `${columns.map((column) => cell(column, row, false)).join('\t')}\n`).join(''))
    return
  }
  const table = new Table({ head: columns.map((column) => column.header), style: { head: [], border: [] } })
  for (const row of rows) table.push(columns.map((column) => cell(column, row, true)))
  await io.out(`${table.toString()}\n`)
}

/** `key: value` lines on a terminal, `key<TAB>value` otherwise. */
export async function writeFields(io: IOStreams, fields: ReadonlyArray<readonly [string, string]>): Promise<void> {
  const width = Math.max(...fields.map(([key]) => key.length))
  const separator = io.stdoutIsTTY ? (key: string) => `${key}:`.padEnd(width + 2) : (key: string) => `${key}\t`
  await io.out(fields.map(([key, value]) => `${separator(key)}${value}\n`).join(''))
}

export async function writeJson(io: IOStreams, value: unknown): Promise<void> {
  await io.out(`${JSON.stringify(value)}\n`)
}
