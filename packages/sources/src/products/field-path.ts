/**
 * Reads a field by name, or by a dotted path (`data.items`, `pricing.amount`)
 * when the name itself is not a key. Undefined when any step is missing.
 */
export function readField(value: unknown, path: string): unknown {
  if (value === null || typeof value !== 'object') return undefined;
  const record = value as Record<string, unknown>;
  if (path in record || !path.includes('.')) return record[path];
  let current: unknown = value;
  for (const step of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}
