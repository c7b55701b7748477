import {
  bool,
  cron,
  integer,
  oneOf,
  optionalText,
  origins,
  optionalUrl,
  pairs,
  ratio,
  text,
  timeZone,
  url,
} from './variables.js';
import { sentinelList } from './sentinel-variables.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Every environment variable RecoMart reads, with its default and meaning.
 * The README's configuration table mirrors this list (a test keeps them in step).
 */
export const variables = {
  REDIS_URL: url(
    {
      name: 'REDIS_URL',
      defaultValue: 'redis://127.0.0.1:6379',
      doc: 'Redis that holds the queues and the audit event stream. Credentials in it are redacted from logs.',
    },
    ['redis:', 'rediss:'],
    'a redis:// or rediss:// URL',
  ),
  // Redis Sentinel (high availability): every process finds the current primary through the sentinels and
  // follows a failover by itself. REDIS_URL then gives only the user, password and database.
  REDIS_SENTINELS: sentinelList({
    name: 'REDIS_SENTINELS',
    doc: 'Sentinels to ask for the current Redis primary (`host:port,…`); when set, the host and port of `REDIS_URL` are not used (its user, password and database are).',
  }),
  REDIS_SENTINEL_NAME: text(
    { name: 'REDIS_SENTINEL_NAME', defaultValue: 'mymaster', doc: 'The primary\'s name the sentinels monitor (`sentinel monitor <name> …`).' },
    /^[A-Za-z0-9._-]{1,128}$/,
    'letters, digits, ".", "_" or "-" (1 to 128 characters)',
  ),
  REDIS_SENTINEL_PASSWORD: optionalText({ name: 'REDIS_SENTINEL_PASSWORD', doc: 'Password of the sentinels themselves (their `requirepass`); redacted everywhere.', secret: true }),
  QUEUE_PREFIX: text(
    { name: 'QUEUE_PREFIX', defaultValue: 'recomart', doc: 'Prefix of every BullMQ key in Redis; separate prefixes never see each other.' },
    /^[A-Za-z0-9_-]{1,64}$/,
    'letters, digits, "_" or "-" (1 to 64 characters)',
  ),
  DATA_DIR: text({ name: 'DATA_DIR', defaultValue: './data', doc: 'Root of the raw lake (`raw/`), quarantine, audit logs and the private Redis.' }),
  LANDING_DIR: optionalText({ name: 'LANDING_DIR', doc: 'Where clickstream exports land. Default: `$DATA_DIR/landing`.' }),
  LOG_LEVEL: oneOf({ name: 'LOG_LEVEL', defaultValue: 'info', doc: 'pino log level.' }, [
    'fatal',
    'error',
    'warn',
    'info',
    'debug',
    'trace',
    'silent',
  ] as const),
  LOG_FORMAT: oneOf(
    {
      name: 'LOG_FORMAT',
      defaultValue: 'auto',
      doc: '`json` (one JSON object a line), `pretty` (one compact human line an event) or `auto`: pretty on a terminal, JSON otherwise (pipes, containers). `recomart start` on a terminal makes its parts pretty.',
    },
    ['auto', 'json', 'pretty'] as const,
  ),
  LOG_COLOR: oneOf(
    { name: 'LOG_COLOR', defaultValue: 'auto', doc: 'Highlight warnings and errors in pretty lines: `always`, `never`, or `auto` (when stdout is a terminal).' },
    ['auto', 'always', 'never'] as const,
  ),
  LOG_REPEAT_WINDOW_MS: integer(
    {
      name: 'LOG_REPEAT_WINDOW_MS',
      defaultValue: '10000',
      doc: 'Worker error handlers write the first of identical lines, then hold back repeats for this long and write one "N more suppressed" line; 0 writes every line.',
    },
    0,
    HOUR,
  ),

  LAKE_URL: text(
    {
      name: 'LAKE_URL',
      defaultValue: 'file:',
      doc: 'Where the raw lake lives: `file:` (the folder `$DATA_DIR/raw`) or `s3://bucket/prefix` (an S3-compatible bucket; see "Several hosts, one lake").',
    },
    /^(file:|s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[A-Za-z0-9._=+@,\/-]*)?)$/,
    'file: or s3://bucket/prefix',
  ),
  S3_ENDPOINT: optionalUrl(
    { name: 'S3_ENDPOINT', doc: 'S3 endpoint of `LAKE_URL` / `CLICKSTREAM_LANDING_URL` (Ceph RGW, MinIO, R2 …). Unset: AWS S3.' },
    ['http:', 'https:'],
    'an http:// or https:// URL',
  ),
  S3_REGION: text({ name: 'S3_REGION', defaultValue: 'us-east-1', doc: 'S3 region (signing); most S3-compatible servers accept `us-east-1`.' }),
  S3_FORCE_PATH_STYLE: bool({ name: 'S3_FORCE_PATH_STYLE', defaultValue: 'false', doc: 'Address buckets as `endpoint/bucket/key` instead of `bucket.endpoint/key` (needed by most self-hosted servers).' }),
  S3_MAX_ATTEMPTS: integer({ name: 'S3_MAX_ATTEMPTS', defaultValue: '5', doc: 'Attempts per S3 request (the SDK\'s standard retries with backoff; `503 SlowDown` counts), then the job attempt fails retryably.' }, 1, 20),
  AWS_ACCESS_KEY_ID: optionalText({ name: 'AWS_ACCESS_KEY_ID', doc: 'S3 access key; unset: the AWS SDK\'s default chain (profile, instance role). Redacted.', secret: true }),
  AWS_SECRET_ACCESS_KEY: optionalText({ name: 'AWS_SECRET_ACCESS_KEY', doc: 'S3 secret key (with `AWS_ACCESS_KEY_ID`). Redacted everywhere.', secret: true }),
  AWS_SESSION_TOKEN: optionalText({ name: 'AWS_SESSION_TOKEN', doc: 'S3 session token of temporary credentials (optional). Redacted.', secret: true }),
  LAKE_STAGING_MAX_AGE_MS: integer(
    { name: 'LAKE_STAGING_MAX_AGE_MS', defaultValue: String(6 * HOUR), doc: 'Staging leftovers (in a bucket: claims without a manifest, incomplete multipart uploads) older than this are removed by `lake sweep` and at worker start-up. A writer silent for longer loses its claim.' },
    0,
  ),

  CLICKSTREAM_URL_TEMPLATE: optionalUrl(
    {
      name: 'CLICKSTREAM_URL_TEMPLATE',
      doc: 'When set, clickstream is downloaded from this URL (`{date}`, `{yyyy}`, `{mm}`, `{dd}`) instead of read from the landing zone.',
    },
    ['http:', 'https:'],
    'an http:// or https:// URL',
  ),
  CLICKSTREAM_LANDING_URL: optionalUrl(
    {
      name: 'CLICKSTREAM_LANDING_URL',
      doc: 'A landing zone in a bucket, `s3://bucket/prefix`: exports are read from `<prefix>/clickstream/<date>/*.csv[.gz]` (same rules as the folder; reached with the `S3_*` settings and AWS credentials). Unset: `LANDING_DIR`.',
    },
    ['s3:'],
    'an s3://bucket/prefix URL',
  ),
  CLICKSTREAM_MAX_ROW_BYTES: integer(
    { name: 'CLICKSTREAM_MAX_ROW_BYTES', defaultValue: String(64 * 1024), doc: 'A row longer than this fails the file as a schema mismatch.' },
    64,
  ),
  CLICKSTREAM_MAX_REJECT_RATIO: ratio({
    name: 'CLICKSTREAM_MAX_REJECT_RATIO',
    defaultValue: '0.01',
    doc: 'Above this share of rejected rows the version is committed but the job fails.',
  }),
  CLICKSTREAM_TIMESTAMP_TOLERANCE_MS: integer(
    { name: 'CLICKSTREAM_TIMESTAMP_TOLERANCE_MS', defaultValue: '0', doc: 'How far outside the partition day a timestamp may fall.' },
    0,
    DAY,
  ),
  CLICKSTREAM_TIMEOUT_MS: integer(
    { name: 'CLICKSTREAM_TIMEOUT_MS', defaultValue: '30000', doc: 'Download (`CLICKSTREAM_URL_TEMPLATE`): longest wait for the response headers and between two body chunks.' },
    1,
    10 * MINUTE,
  ),
  CLICKSTREAM_DOWNLOAD_DEADLINE_MS: integer(
    { name: 'CLICKSTREAM_DOWNLOAD_DEADLINE_MS', defaultValue: String(HOUR), doc: 'Download: longest time from the request to the last byte of the body, however steadily it comes.' },
    1,
    DAY,
  ),
  CLICKSTREAM_MIN_BYTES_PER_S: integer(
    { name: 'CLICKSTREAM_MIN_BYTES_PER_S', defaultValue: '16384', doc: 'Download: after the grace below, a body averaging fewer bytes a second than this fails (0: no minimum). Time our side holds the body back does not count.' },
    0,
  ),
  CLICKSTREAM_MIN_RATE_GRACE_MS: integer(
    { name: 'CLICKSTREAM_MIN_RATE_GRACE_MS', defaultValue: String(MINUTE), doc: 'Download: how long a body may start slowly before `CLICKSTREAM_MIN_BYTES_PER_S` applies.' },
    0,
    DAY,
  ),
  CLICKSTREAM_REQUIRE_MARKER: bool({
    name: 'CLICKSTREAM_REQUIRE_MARKER',
    defaultValue: 'false',
    doc: 'Landing zone: take a day only once its folder holds the `_SUCCESS` marker the exporter writes last.',
  }),
  CLICKSTREAM_SETTLE_MS: integer(
    {
      name: 'CLICKSTREAM_SETTLE_MS',
      defaultValue: String(MINUTE),
      doc: 'Landing zone, day without `_SUCCESS`: a file modified less than this before the listing is left for a later attempt (0: off).',
    },
    0,
    DAY,
  ),

  PRODUCTS_API_URL: url(
    { name: 'PRODUCTS_API_URL', defaultValue: 'http://127.0.0.1:4010/products', doc: 'The product catalogue endpoint. Credentials in it are redacted from logs.' },
    ['http:', 'https:'],
    'an http:// or https:// URL',
  ),
  PRODUCTS_PAGINATION: oneOf({ name: 'PRODUCTS_PAGINATION', defaultValue: 'offset', doc: 'How the API pages.' }, [
    'offset',
    'page',
    'cursor',
    'link',
  ] as const),
  PRODUCTS_PAGE_SIZE: integer({ name: 'PRODUCTS_PAGE_SIZE', defaultValue: '100', doc: 'Products asked for per page.' }, 1, 10_000),
  PRODUCTS_OFFSET_PARAM: text({ name: 'PRODUCTS_OFFSET_PARAM', defaultValue: 'offset', doc: 'Query parameter for the offset (offset pagination).' }),
  PRODUCTS_LIMIT_PARAM: text({ name: 'PRODUCTS_LIMIT_PARAM', defaultValue: 'limit', doc: 'Query parameter for the page size (offset and cursor pagination).' }),
  PRODUCTS_PAGE_PARAM: text({ name: 'PRODUCTS_PAGE_PARAM', defaultValue: 'page', doc: 'Query parameter for the page number (page pagination).' }),
  PRODUCTS_PER_PAGE_PARAM: text({ name: 'PRODUCTS_PER_PAGE_PARAM', defaultValue: 'per_page', doc: 'Query parameter for the page size (page pagination, and the first request of link pagination).' }),
  PRODUCTS_CURSOR_PARAM: text({ name: 'PRODUCTS_CURSOR_PARAM', defaultValue: 'cursor', doc: 'Query parameter for the cursor (cursor pagination).' }),
  PRODUCTS_CURSOR_FIELD: text({ name: 'PRODUCTS_CURSOR_FIELD', defaultValue: 'next_cursor', doc: 'Body field holding the next cursor (cursor pagination).' }),
  PRODUCTS_ITEMS_FIELD: optionalText({ name: 'PRODUCTS_ITEMS_FIELD', doc: 'Body field holding the product array. Default: the body if it is an array, else `items`.' }),
  PRODUCTS_TOTAL_FIELD: text({ name: 'PRODUCTS_TOTAL_FIELD', defaultValue: 'total', doc: 'Body field holding the catalogue size, checked against the count fetched.' }),
  PRODUCTS_FIELD_MAP: pairs({ name: 'PRODUCTS_FIELD_MAP', defaultValue: '', doc: 'Read another API\'s names, e.g. `product_id=id,popularity_score=rating`.' }),
  PRODUCTS_API_TOKEN: optionalText({ name: 'PRODUCTS_API_TOKEN', doc: 'Sent as a bearer token; redacted everywhere.', secret: true }),
  PRODUCTS_ALLOW_REDIRECTS: origins(
    {
      name: 'PRODUCTS_ALLOW_REDIRECTS',
      defaultValue: '',
      doc: 'Other origins (`https://cdn.example.com`, comma-separated) an API redirect may lead to; they never get the token or URL credentials. A redirect to any other origin fails the job for good. Every hop is kept in the request log.',
    },
    ['http:', 'https:'],
  ),
  PRODUCTS_TIMEOUT_MS: integer({ name: 'PRODUCTS_TIMEOUT_MS', defaultValue: '10000', doc: 'Per-request timeout.' }, 1, 10 * MINUTE),
  PRODUCTS_MAX_PAGES: integer({ name: 'PRODUCTS_MAX_PAGES', defaultValue: '100000', doc: 'A snapshot needing more pages is aborted.' }, 1),
  PRODUCTS_SEGMENT_BYTES: integer(
    {
      name: 'PRODUCTS_SEGMENT_BYTES',
      defaultValue: String(64 * 1024 * 1024),
      doc: 'Page bodies are stored as received, concatenated in page order into segment files (`pages/segment-0001.bin` …) indexed by `pages/index.ndjson`; a segment is closed at the first page boundary at or past this size. A resumed attempt reads the last, partial segment back into memory once, so this also bounds that.',
    },
    1,
    1024 * 1024 * 1024,
  ),
  PRODUCTS_CONCURRENCY: integer({ name: 'PRODUCTS_CONCURRENCY', defaultValue: '4', doc: 'Pages fetched at once (offset and page pagination).' }, 1, 64),
  PRODUCTS_PAGE_RETRIES: integer({ name: 'PRODUCTS_PAGE_RETRIES', defaultValue: '5', doc: 'Retries of one page (timeouts, resets, 5xx, bad bodies) before the job attempt fails.' }, 0, 100),
  PRODUCTS_RETRY_BASE_MS: integer({ name: 'PRODUCTS_RETRY_BASE_MS', defaultValue: '250', doc: 'Base of the per-page exponential backoff with full jitter.' }, 0, MINUTE),
  PRODUCTS_MAX_RETRY_AFTER_MS: integer(
    { name: 'PRODUCTS_MAX_RETRY_AFTER_MS', defaultValue: '15000', doc: 'A 429\'s `Retry-After` (or rate-limit reset) up to this is waited out inside the job, pausing every page of the snapshot; a longer one hands the job back to the queue\'s rate limiter and the next attempt resumes from the first page it lacks.' },
    0,
    10 * MINUTE,
  ),
  PRODUCTS_MAX_HANDBACK_MS: integer(
    { name: 'PRODUCTS_MAX_HANDBACK_MS', defaultValue: String(5 * MINUTE), doc: 'Longest wait of one rate-limit hand-back; a longer `Retry-After` is clamped to it (and counted like any other).' },
    1000,
    DAY,
  ),
  PRODUCTS_MAX_STALLED_HANDBACKS: integer(
    { name: 'PRODUCTS_MAX_STALLED_HANDBACKS', defaultValue: '10', doc: 'A snapshot handed back this many times in a row for rate limits without a new page fails for good.' },
    1,
    10_000,
  ),
  PRODUCTS_MAX_SNAPSHOT_MS: integer(
    { name: 'PRODUCTS_MAX_SNAPSHOT_MS', defaultValue: String(4 * HOUR), doc: 'A rate-limited snapshot still unfinished this long after its first request fails for good (keep it below `LAKE_STAGING_MAX_AGE_MS`, which keeps its pages between attempts).' },
    1000,
    30 * DAY,
  ),

  PRODUCTS_RATE_LIMIT: integer(
    { name: 'PRODUCTS_RATE_LIMIT', defaultValue: '0', doc: 'Requests a second to the product API shared by ALL workers through Redis; 0 = no shared budget.' },
    0,
    100_000,
  ),

  JOB_ATTEMPTS: integer({ name: 'JOB_ATTEMPTS', defaultValue: '8', doc: 'Attempts per ingest job.' }, 1, 1000),
  JOB_BACKOFF_MS: integer({ name: 'JOB_BACKOFF_MS', defaultValue: '30000', doc: 'Base of the exponential backoff with jitter between attempts.' }, 0, DAY),
  JOB_KEEP_COMPLETED_AGE_S: integer({ name: 'JOB_KEEP_COMPLETED_AGE_S', defaultValue: String(7 * 24 * 3600), doc: 'Completed jobs are removed after this many seconds…' }, 1),
  JOB_KEEP_COMPLETED_COUNT: integer({ name: 'JOB_KEEP_COMPLETED_COUNT', defaultValue: '5000', doc: '…or when more than this many are kept.' }, 0),
  JOB_KEEP_FAILED_AGE_S: integer({ name: 'JOB_KEEP_FAILED_AGE_S', defaultValue: String(30 * 24 * 3600), doc: 'Failed jobs are removed after this many seconds…' }, 1),
  JOB_KEEP_FAILED_COUNT: integer({ name: 'JOB_KEEP_FAILED_COUNT', defaultValue: '10000', doc: '…or when more than this many are kept.' }, 0),

  WORKER_CONCURRENCY: integer({ name: 'WORKER_CONCURRENCY', defaultValue: '2', doc: 'Jobs at once per source queue in one worker process (`--concurrency` overrides).' }, 1, 256),
  // A killed worker's job starts again on another worker within WORKER_LOCK_MS + WORKER_STALLED_INTERVAL_MS (15 s by
  // default). The lock is renewed every WORKER_LOCK_MS / 2, so a worker whose event loop stalls longer than that half
  // (5 s) can lose its lock while it still runs: a second attempt then runs at once, which the lake makes harmless
  // (one version commits, the other finds it `unchanged`). The benchmark measures the worst event-loop delay.
  WORKER_LOCK_MS: integer(
    { name: 'WORKER_LOCK_MS', defaultValue: '10000', doc: 'Job lock duration, renewed every half of it while the job runs. A killed worker\'s job is picked up again after at most this plus `WORKER_STALLED_INTERVAL_MS`.' },
    1000,
    HOUR,
  ),
  WORKER_STALLED_INTERVAL_MS: integer(
    { name: 'WORKER_STALLED_INTERVAL_MS', defaultValue: '5000', doc: 'How often workers look for jobs whose lock expired (stalled) and hand them out again.' },
    1000,
    HOUR,
  ),
  WORKER_MAX_STALLED_COUNT: integer({ name: 'WORKER_MAX_STALLED_COUNT', defaultValue: '2', doc: 'A job that stalls more often than this fails for good.' }, 0, 100),
  WORKER_HTTP_PORT: integer({ name: 'WORKER_HTTP_PORT', defaultValue: '9464', doc: 'Health (`/healthz`) and Prometheus (`/metrics`) port; 0 picks a free one.' }, 0, 65535),
  SHUTDOWN_GRACE_MS: integer({ name: 'SHUTDOWN_GRACE_MS', defaultValue: '30000', doc: 'On SIGTERM, how long active jobs may run before the worker closes anyway.' }, 0, HOUR),

  SCHEDULE_CRON_CLICKSTREAM: cron({ name: 'SCHEDULE_CRON_CLICKSTREAM', defaultValue: '0 2 * * *', doc: 'Clickstream schedule; each tick ingests the previous day.' }),
  SCHEDULE_CRON_PRODUCTS: cron({ name: 'SCHEDULE_CRON_PRODUCTS', defaultValue: '0 3 * * *', doc: 'Product snapshot schedule; each tick ingests the same day.' }),
  SCHEDULE_TZ: timeZone({ name: 'SCHEDULE_TZ', defaultValue: 'UTC', doc: 'Time zone the schedules fire in (when ticks happen, not which day they ingest).' }),
  PARTITION_TZ: timeZone({
    name: 'PARTITION_TZ',
    defaultValue: 'UTC',
    doc: 'The day of a partition: a calendar day in this zone, for ticks, catch-up, the future-date check and the clickstream row window. Stored with the schedules; recorded in clickstream manifests.',
  }),
  SCHEDULE_WATCH_INTERVAL_MS: integer(
    { name: 'SCHEDULE_WATCH_INTERVAL_MS', defaultValue: '60000', doc: 'How often the scheduler process (`schedule --serve`) looks for a scheduler whose next tick is in the past, repairs it and catches up.' },
    100,
    HOUR,
  ),
  CATCH_UP_DAYS: integer({ name: 'CATCH_UP_DAYS', defaultValue: '7', doc: 'Catch-up looks this many days back for partitions with no committed version.' }, 0, 3660),
  BACKFILL_MAX_DAYS: integer({ name: 'BACKFILL_MAX_DAYS', defaultValue: '3660', doc: 'Longest range one backfill accepts.' }, 1, 100_000),

  AUDIT_STREAM_MAXLEN: integer({ name: 'AUDIT_STREAM_MAXLEN', defaultValue: '1000000', doc: 'Approximate cap of the workers\' audit event stream in Redis.' }, 1000),
  AUDIT_FSYNC_EVERY_MS: integer({ name: 'AUDIT_FSYNC_EVERY_MS', defaultValue: '200', doc: 'The audit sink fsyncs its batch at least this often.' }, 1, MINUTE),
  COMMIT_FEED_MAXLEN: integer(
    { name: 'COMMIT_FEED_MAXLEN', defaultValue: '100000', doc: 'Approximate cap of the lake\'s commit feed (`<QUEUE_PREFIX>:lake:commits`); an entry a consumer group has not acknowledged is lost once trimmed.' },
    1000,
  ),

  BOARD_HOST: text({ name: 'BOARD_HOST', defaultValue: '127.0.0.1', doc: 'Address the board binds to.' }),
  BOARD_PORT: integer({ name: 'BOARD_PORT', defaultValue: '3000', doc: 'Board port (`--port` overrides).' }, 0, 65535),
  BOARD_USER: optionalText({ name: 'BOARD_USER', doc: 'Board basic-auth user.' }),
  BOARD_PASSWORD: optionalText({ name: 'BOARD_PASSWORD', doc: 'Board basic-auth password.', secret: true }),
  BOARD_AUTH: oneOf({ name: 'BOARD_AUTH', defaultValue: 'on', doc: '`off` runs the board without auth, allowed only on 127.0.0.1.' }, ['on', 'off'] as const),
  BOARD_READ_ONLY: bool({ name: 'BOARD_READ_ONLY', defaultValue: 'false', doc: 'Bull Board read-only mode, enforced by the server.' }),
} as const;

export type VariableName = keyof typeof variables;
