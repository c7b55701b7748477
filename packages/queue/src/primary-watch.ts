import type { Redis } from 'ioredis';

/** A connection came back on another primary. Addresses are `host:port` as seen by this process. */
export interface PrimaryChange {
  from: string;
  to: string;
}

function remoteAddress(conn: Redis): string | undefined {
  const stream = conn.stream as { remoteAddress?: string; remotePort?: number } | undefined;
  return stream?.remoteAddress && stream.remotePort ? `${stream.remoteAddress}:${stream.remotePort}` : undefined;
}

/**
 * Calls `onChange` each time `conn` is ready again on a different server than
 * before: after a Sentinel failover the connection follows the new primary by
 * itself, and this is how a process notices (and audits) that it did.
 * @returns a function that stops watching.
 */
export function watchPrimary(conn: Redis, onChange: (change: PrimaryChange) => void): () => void {
  let current = conn.status === 'ready' ? remoteAddress(conn) : undefined;
  const onReady = () => {
    const now = remoteAddress(conn);
    if (!now) return;
    if (current !== undefined && now !== current) onChange({ from: current, to: now });
    current = now;
  };
  conn.on('ready', onReady);
  return () => conn.off('ready', onReady);
}
