import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig, variables } from '@recomart/config';

function problemOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the documented defaults and freezes the result', () => {
    const c = loadConfig({});
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(c.queuePrefix).toBe('recomart');
    expect(c.dataDir.endsWith('/data')).toBe(true);
    expect(c.landingDir).toBe(`${c.dataDir}/landing`);
    expect(c.log.level).toBe('info');
    expect(c.jobs.attempts).toBe(8);
    expect(c.products.apiUrl).toBe('http://127.0.0.1:4010/products');
    expect(c.schedule.cron).toEqual({ clickstream: '0 2 * * *', products: '0 3 * * *' });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.products)).toBe(true);
    expect(() => {
      (c as { queuePrefix: string }).queuePrefix = 'x';
    }).toThrow(TypeError);
  });

  it('gives the exact message for a bad REDIS_URL', () => {
    expect(problemOf({ REDIS_URL: 'localhost' })).toBe('REDIS_URL must be a redis:// or rediss:// URL, got "localhost"');
  });

  it('never repeats a password from a malformed URL (finding 10)', () => {
    expect(problemOf({ REDIS_URL: 'redis//:hunter2pass@10.0.0.5:6379' })).toBe(
      'REDIS_URL must be a redis:// or rediss:// URL, got "redis//[REDACTED]@10.0.0.5:6379"',
    );
    expect(problemOf({ PRODUCTS_API_URL: 'htp://catalog:c4t pass@api.example.test/products?api_key=AK1' })).toBe(
      'PRODUCTS_API_URL must be an http:// or https:// URL, got "htp://[REDACTED]@api.example.test/products?api_key=[REDACTED]"',
    );
  });

  it('refuses credentials that do not percent-decode, naming the variable (ioredis would throw "URI malformed")', () => {
    expect(problemOf({ REDIS_URL: 'redis://:pw%zz@10.0.0.5:6379' })).toBe(
      'REDIS_URL must be a redis:// or rediss:// URL whose user and password are percent-encoded (write "%" as "%25"), got "redis://[REDACTED]@10.0.0.5:6379"',
    );
    expect(loadConfig({ REDIS_URL: 'redis://:pw%25zz@10.0.0.5:6379' }).secrets).toContain('pw%zz');
  });

  it('cuts an echoed bad value to 200 characters with its length (finding 14)', () => {
    const msg = problemOf({ QUEUE_PREFIX: 'q'.repeat(5_000_000) });
    expect(msg).toBe(`QUEUE_PREFIX must be letters, digits, "_" or "-" (1 to 64 characters), got "${'q'.repeat(200)}…" (5,000,000 characters)`);
  });

  it('reads PRODUCTS_ALLOW_REDIRECTS as origins, none by default', () => {
    expect(loadConfig({}).products.allowRedirects).toEqual([]);
    expect(loadConfig({ PRODUCTS_ALLOW_REDIRECTS: 'https://CDN.example.com, http://127.0.0.1:8080/' }).products.allowRedirects).toEqual(['https://cdn.example.com', 'http://127.0.0.1:8080']);
  });

  it('lists every bad variable at once', () => {
    const msg = problemOf({ JOB_ATTEMPTS: '0', LOG_LEVEL: 'loud' });
    expect(msg).toContain('LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"');
    expect(msg).toContain('JOB_ATTEMPTS must be an integer from 1 to 1000, got "0"');
  });

  // Every variable with a checkable type has a value that must be refused with
  // the message shape `NAME must be …, got "value"`.
  // [variable, bad value, the exact message]
  const badValues: ReadonlyArray<readonly [string, string, string]> = [
    ["REDIS_URL", "http://x", 'REDIS_URL must be a redis:// or rediss:// URL, got "http://x"'],
    ["REDIS_SENTINELS", "10.0.0.1", 'REDIS_SENTINELS must be comma-separated host:port pairs such as 10.0.0.1:26379,10.0.0.2:26379, got "10.0.0.1"'],
    ["REDIS_SENTINEL_NAME", "my master", 'REDIS_SENTINEL_NAME must be letters, digits, ".", "_" or "-" (1 to 128 characters), got "my master"'],
    ["QUEUE_PREFIX", "a:b", 'QUEUE_PREFIX must be letters, digits, "_" or "-" (1 to 64 characters), got "a:b"'],
    ["DATA_DIR", "", 'DATA_DIR must be a non-empty string, got ""'],
    ["LOG_LEVEL", "verbose", 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"'],
    ["LOG_FORMAT", "yaml", 'LOG_FORMAT must be one of auto, json, pretty, got "yaml"'],
    ["LOG_COLOR", "rainbow", 'LOG_COLOR must be one of auto, always, never, got "rainbow"'],
    ["LAKE_STAGING_MAX_AGE_MS", "-1", 'LAKE_STAGING_MAX_AGE_MS must be an integer >= 0, got "-1"'],
    ["LAKE_URL", "s3://Bad_Bucket/x", 'LAKE_URL must be file: or s3://bucket/prefix, got "s3://Bad_Bucket/x"'],
    ["S3_ENDPOINT", "127.0.0.1:7480", 'S3_ENDPOINT must be an http:// or https:// URL, got "127.0.0.1:7480"'],
    ["S3_REGION", "", 'S3_REGION must be a non-empty string, got ""'],
    ["S3_FORCE_PATH_STYLE", "path", 'S3_FORCE_PATH_STYLE must be true or false, got "path"'],
    ["S3_MAX_ATTEMPTS", "0", 'S3_MAX_ATTEMPTS must be an integer from 1 to 20, got "0"'],
    ["CLICKSTREAM_URL_TEMPLATE", "ftp://x/{date}", 'CLICKSTREAM_URL_TEMPLATE must be an http:// or https:// URL, got "ftp://x/{date}"'],
    ["CLICKSTREAM_LANDING_URL", "/srv/landing", 'CLICKSTREAM_LANDING_URL must be an s3://bucket/prefix URL, got "/srv/landing"'],
    ["CLICKSTREAM_MAX_ROW_BYTES", "10", 'CLICKSTREAM_MAX_ROW_BYTES must be an integer >= 64, got "10"'],
    ["CLICKSTREAM_MAX_REJECT_RATIO", "1.5", 'CLICKSTREAM_MAX_REJECT_RATIO must be a number from 0 to 1, got "1.5"'],
    ["CLICKSTREAM_TIMESTAMP_TOLERANCE_MS", "soon", 'CLICKSTREAM_TIMESTAMP_TOLERANCE_MS must be an integer from 0 to 86400000, got "soon"'],
    ["CLICKSTREAM_TIMEOUT_MS", "0", 'CLICKSTREAM_TIMEOUT_MS must be an integer from 1 to 600000, got "0"'],
    ["CLICKSTREAM_DOWNLOAD_DEADLINE_MS", "0", 'CLICKSTREAM_DOWNLOAD_DEADLINE_MS must be an integer from 1 to 86400000, got "0"'],
    ["CLICKSTREAM_MIN_BYTES_PER_S", "-1", 'CLICKSTREAM_MIN_BYTES_PER_S must be an integer >= 0, got "-1"'],
    ["CLICKSTREAM_MIN_RATE_GRACE_MS", "1s", 'CLICKSTREAM_MIN_RATE_GRACE_MS must be an integer from 0 to 86400000, got "1s"'],
    ["CLICKSTREAM_REQUIRE_MARKER", "maybe", 'CLICKSTREAM_REQUIRE_MARKER must be true or false, got "maybe"'],
    ["CLICKSTREAM_SETTLE_MS", "-1", 'CLICKSTREAM_SETTLE_MS must be an integer from 0 to 86400000, got "-1"'],
    ["PRODUCTS_API_URL", "redis://x", 'PRODUCTS_API_URL must be an http:// or https:// URL, got "redis://x"'],
    ["PRODUCTS_PAGINATION", "scroll", 'PRODUCTS_PAGINATION must be one of offset, page, cursor, link, got "scroll"'],
    ["PRODUCTS_PAGE_SIZE", "0", 'PRODUCTS_PAGE_SIZE must be an integer from 1 to 10000, got "0"'],
    ["PRODUCTS_OFFSET_PARAM", "", 'PRODUCTS_OFFSET_PARAM must be a non-empty string, got ""'],
    ["PRODUCTS_LIMIT_PARAM", "", 'PRODUCTS_LIMIT_PARAM must be a non-empty string, got ""'],
    ["PRODUCTS_PAGE_PARAM", "", 'PRODUCTS_PAGE_PARAM must be a non-empty string, got ""'],
    ["PRODUCTS_PER_PAGE_PARAM", "", 'PRODUCTS_PER_PAGE_PARAM must be a non-empty string, got ""'],
    ["PRODUCTS_CURSOR_PARAM", "", 'PRODUCTS_CURSOR_PARAM must be a non-empty string, got ""'],
    ["PRODUCTS_CURSOR_FIELD", "", 'PRODUCTS_CURSOR_FIELD must be a non-empty string, got ""'],
    ["PRODUCTS_TOTAL_FIELD", "", 'PRODUCTS_TOTAL_FIELD must be a non-empty string, got ""'],
    ["PRODUCTS_FIELD_MAP", "product_id", 'PRODUCTS_FIELD_MAP must be comma-separated name=field pairs such as product_id=id,popularity_score=rating, got "product_id"'],
    ["LOG_REPEAT_WINDOW_MS", "-1", 'LOG_REPEAT_WINDOW_MS must be an integer from 0 to 3600000, got "-1"'],
    ["PRODUCTS_ALLOW_REDIRECTS", "https://cdn.example.com/path", 'PRODUCTS_ALLOW_REDIRECTS must be comma-separated origins such as https://cdn.example.com:8443 (scheme, host and port only), got "https://cdn.example.com/path"'],
    ["PRODUCTS_TIMEOUT_MS", "0", 'PRODUCTS_TIMEOUT_MS must be an integer from 1 to 600000, got "0"'],
    ["PRODUCTS_MAX_PAGES", "0", 'PRODUCTS_MAX_PAGES must be an integer >= 1, got "0"'],
    ["PRODUCTS_SEGMENT_BYTES", "0", 'PRODUCTS_SEGMENT_BYTES must be an integer from 1 to 1073741824, got "0"'],
    ["PRODUCTS_CONCURRENCY", "65", 'PRODUCTS_CONCURRENCY must be an integer from 1 to 64, got "65"'],
    ["PRODUCTS_PAGE_RETRIES", "1.5", 'PRODUCTS_PAGE_RETRIES must be an integer from 0 to 100, got "1.5"'],
    ["PRODUCTS_RETRY_BASE_MS", "x", 'PRODUCTS_RETRY_BASE_MS must be an integer from 0 to 60000, got "x"'],
    ["PRODUCTS_MAX_RETRY_AFTER_MS", "-5", 'PRODUCTS_MAX_RETRY_AFTER_MS must be an integer from 0 to 600000, got "-5"'],
    ["PRODUCTS_MAX_STALLED_HANDBACKS", "0", 'PRODUCTS_MAX_STALLED_HANDBACKS must be an integer from 1 to 10000, got "0"'],
    ["PRODUCTS_MAX_HANDBACK_MS", "999", 'PRODUCTS_MAX_HANDBACK_MS must be an integer from 1000 to 86400000, got "999"'],
    ["PRODUCTS_MAX_SNAPSHOT_MS", "1h", 'PRODUCTS_MAX_SNAPSHOT_MS must be an integer from 1000 to 2592000000, got "1h"'],
    ["PRODUCTS_RATE_LIMIT", "fast", 'PRODUCTS_RATE_LIMIT must be an integer from 0 to 100000, got "fast"'],
    ["JOB_ATTEMPTS", "eight", 'JOB_ATTEMPTS must be an integer from 1 to 1000, got "eight"'],
    ["JOB_BACKOFF_MS", "1e3", 'JOB_BACKOFF_MS must be an integer from 0 to 86400000, got "1e3"'],
    ["JOB_KEEP_COMPLETED_AGE_S", "0", 'JOB_KEEP_COMPLETED_AGE_S must be an integer >= 1, got "0"'],
    ["JOB_KEEP_COMPLETED_COUNT", "-1", 'JOB_KEEP_COMPLETED_COUNT must be an integer >= 0, got "-1"'],
    ["JOB_KEEP_FAILED_AGE_S", "0", 'JOB_KEEP_FAILED_AGE_S must be an integer >= 1, got "0"'],
    ["JOB_KEEP_FAILED_COUNT", "all", 'JOB_KEEP_FAILED_COUNT must be an integer >= 0, got "all"'],
    ["WORKER_CONCURRENCY", "0", 'WORKER_CONCURRENCY must be an integer from 1 to 256, got "0"'],
    ["WORKER_LOCK_MS", "10", 'WORKER_LOCK_MS must be an integer from 1000 to 3600000, got "10"'],
    ["WORKER_STALLED_INTERVAL_MS", "10", 'WORKER_STALLED_INTERVAL_MS must be an integer from 1000 to 3600000, got "10"'],
    ["WORKER_MAX_STALLED_COUNT", "101", 'WORKER_MAX_STALLED_COUNT must be an integer from 0 to 100, got "101"'],
    ["WORKER_HTTP_PORT", "70000", 'WORKER_HTTP_PORT must be an integer from 0 to 65535, got "70000"'],
    ["SHUTDOWN_GRACE_MS", "never", 'SHUTDOWN_GRACE_MS must be an integer from 0 to 3600000, got "never"'],
    ["SCHEDULE_CRON_CLICKSTREAM", "daily", 'SCHEDULE_CRON_CLICKSTREAM must be a cron expression of 5 or 6 fields, got "daily"'],
    ["SCHEDULE_CRON_PRODUCTS", "* *", 'SCHEDULE_CRON_PRODUCTS must be a cron expression of 5 or 6 fields, got "* *"'],
    ["SCHEDULE_TZ", "Mars/Olympus", 'SCHEDULE_TZ must be an IANA time zone such as UTC or Europe/Berlin, got "Mars/Olympus"'],
    ["PARTITION_TZ", "Europe/Atlantis", 'PARTITION_TZ must be an IANA time zone such as UTC or Europe/Berlin, got "Europe/Atlantis"'],
    ["SCHEDULE_WATCH_INTERVAL_MS", "5", 'SCHEDULE_WATCH_INTERVAL_MS must be an integer from 100 to 3600000, got "5"'],
    ["CATCH_UP_DAYS", "-1", 'CATCH_UP_DAYS must be an integer from 0 to 3660, got "-1"'],
    ["BACKFILL_MAX_DAYS", "0", 'BACKFILL_MAX_DAYS must be an integer from 1 to 100000, got "0"'],
    ["AUDIT_STREAM_MAXLEN", "10", 'AUDIT_STREAM_MAXLEN must be an integer >= 1000, got "10"'],
    ["COMMIT_FEED_MAXLEN", "10", 'COMMIT_FEED_MAXLEN must be an integer >= 1000, got "10"'],
    ["AUDIT_FSYNC_EVERY_MS", "0", 'AUDIT_FSYNC_EVERY_MS must be an integer from 1 to 60000, got "0"'],
    ["BOARD_HOST", "", 'BOARD_HOST must be a non-empty string, got ""'],
    ["BOARD_PORT", "http", 'BOARD_PORT must be an integer from 0 to 65535, got "http"'],
    ["BOARD_AUTH", "maybe", 'BOARD_AUTH must be one of on, off, got "maybe"'],
    ["BOARD_READ_ONLY", "sometimes", 'BOARD_READ_ONLY must be true or false, got "sometimes"'],
  ];

  it('has a bad-value case for every variable that can be bad', () => {
    const optionalFree = ['LANDING_DIR', 'PRODUCTS_ITEMS_FIELD', 'PRODUCTS_API_TOKEN', 'BOARD_USER', 'BOARD_PASSWORD', 'REDIS_SENTINEL_PASSWORD', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'];
    expect(Object.keys(variables).filter((n) => !optionalFree.includes(n)).sort()).toEqual(badValues.map(([n]) => n).sort());
  });

  for (const [name, value, message] of badValues) {
    it(`refuses ${name}=${JSON.stringify(value)} with its exact message`, () => {
      expect(problemOf({ [name]: value })).toBe(message);
    });
  }

  it('reads the sentinels, the primary\'s name and the sentinel password, which it redacts', () => {
    expect(loadConfig({}).redisSentinel).toBeUndefined();
    const c = loadConfig({ REDIS_SENTINELS: '10.0.0.1:26379, sentinel-b:26380,[::1]:26381', REDIS_SENTINEL_NAME: 'ingest', REDIS_SENTINEL_PASSWORD: 'sentinel-pw-42' });
    expect(c.redisSentinel).toEqual({
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: 'sentinel-b', port: 26380 },
        { host: '::1', port: 26381 },
      ],
      name: 'ingest',
      password: 'sentinel-pw-42',
    });
    expect(JSON.stringify(describeConfig(c))).not.toContain('sentinel-pw-42');
    expect(problemOf({ REDIS_SENTINELS: 'a:26379,b:0' })).toBe('REDIS_SENTINELS must be comma-separated host:port pairs such as 10.0.0.1:26379,10.0.0.2:26379, got "a:26379,b:0"');
  });

  it('redacts credentials and tokens from the described config', () => {
    const c = loadConfig({
      REDIS_URL: 'redis://admin:s3cretpass@redis.internal:6379',
      PRODUCTS_API_TOKEN: 'tok_abcdef123456',
      BOARD_PASSWORD: 'hunter22',
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEKEY',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMIsecretEXAMPLE',
      LAKE_URL: 's3://lake-bucket/raw',
    });
    expect(c.lake).toMatchObject({ url: 's3://lake-bucket/raw', s3: { credentials: { secretAccessKey: 'wJalrXUtnFEMIsecretEXAMPLE' } } });
    const text = JSON.stringify(describeConfig(c));
    expect(text).not.toContain('wJalrXUtnFEMIsecretEXAMPLE');
    expect(text).not.toContain('AKIAEXAMPLEKEY');
    expect(text).toContain('s3://lake-bucket/raw');
    expect(text).not.toContain('s3cretpass');
    expect(text).not.toContain('tok_abcdef123456');
    expect(text).not.toContain('hunter22');
    expect(text).toContain('redis.internal');
  });
});
