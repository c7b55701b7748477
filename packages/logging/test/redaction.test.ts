import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig, describeConfig } from '@recomart/config';
import { createLogger, jobLogger, scrubLine } from '@recomart/logging';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, destination };
}

describe('log redaction', () => {
  const env = {
    REDIS_URL: 'redis://ops:r3d1s-pa55@redis.internal:6380/0',
    PRODUCTS_API_URL: 'https://catalog:c4t-secret@api.example.test/products',
    PRODUCTS_API_TOKEN: 'tok_live_8f7a6b5c4d3e',
    BOARD_PASSWORD: 'b0ard-pw-123',
  };
  const config = loadConfig(env);
  const secrets = ['r3d1s-pa55', 'c4t-secret', 'tok_live_8f7a6b5c4d3e', 'b0ard-pw-123'];

  it('a token or password in a URL never reaches a log line, wherever it appears', () => {
    const { lines, destination } = capture();
    const log = createLogger({ app: 'test', secrets: config.secrets, destination });
    log.info({ url: 'https://api.example.test/products?token=tok_live_8f7a6b5c4d3e' }, 'fetching');
    log.info({ redis: config.redisUrl }, `connecting to ${config.redisUrl}`);
    log.warn({ err: new Error(`GET ${config.products.apiUrl} failed`) }, 'request failed');
    log.info({ headers: { authorization: 'Bearer tok_live_8f7a6b5c4d3e' } }, 'headers');
    log.info({ config: describeConfig(config) }, 'effective configuration');
    log.info({ nested: { deep: { password: 'anything-at-all' } } }, 'nested');
    log.error(`board login with ${config.board.password}`);
    expect(lines.length).toBe(7);
    const all = lines.join('\n');
    for (const s of [...secrets, 'anything-at-all']) expect(all).not.toContain(s);
    expect(all).toContain('redis.internal');
    expect(all).toContain('[REDACTED]');
  });

  it('job loggers carry the job context and stay redacted', () => {
    const { lines, destination } = capture();
    const root = createLogger({ app: 'worker', secrets: config.secrets, destination });
    const log = jobLogger(root, { queue: 'ingest-products', jobId: 'products__2026-01-01', source: 'products', date: '2026-01-01', attempt: 2 });
    log.info({ token: 'tok_live_8f7a6b5c4d3e' }, 'page fetched');
    const line = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(line).toMatchObject({ app: 'worker', queue: 'ingest-products', jobId: 'products__2026-01-01', source: 'products', date: '2026-01-01', attempt: 2, token: '[REDACTED]' });
  });

  it('scrubs URL credentials and bearer tokens even when no secret was configured', () => {
    expect(scrubLine('"amqp://u:p4ss@h/x" Bearer abc.def-123')).toBe('"amqp://[REDACTED]@h/x" Bearer [REDACTED]');
  });
});
