/** What an answer's rate-limit headers say about the client's current window. */
export interface RateLimitStatus {
  /** Requests allowed per window, when stated. */
  limit: number | undefined;
  /** Requests left in the current window. */
  remaining: number;
  /** Milliseconds from now until the window resets (0 when it already has). */
  resetMs: number;
  /** Whether the reset was an epoch time (exact), not whole seconds from now (up to a second early or late). */
  exact: boolean;
}

/** Headers as node-fetch gives them. */
interface HeaderSource {
  get(name: string): string | null;
}

/** A reset above this is epoch milliseconds. */
const EPOCH_MS_FLOOR = 1e12;
/** A reset above this (2001-09-09 in epoch seconds; 31 years as a delay) is epoch seconds; below, seconds from now. */
const EPOCH_S_FLOOR = 1e9;

function number(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (!/^\d+(\.\d+)?$/.test(v)) return undefined;
  return Number(v);
}

/**
 * A reset value as milliseconds from now. APIs send either seconds from now
 * (IETF drafts, most gateways) or an epoch time (GitHub, Twitter: seconds;
 * some: milliseconds); the size tells them apart, since no window lasts 31
 * years. An epoch time is exact; whole seconds from now may be up to a second off.
 */
export function resetOf(value: number, now: number = Date.now()): { resetMs: number; exact: boolean } {
  if (value >= EPOCH_MS_FLOOR) return { resetMs: Math.max(0, Math.round(value - now)), exact: true };
  if (value >= EPOCH_S_FLOOR) return { resetMs: Math.max(0, Math.round(value * 1000 - now)), exact: true };
  return { resetMs: Math.round(value * 1000), exact: false };
}

/** `key=value` parameters of a structured-field or draft list item (`limit=100, remaining=5`, `"default";r=5;t=30`). */
function params(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(/[;,]/)) {
    const m = /^\s*([A-Za-z][\w-]*)\s*=\s*"?([^"]*)"?\s*$/.exec(part);
    if (m) out.set((m[1] as string).toLowerCase(), m[2] as string);
  }
  return out;
}

/**
 * IETF `RateLimit` / `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers):
 * the older form `RateLimit: limit=100, remaining=50, reset=5` and
 * `RateLimit-Policy: 100;w=10`, and the structured form
 * `RateLimit: "default";r=50;t=5` with `RateLimit-Policy: "default";q=100;w=10`.
 * Only the first item of each is read.
 */
function ietf(headers: HeaderSource, now: number): RateLimitStatus | undefined {
  const field = headers.get('ratelimit');
  if (field === null) return undefined;
  // The older form spreads one policy over a comma-separated list; the structured form lists one item per policy.
  const older = /(^|[\s,;])remaining\s*=/i.test(field);
  const p = params(older ? field : (field.split(',')[0] ?? field));
  const remaining = number(p.get('remaining') ?? p.get('r'));
  if (remaining === undefined) return undefined;
  const policyField = headers.get('ratelimit-policy');
  const policy = policyField === null ? new Map<string, string>() : params(policyField.split(',')[0] ?? policyField);
  const leading = policyField === null ? undefined : number(/^\s*(\d+)/.exec(policyField)?.[1]);
  const limit = number(p.get('limit')) ?? number(policy.get('q')) ?? leading;
  const reset = number(p.get('reset') ?? p.get('t')) ?? number(policy.get('w'));
  if (reset === undefined) return undefined;
  return { limit, remaining, ...resetOf(reset, now) };
}

/** `<prefix>Limit`, `<prefix>Remaining`, `<prefix>Reset` as separate headers. */
function separate(headers: HeaderSource, prefix: string, now: number): RateLimitStatus | undefined {
  const remaining = number(headers.get(`${prefix}remaining`));
  const reset = number(headers.get(`${prefix}reset`));
  if (remaining === undefined || reset === undefined) return undefined;
  return { limit: number(headers.get(`${prefix}limit`)), remaining, ...resetOf(reset, now) };
}

/**
 * Reads the rate-limit headers APIs actually send: IETF `RateLimit` (+
 * `RateLimit-Policy`), `RateLimit-Limit`/`-Remaining`/`-Reset`, and
 * `X-RateLimit-Limit`/`-Remaining`/`-Reset`. Undefined when none states both
 * what is left and when the window resets.
 */
export function readRateLimitHeaders(headers: HeaderSource, now: number = Date.now()): RateLimitStatus | undefined {
  return ietf(headers, now) ?? separate(headers, 'ratelimit-', now) ?? separate(headers, 'x-ratelimit-', now);
}
