import type { Variable } from './variables.js';

/** One Redis Sentinel address. */
export interface SentinelAddress {
  readonly host: string;
  readonly port: number;
}

const HOST_PORT = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):(\d{1,5})$/;

/**
 * `host:port,host:port…` (REDIS_SENTINELS); empty or unset = no Sentinel.
 * Bad input gets the project's message shape: `NAME must be …, got "value"`.
 */
export function sentinelList(d: { name: string; doc: string }): Variable<readonly SentinelAddress[] | undefined> {
  const expectation = 'comma-separated host:port pairs such as 10.0.0.1:26379,10.0.0.2:26379';
  return {
    name: d.name,
    defaultValue: undefined,
    doc: d.doc,
    secret: false,
    parse(raw) {
      if (raw.trim() === '') return { ok: true, value: undefined };
      const out: SentinelAddress[] = [];
      for (const part of raw.split(',')) {
        const m = HOST_PORT.exec(part.trim());
        const port = Number(m?.[2]);
        if (!m || port < 1 || port > 65535) return { ok: false, message: `${d.name} must be ${expectation}, got ${JSON.stringify(raw)}` };
        out.push(Object.freeze({ host: (m[1] as string).replace(/^\[|\]$/g, ''), port }));
      }
      return { ok: true, value: Object.freeze(out) };
    },
  };
}
