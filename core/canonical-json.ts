/**
 * Canonical JSON: object keys sorted, `undefined` members left out, no spaces.
 * Two programs that hold equal values produce the same bytes, whatever order
 * their objects were built or parsed in; report signatures are computed over it.
 *
 * Every report is serialised so twice (signed by its agent, verified by the server),
 * so this is written as one pass that appends to a string: no intermediate arrays of
 * members, and the keys sorted only when they are not already in order. The bytes are
 * those of the plain definition (map, filter, sort, join), which
 * core/canonical-json.test.ts holds it to.
 */

/** Deepest nesting accepted; bounds recursion on hostile input. */
export const canonicalDepthMax = 32;

/** Whether `keys` are in the order `Array.prototype.sort` would put them (UTF-16 code units). */
function inOrder(keys: readonly string[]): boolean {
  for (let index = 1; index < keys.length; index += 1) if (keys[index - 1]! > keys[index]!) return false;
  return true;
}

/** Keys quoted so far (reports repeat a dozen names); bounded, so hostile keys cannot grow it. */
const quotedKeys = new Map<string, string>();
const quotedKeysMax = 256;

function quotedKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    if (quotedKeys.size < quotedKeysMax) quotedKeys.set(key, quoted);
  }
  return quoted;
}

/** Serialises `value` canonically; throws RangeError past `canonicalDepthMax` levels. */
export function canonicalJson(value: unknown, depth = 0): string {
  if (depth > canonicalDepthMax) throw new RangeError(`value nested deeper than ${canonicalDepthMax} levels`);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let text = '[';
    for (let index = 0; index < value.length; index += 1) {
      if (index > 0) text += ',';
      const item: unknown = value[index];
      // A hole writes nothing (as `map` and `join` leave it); an undefined item writes null.
      if (item === undefined && !(index in value)) continue;
      text += canonicalJson(item ?? null, depth + 1);
    }
    return `${text}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (!inOrder(keys)) keys.sort();
  let text = '{';
  for (const key of keys) {
    const member = record[key];
    if (member === undefined) continue;
    if (text.length > 1) text += ',';
    text += `${quotedKey(key)}:${canonicalJson(member, depth + 1)}`;
  }
  return `${text}}`;
}
