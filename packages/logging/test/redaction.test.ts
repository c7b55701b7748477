import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig, describeConfig } from '@recomart/config';
import { createLogger, jobLogger, redactUrlSecrets, redactUrlValue, scrubLine } from '@recomart/logging';

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

describe('secrets in URL query strings', () => {
  it('are redacted by parameter name, wherever a URL appears in a line', () => {
    const names = ['api_key', 'apikey', 'api-key', 'apiKey', 'key', 'token', 'access_token', 'refresh_token', 'secret', 'client_secret', 'password', 'passwd', 'pwd', 'signature', 'X-Amz-Signature', 'X-Amz-Credential', 'sig', 'auth', 'auth_token', 'session_id'];
    for (const name of names) {
      const line = `GET https://api.example.test/p?offset=0&${name}=V4lue-9%2F8&limit=100 failed`;
      expect(scrubLine(line), name).toBe(`GET https://api.example.test/p?offset=0&${name}=[REDACTED]&limit=100 failed`);
      expect(scrubLine(JSON.stringify({ url: `http://h/x?${name}=V4lue-9` })), name).toBe(`{"url":"http://h/x?${name}=[REDACTED]"}`);
    }
  });

  it('keeps ordinary parameters (the request log stays useful)', () => {
    const line = 'http://h/products?offset=100&limit=50&cursor=abc&page=2&per_page=10&sort=price';
    expect(scrubLine(line)).toBe(line);
  });

  it('are not in the worker start-up line (the effective configuration)', () => {
    const withQuerySecrets = loadConfig({
      PRODUCTS_API_URL: 'https://api.example.test/products?api_key=AK-91f3c2e0&region=eu',
      CLICKSTREAM_URL_TEMPLATE: 'https://exports.example.test/{date}.csv?access_token=AT-77d1a0b2',
      REDIS_URL: 'redis://redis.internal:6379/0?password=RP-5e6f7a8b',
    });
    const { lines, destination } = capture();
    const log = createLogger({ app: 'worker', secrets: withQuerySecrets.secrets, destination });
    log.info({ event: 'worker-starting', config: describeConfig(withQuerySecrets) }, 'worker starting');
    const described = JSON.stringify(describeConfig(withQuerySecrets));
    for (const text of [lines.join('\n'), described]) {
      for (const s of ['AK-91f3c2e0', 'AT-77d1a0b2', 'RP-5e6f7a8b']) expect(text).not.toContain(s);
      expect(text).toContain('region=eu');
    }
  });

  it('a malformed URL loses its credentials too (a typo such as redis//:pw@host)', () => {
    expect(redactUrlSecrets('REDIS_URL must be a URL, got "redis//:pa@ss@10.0.0.1:6379"')).toBe('REDIS_URL must be a URL, got "redis//[REDACTED]@10.0.0.1:6379"');
    expect(redactUrlValue('http://us er:pa ss@[bad/x?token=t0k')).toBe('http://[REDACTED]@[bad/x?token=[REDACTED]');
  });
});
