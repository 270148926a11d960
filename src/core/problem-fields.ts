// Owns the shape of one `invalid_parameters` entry of a problem+json 400 (SPEC.md §5.1) and the
// rule names used in it. Pure data; rendering the problem body belongs to the server.

/**
 * Konnect's rule names plus `is_ip`. Where SPEC.md §5.1 leaves room (`min_*`/`max_*`):
 * - `min_length` / `max_length` + `minimum` / `maximum`: a string's size in UTF-8 bytes;
 * - `min` / `max` + `minimum` / `maximum`: an integer's value (e.g. `status` 100–599);
 * - `invalid`: a value of the right type that breaks a cross-field or semantic rule (server-assigned
 *   fields, the reserved `konnect-audit` class, the Dev-Portal pairing, forbidden characters, the
 *   `event_ts` window, `query` text that is not a JSON object);
 * - `type`: an item that is not a JSON object.
 */
export type Rule =
  | 'required'
  | 'type'
  | 'enum'
  | 'invalid'
  | 'unknown_property'
  | 'matches_regex'
  | 'is_string'
  | 'is_boolean'
  | 'is_integer'
  | 'is_date_time'
  | 'is_uuid'
  | 'is_ip'
  | 'min_length'
  | 'max_length'
  | 'min'
  | 'max'
  | 'min_items'
  | 'max_items'
  | 'missing_reference'

export interface InvalidParameter {
  /** `items[<i>]` or `items[<i>].<property>` (SPEC.md §5.4). */
  readonly field: string
  readonly rule?: Rule
  readonly source: 'body' | 'query'
  readonly reason: string
  /** With `enum`: the accepted values. */
  readonly choices?: readonly string[]
  /** With `min_length` (bytes) or `min` (value). */
  readonly minimum?: number
  /** With `max_length` (bytes) or `max` (value). */
  readonly maximum?: number
}
