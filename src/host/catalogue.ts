/**
 * Numbering of declared catalogues (primitives, operations, exit reasons): model code
 * uses the numbers as array indices; reports use the names.
 *
 * @module
 */

/** Names of a catalogue in declaration order, and each name's index. */
export interface Indexed<K extends string> {
  names: readonly K[];
  ids: { readonly [P in K]: number };
}

/** Numbers the keys of `catalogue` in declaration order. */
export function indexNames<K extends string>(catalogue: Record<K, unknown>): Indexed<K> {
  const names = Object.keys(catalogue) as K[];
  const ids = Object.fromEntries(names.map((name, id) => [name, id])) as { [P in K]: number };
  return { names, ids };
}
