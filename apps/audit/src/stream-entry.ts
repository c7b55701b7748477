/** One entry of a Redis stream as the sink reads it. */
export interface StreamEntry {
  /** The stream's key, e.g. `recomart:audit:events`. */
  readonly stream: string;
  /** The entry id, e.g. `1700000000000-0`. */
  readonly id: string;
  /** The entry's field/value pairs (a repeated field keeps its last value). */
  readonly fields: Readonly<Record<string, string>>;
}

/** `['event', 'added', 'jobId', '7']` → `{ event: 'added', jobId: '7' }`. */
export function fieldsOf(flat: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i] as string] = flat[i + 1] as string;
  return out;
}

/**
 * The event id of an entry that carries none of its own: the stream key and
 * the entry id, so reading the entry again yields the same id.
 */
export function entryEventId(entry: StreamEntry): string {
  return `${entry.stream}-${entry.id}`;
}
