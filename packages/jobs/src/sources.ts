/** The sources RecoMart ingests; each has its own queue. */
export const SOURCES = ['clickstream', 'products'] as const;
export type SourceName = (typeof SOURCES)[number];

export function isSourceName(value: unknown): value is SourceName {
  return typeof value === 'string' && (SOURCES as readonly string[]).includes(value);
}

/** The BullMQ queue of a source (under QUEUE_PREFIX): `ingest-clickstream`, `ingest-products`. */
export function queueName(source: SourceName): string {
  return `ingest-${source}`;
}
