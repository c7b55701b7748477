/**
 * Scripted faults. A rule says what goes wrong, on which page and how many
 * times, so a test can script "page 3 answers 503 twice, then succeeds".
 * Rules come from `--fault`, from the `faults` option, from `POST /__faults`,
 * or per request from `x-mock-fault*` headers.
 */

/** What a faulty response does. */
export const NAMED_FAULTS = [
  /** Destroys the connection without an answer. */
  'reset',
  /** 200 with a JSON body cut off halfway. */
  'truncate',
  /** 200 with an HTML error page. */
  'html',
  /** 200 with valid JSON nested 100,000 arrays deep (a parser bomb for recursive code). */
  'deep-json',
  /** A page that repeats forever: the cursor or link does not advance, or the first page's items come back again. */
  'repeat',
  /** Prices and popularity scores served as strings. */
  'wrong-types',
  /** Never answers (until the server closes): the client must time out. */
  'stall',
  /** The page lacks its last product (a product deleted mid-snapshot): the count no longer matches `total`. */
  'short-page',
] as const;

export type NamedFault = (typeof NAMED_FAULTS)[number];
/** A named fault, or an HTTP status from 400 to 599 answered with a JSON error (429 with `Retry-After`). */
export type FaultKind = NamedFault | `${number}`;

export interface FaultRule {
  fault: FaultKind;
  /** 1-based page index the rule applies to. @defaultValue every page */
  page?: number;
  /** How many matching requests fail; later ones succeed. @defaultValue every one */
  times?: number;
  /** `Retry-After` of a 429: seconds or an HTTP date. @defaultValue '1' */
  retryAfter?: string;
  /** The error message in a status fault's body. @defaultValue the status text */
  message?: string;
}

/** Thrown when a fault rule or spec is malformed; the message names the bad value. */
export class FaultSpecError extends Error {
  override readonly name = 'FaultSpecError';
}

const ALIASES: Readonly<Record<string, NamedFault>> = { 'repeat-cursor': 'repeat' };

/** Checks a fault kind: a named fault (or alias) or a status 400–599. */
export function parseFaultKind(raw: string): FaultKind {
  const alias = ALIASES[raw];
  if (alias) return alias;
  if ((NAMED_FAULTS as readonly string[]).includes(raw)) return raw as NamedFault;
  if (/^[45]\d\d$/.test(raw)) return raw as `${number}`;
  throw new FaultSpecError(`fault must be a status from 400 to 599 or one of ${NAMED_FAULTS.join(', ')}, got ${JSON.stringify(raw)}`);
}

function positiveInt(what: string, raw: unknown): number {
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new FaultSpecError(`${what} must be a whole number of at least 1, got ${JSON.stringify(raw)}`);
  return n;
}

function retryAfterValue(raw: unknown): string {
  if (typeof raw === 'number' && Number.isInteger(raw) && raw >= 0) return String(raw);
  if (typeof raw === 'string' && (/^\d+$/.test(raw) || !Number.isNaN(Date.parse(raw)))) return raw;
  throw new FaultSpecError(`retryAfter must be whole seconds or an HTTP date, got ${JSON.stringify(raw)}`);
}

/** Validates one rule received as JSON. */
export function parseFaultRule(raw: unknown): FaultRule {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new FaultSpecError(`a fault rule must be an object, got ${JSON.stringify(raw)}`);
  const r = raw as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (!['fault', 'page', 'times', 'retryAfter', 'message'].includes(key)) throw new FaultSpecError(`unknown fault rule field ${JSON.stringify(key)}`);
  }
  if (typeof r.fault !== 'string') throw new FaultSpecError(`fault must be a string, got ${JSON.stringify(r.fault)}`);
  const rule: FaultRule = { fault: parseFaultKind(r.fault) };
  if (r.page !== undefined) rule.page = positiveInt('page', r.page);
  if (r.times !== undefined) rule.times = positiveInt('times', r.times);
  if (r.retryAfter !== undefined) rule.retryAfter = retryAfterValue(r.retryAfter);
  if (r.message !== undefined) {
    if (typeof r.message !== 'string') throw new FaultSpecError(`message must be a string, got ${JSON.stringify(r.message)}`);
    rule.message = r.message;
  }
  return rule;
}

/** Validates a whole plan received as JSON: an array of rules. */
export function parseFaultRules(raw: unknown): FaultRule[] {
  if (!Array.isArray(raw)) throw new FaultSpecError(`the fault plan must be an array of rules, got ${JSON.stringify(raw)}`);
  return raw.map(parseFaultRule);
}

/**
 * Parses a `--fault` spec: `KIND[:RETRY_AFTER][@PAGE][xTIMES]`, e.g. `503@3x2`
 * (page 3 answers 503 twice), `429:5x1` (the first request gets 429 with
 * `Retry-After: 5`), `truncate@2`.
 */
export function parseFaultSpec(spec: string): FaultRule {
  const m = /^([a-z0-9-]+)(?::(\d+))?(?:@(\d+))?(?:x(\d+))?$/.exec(spec);
  if (!m) throw new FaultSpecError(`--fault must look like KIND[:RETRY_AFTER][@PAGE][xTIMES] (e.g. 503@3x2), got ${JSON.stringify(spec)}`);
  const [, kind, retryAfter, page, times] = m;
  const rule: FaultRule = { fault: parseFaultKind(kind!) };
  if (retryAfter !== undefined) rule.retryAfter = retryAfter;
  if (page !== undefined) rule.page = positiveInt('page', page);
  if (times !== undefined) rule.times = positiveInt('times', times);
  return rule;
}

/** Request headers a client may send to script a fault for itself. */
export interface FaultHeaders {
  /** `x-mock-fault`: the fault kind. */
  fault: string | undefined;
  /** `x-mock-fault-times`: the first N requests for this page fail. */
  times: string | undefined;
  /** `x-mock-retry-after`: a 429's `Retry-After`. */
  retryAfter: string | undefined;
}

/**
 * The active plan with its counters. `take(page)` answers the fault for one
 * request (first matching rule with failures left), counting it.
 */
export class FaultPlan {
  private rules: { rule: FaultRule; used: number }[] = [];
  /** Header-scripted counters: per fault kind and page. */
  private readonly headerCounts = new Map<string, number>();

  constructor(rules: readonly FaultRule[] = []) {
    this.set(rules);
  }

  /** Replaces every rule and resets all counters. */
  set(rules: readonly FaultRule[]): void {
    this.rules = rules.map((rule) => ({ rule: { ...rule }, used: 0 }));
    this.headerCounts.clear();
  }

  /** The rules with how often each has fired. */
  describe(): { rule: FaultRule; used: number }[] {
    return this.rules.map((r) => ({ rule: { ...r.rule }, used: r.used }));
  }

  /** The fault for one request to `page` (1-based), headers first, or undefined. */
  take(page: number, headers: FaultHeaders): FaultRule | undefined {
    if (headers.fault !== undefined) {
      const rule: FaultRule = { fault: parseFaultKind(headers.fault) };
      if (headers.retryAfter !== undefined) rule.retryAfter = retryAfterValue(headers.retryAfter);
      if (headers.times === undefined) return rule;
      const times = positiveInt('x-mock-fault-times', headers.times);
      const key = `${rule.fault}@${page}`;
      const seen = (this.headerCounts.get(key) ?? 0) + 1;
      this.headerCounts.set(key, seen);
      return seen <= times ? rule : undefined;
    }
    for (const entry of this.rules) {
      if (entry.rule.page !== undefined && entry.rule.page !== page) continue;
      if (entry.rule.times !== undefined && entry.used >= entry.rule.times) continue;
      entry.used += 1;
      return entry.rule;
    }
    return undefined;
  }
}
