/**
 * IANA code point tables kept as data. Each table maps a numeric code point to its registry name;
 * `nameOf` renders unknown values as 0xHHHH so output never silently drops a value.
 */
export type IanaTable = ReadonlyMap<number, string>

export function ianaTable(entries: ReadonlyArray<readonly [number, string]>): IanaTable {
  return new Map(entries)
}

/** The registry name of `value`, or '0xHHHH' when the table does not know it. */
export function nameOf(table: IanaTable, value: number): string {
  return table.get(value) ?? '0x' + value.toString(16).padStart(4, '0')
}
