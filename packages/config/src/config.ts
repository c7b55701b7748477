import path from 'node:path';
import { redactUrlSecrets } from '@recomart/logging';
import { variables, type VariableName } from './schema.js';

import type { Variable } from './variables.js';
import type { SentinelAddress } from './sentinel-variables.js';

type ValueOf<V> = V extends Variable<infer T> ? T : never;
type Values = { -readonly [K in VariableName]: ValueOf<(typeof variables)[K]> };

/** Thrown when the environment holds a bad value; `message` is the exact one-line reason. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
  }
}

/** How to reach an S3-compatible server (shaped like the lake's `S3Options`). */
export interface S3Settings {
  readonly endpoint?: string;
  readonly region: string;
  readonly forcePathStyle: boolean;
  readonly maxAttempts: number;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
}

/** Where the sentinels are and which primary they watch (REDIS_SENTINELS, REDIS_SENTINEL_NAME, REDIS_SENTINEL_PASSWORD). */
export interface SentinelConfig {
  readonly sentinels: readonly SentinelAddress[];
  readonly name: string;
  readonly password: string | undefined;
}

export interface Config {
  readonly redisUrl: string;
  /** Set when REDIS_SENTINELS is: connections go to the primary the sentinels name. */
  readonly redisSentinel: SentinelConfig | undefined;
  readonly queuePrefix: string;
  readonly dataDir: string;
  readonly landingDir: string;
  readonly log: { readonly level: Values['LOG_LEVEL']; readonly format: Values['LOG_FORMAT']; readonly color: Values['LOG_COLOR']; readonly repeatWindowMs: number };
  readonly lake: {
    readonly root: string;
    readonly stagingMaxAgeMs: number;
    readonly commitFeedMaxLen: number;
    /** `LAKE_URL`: `file:` or `s3://bucket/prefix`. */
    readonly url: string;
    /** How to reach S3 (for an `s3://` lake or landing zone); credentials unset = the AWS SDK's default chain. */
    readonly s3: S3Settings;
  };
  readonly clickstream: {
    readonly urlTemplate: string | undefined;
    /** `CLICKSTREAM_LANDING_URL`: a landing zone in a bucket (`s3://bucket/prefix`), else `landingDir`. */
    readonly landingUrl: string | undefined;
    readonly maxRowBytes: number;
    readonly maxRejectRatio: number;
    readonly timestampToleranceMs: number;
    readonly timeoutMs: number;
    readonly downloadDeadlineMs: number;
    readonly minBytesPerSecond: number;
    readonly minRateGraceMs: number;
    readonly requireMarker: boolean;
    readonly settleMs: number;
  };
  readonly products: {
    readonly apiUrl: string;
    readonly pagination: Values['PRODUCTS_PAGINATION'];
    readonly pageSize: number;
    readonly offsetParam: string;
    readonly limitParam: string;
    readonly pageParam: string;
    readonly perPageParam: string;
    readonly cursorParam: string;
    readonly cursorField: string;
    readonly itemsField: string | undefined;
    readonly totalField: string;
    readonly fieldMap: Readonly<Record<string, string>>;
    readonly apiToken: string | undefined;
    /** Origins other than the API's that a redirect may lead to (never with credentials). */
    readonly allowRedirects: readonly string[];
    readonly timeoutMs: number;
    readonly maxPages: number;
    /** Size at which a segment file of page bodies is closed (at a page boundary). */
    readonly segmentBytes: number;
    readonly concurrency: number;
    readonly pageRetries: number;
    readonly retryBaseMs: number;
    /** Longest rate-limit wait held inside the job. */
    readonly maxRetryAfterMs: number;
    /** Cap of one rate-limit hand-back. */
    readonly maxHandbackMs: number;
    readonly maxStalledHandbacks: number;
    readonly maxSnapshotMs: number;
    /** Shared requests/s budget; 0 = none. */
    readonly rateLimitPerSecond: number;
  };
  readonly jobs: {
    readonly attempts: number;
    readonly backoffMs: number;
    readonly keepCompleted: { readonly age: number; readonly count: number };
    readonly keepFailed: { readonly age: number; readonly count: number };
  };
  readonly worker: {
    readonly concurrency: number;
    readonly lockMs: number;
    readonly stalledIntervalMs: number;
    readonly maxStalledCount: number;
    readonly httpPort: number;
    readonly shutdownGraceMs: number;
  };
  readonly schedule: {
    readonly cron: { readonly clickstream: string; readonly products: string };
    readonly tz: string;
    /** PARTITION_TZ: the zone whose calendar days are the partitions' dates. */
    readonly partitionTz: string;
    readonly watchIntervalMs: number;
    readonly catchUpDays: number;
    readonly backfillMaxDays: number;
  };
  readonly audit: { readonly streamMaxLen: number; readonly fsyncEveryMs: number };
  readonly board: {
    readonly host: string;
    readonly port: number;
    readonly user: string | undefined;
    readonly password: string | undefined;
    readonly auth: 'on' | 'off';
    readonly readOnly: boolean;
  };
  /** Whether REDIS_URL was set explicitly (`recomart start` only starts a private Redis when it was not). */
  readonly redisUrlExplicit: boolean;
  /** Secret values present in this config, for log redaction. */
  readonly secrets: readonly string[];
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Credentials inside a URL (user:password@) and the URL's password alone. */
function secretsOf(raw: string | undefined): string[] {
  if (!raw) return [];
  const out = [raw];
  try {
    const u = new URL(raw);
    if (u.password) out.push(u.password);
    if (u.username && u.password) out.push(u.username + ':' + u.password);
    if (u.password) out.push(decodeURIComponent(u.password));
  } catch {
    /* not a URL (or not decodable): what was found so far, and the whole value */
  }
  return out;
}

/**
 * Reads, validates and freezes the configuration. The only reader of the
 * environment in the whole project.
 *
 * @throws ConfigError listing every bad variable with its exact message.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const values = {} as Record<string, unknown>;
  const problems: string[] = [];
  for (const [name, v] of Object.entries(variables)) {
    const raw = env[name] ?? v.defaultValue;
    if (raw === undefined) {
      values[name] = undefined;
      continue;
    }
    const result = v.parse(raw);
    if (result.ok) values[name] = result.value;
    else problems.push(result.message);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const x = values as Values;

  const dataDir = path.resolve(x.DATA_DIR);
  const secrets = new Set<string>();
  for (const [name, v] of Object.entries(variables)) {
    if (!v.secret) continue;
    const raw = env[name];
    for (const s of secretsOf(raw)) if (s.length >= 4 && raw !== v.defaultValue) secrets.add(s);
  }
  // URL credentials are secret even when the URL itself is fine to log.
  for (const s of secretsOf(x.REDIS_URL).slice(1)) secrets.add(s);
  for (const s of secretsOf(x.PRODUCTS_API_URL).slice(1)) secrets.add(s);
  for (const s of secretsOf(x.S3_ENDPOINT).slice(1)) secrets.add(s);

  const config: Config = {
    redisUrl: x.REDIS_URL,
    redisSentinel: x.REDIS_SENTINELS ? { sentinels: x.REDIS_SENTINELS, name: x.REDIS_SENTINEL_NAME, password: x.REDIS_SENTINEL_PASSWORD } : undefined,
    redisUrlExplicit: env.REDIS_URL !== undefined && env.REDIS_URL !== '',
    queuePrefix: x.QUEUE_PREFIX,
    dataDir,
    landingDir: x.LANDING_DIR ? path.resolve(x.LANDING_DIR) : path.join(dataDir, 'landing'),
    log: { level: x.LOG_LEVEL, format: x.LOG_FORMAT, color: x.LOG_COLOR, repeatWindowMs: x.LOG_REPEAT_WINDOW_MS },
    lake: {
      root: dataDir,
      stagingMaxAgeMs: x.LAKE_STAGING_MAX_AGE_MS,
      commitFeedMaxLen: x.COMMIT_FEED_MAXLEN,
      url: x.LAKE_URL,
      s3: {
        ...(x.S3_ENDPOINT === undefined ? {} : { endpoint: x.S3_ENDPOINT }),
        region: x.S3_REGION,
        forcePathStyle: x.S3_FORCE_PATH_STYLE,
        maxAttempts: x.S3_MAX_ATTEMPTS,
        ...(x.AWS_ACCESS_KEY_ID !== undefined && x.AWS_SECRET_ACCESS_KEY !== undefined
          ? {
              credentials: {
                accessKeyId: x.AWS_ACCESS_KEY_ID,
                secretAccessKey: x.AWS_SECRET_ACCESS_KEY,
                ...(x.AWS_SESSION_TOKEN === undefined ? {} : { sessionToken: x.AWS_SESSION_TOKEN }),
              },
            }
          : {}),
      },
    },
    clickstream: {
      urlTemplate: x.CLICKSTREAM_URL_TEMPLATE,
      landingUrl: x.CLICKSTREAM_LANDING_URL,
      maxRowBytes: x.CLICKSTREAM_MAX_ROW_BYTES,
      maxRejectRatio: x.CLICKSTREAM_MAX_REJECT_RATIO,
      timestampToleranceMs: x.CLICKSTREAM_TIMESTAMP_TOLERANCE_MS,
      timeoutMs: x.CLICKSTREAM_TIMEOUT_MS,
      downloadDeadlineMs: x.CLICKSTREAM_DOWNLOAD_DEADLINE_MS,
      minBytesPerSecond: x.CLICKSTREAM_MIN_BYTES_PER_S,
      minRateGraceMs: x.CLICKSTREAM_MIN_RATE_GRACE_MS,
      requireMarker: x.CLICKSTREAM_REQUIRE_MARKER,
      settleMs: x.CLICKSTREAM_SETTLE_MS,
    },
    products: {
      apiUrl: x.PRODUCTS_API_URL,
      pagination: x.PRODUCTS_PAGINATION,
      pageSize: x.PRODUCTS_PAGE_SIZE,
      offsetParam: x.PRODUCTS_OFFSET_PARAM,
      limitParam: x.PRODUCTS_LIMIT_PARAM,
      pageParam: x.PRODUCTS_PAGE_PARAM,
      perPageParam: x.PRODUCTS_PER_PAGE_PARAM,
      cursorParam: x.PRODUCTS_CURSOR_PARAM,
      cursorField: x.PRODUCTS_CURSOR_FIELD,
      itemsField: x.PRODUCTS_ITEMS_FIELD,
      totalField: x.PRODUCTS_TOTAL_FIELD,
      fieldMap: x.PRODUCTS_FIELD_MAP,
      apiToken: x.PRODUCTS_API_TOKEN,
      allowRedirects: x.PRODUCTS_ALLOW_REDIRECTS,
      timeoutMs: x.PRODUCTS_TIMEOUT_MS,
      maxPages: x.PRODUCTS_MAX_PAGES,
      segmentBytes: x.PRODUCTS_SEGMENT_BYTES,
      concurrency: x.PRODUCTS_CONCURRENCY,
      pageRetries: x.PRODUCTS_PAGE_RETRIES,
      retryBaseMs: x.PRODUCTS_RETRY_BASE_MS,
      maxRetryAfterMs: x.PRODUCTS_MAX_RETRY_AFTER_MS,
      maxHandbackMs: x.PRODUCTS_MAX_HANDBACK_MS,
      maxStalledHandbacks: x.PRODUCTS_MAX_STALLED_HANDBACKS,
      maxSnapshotMs: x.PRODUCTS_MAX_SNAPSHOT_MS,
      rateLimitPerSecond: x.PRODUCTS_RATE_LIMIT,
    },
    jobs: {
      attempts: x.JOB_ATTEMPTS,
      backoffMs: x.JOB_BACKOFF_MS,
      keepCompleted: { age: x.JOB_KEEP_COMPLETED_AGE_S, count: x.JOB_KEEP_COMPLETED_COUNT },
      keepFailed: { age: x.JOB_KEEP_FAILED_AGE_S, count: x.JOB_KEEP_FAILED_COUNT },
    },
    worker: {
      concurrency: x.WORKER_CONCURRENCY,
      lockMs: x.WORKER_LOCK_MS,
      stalledIntervalMs: x.WORKER_STALLED_INTERVAL_MS,
      maxStalledCount: x.WORKER_MAX_STALLED_COUNT,
      httpPort: x.WORKER_HTTP_PORT,
      shutdownGraceMs: x.SHUTDOWN_GRACE_MS,
    },
    schedule: {
      cron: { clickstream: x.SCHEDULE_CRON_CLICKSTREAM, products: x.SCHEDULE_CRON_PRODUCTS },
      tz: x.SCHEDULE_TZ,
      partitionTz: x.PARTITION_TZ,
      watchIntervalMs: x.SCHEDULE_WATCH_INTERVAL_MS,
      catchUpDays: x.CATCH_UP_DAYS,
      backfillMaxDays: x.BACKFILL_MAX_DAYS,
    },
    audit: { streamMaxLen: x.AUDIT_STREAM_MAXLEN, fsyncEveryMs: x.AUDIT_FSYNC_EVERY_MS },
    board: {
      host: x.BOARD_HOST,
      port: x.BOARD_PORT,
      user: x.BOARD_USER,
      password: x.BOARD_PASSWORD,
      auth: x.BOARD_AUTH,
      readOnly: x.BOARD_READ_ONLY,
    },
    secrets: [...secrets].sort((a, b) => b.length - a.length),
  };
  return deepFreeze(config);
}

/** Replaces every secret inside `text` with `[REDACTED]`. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('[REDACTED]');
  return out;
}

/** The effective configuration as loggable data: secrets, URL credentials and secret query values redacted. */
export function describeConfig(config: Config): Record<string, unknown> {
  const { secrets, ...rest } = config;
  return JSON.parse(redactUrlSecrets(redactSecrets(JSON.stringify(rest), secrets))) as Record<string, unknown>;
}
