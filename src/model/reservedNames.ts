// Names an app may give its resources that JavaScript itself already uses. Encore's TypeScript parser accepts them,
// but code that keys a plain object by resource name reads or writes the built-in instead: `obj["__proto__"] = x`
// replaces the object's prototype, and `"constructor" in {}` is true. Maps keyed by app data are `Map`s or
// null-prototype objects for that reason; the analyzer also warns about such names.

/** Object.prototype's own property names, and `prototype` (every constructor function's). */
export const BUILTIN_PROPERTY_NAMES: ReadonlySet<string> = new Set([
  '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__', '__proto__', 'constructor',
  'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', 'toString', 'valueOf', 'prototype',
]);

export function isBuiltinPropertyName(name: string): boolean {
  return BUILTIN_PROPERTY_NAMES.has(name);
}
