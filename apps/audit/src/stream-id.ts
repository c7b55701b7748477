/**
 * Redis stream entry ids (`<ms>-<seq>`): ordering and the time they carry.
 * The sink's checkpoint and `drained()` compare ids with these.
 */

const STREAM_ID = /^(\d+)-(\d+)$/;

/** The id before every entry: reading "after `0-0`" reads a stream from its start. */
export const STREAM_START = '0-0';

/** Whether `value` is a complete stream entry id such as `1700000000000-3`. */
export function isStreamId(value: unknown): value is string {
  return typeof value === 'string' && STREAM_ID.test(value);
}

function parts(id: string): [bigint, bigint] {
  const m = STREAM_ID.exec(id);
  if (!m) throw new Error(`not a stream id: ${JSON.stringify(id)}`);
  return [BigInt(m[1] as string), BigInt(m[2] as string)];
}

/** Negative when `a` comes before `b`, 0 when equal, positive after. */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = parts(a);
  const [bm, bs] = parts(b);
  if (am !== bm) return am < bm ? -1 : 1;
  if (as !== bs) return as < bs ? -1 : 1;
  return 0;
}

/** When Redis appended the entry (its id's millisecond part), as ISO-8601 UTC. */
export function streamIdTime(id: string): string {
  return new Date(Number(parts(id)[0])).toISOString();
}
