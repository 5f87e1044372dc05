/**
 * Canonical JSON: object keys sorted, `undefined` members left out, no spaces.
 * Two programs that hold equal values produce the same bytes, whatever order
 * their objects were built or parsed in; report signatures are computed over it.
 */

/** Deepest nesting accepted; bounds recursion on hostile input. */
export const canonicalDepthMax = 32;

/** Serialises `value` canonically; throws RangeError past `canonicalDepthMax` levels. */
export function canonicalJson(value: unknown, depth = 0): string {
  if (depth > canonicalDepthMax) throw new RangeError(`value nested deeper than ${canonicalDepthMax} levels`);
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null, depth + 1)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.keys(value)
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key], depth + 1)}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
