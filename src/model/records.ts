/**
 * Records keyed by app or user data (resource names, environment names): a name such as `__proto__`,
 * `constructor` or `hasOwnProperty` must be a key like any other, never reach Object.prototype or read an
 * inherited member.
 */

/** An empty record with no prototype: every key is its own. */
export function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** The record's own value for `key`, never an inherited one. */
export function own<T>(record: Record<string, T> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Sets `record[key]` as an own, enumerable property, even for `__proto__` (an assignment would set the prototype). */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}
