import { createInterface } from 'node:readline';
import { continueFile, drained, type FileSink, type Lake, type WriteSession } from '@recomart/lake';

/** One HTTP attempt, as one line of the version's `_requests.ndjson`. */
export interface RequestLogEntry {
  /** 1-based page index within the snapshot. */
  page: number;
  /** 1-based attempt at this page. */
  attempt: number;
  /** The URL asked for, without credentials. */
  url: string;
  /** HTTP status; null when no answer came (timeout, reset). */
  status: number | null;
  /** Body bytes received. */
  bytes: number;
  /** Milliseconds from sending to the last body byte (or the failure). */
  durationMs: number;
  /** What was wrong with this attempt, when something was. */
  error?: string;
  /** Every redirect on the way (followed or refused), in order: its status and the URL it named, without credentials. */
  redirects?: Array<{ status: number; to: string }>;
}

/**
 * The request log of a snapshot: `_requests.ndjson` at the top of the
 * version, a provenance file (`PROVENANCE_FILES` in the lake: its timings
 * differ run to run, so it does not count as content).
 */
export const REQUEST_LOG_FILE = '_requests.ndjson';

/** What the manifest's `provenance` says of the request log (the log itself is `_requests.ndjson`). */
export interface RequestSummary {
  /** HTTP attempts, every attempt of every page, over every attempt of the job. */
  requests: number;
  /** Attempts per HTTP status (`"none"`: no answer came). */
  statuses: Record<string, number>;
  /** Attempts answered 429. */
  rateLimited: number;
  /** Body bytes received, over all attempts. */
  bytesReceived: number;
}

export function emptySummary(): RequestSummary {
  return { requests: 0, statuses: {}, rateLimited: 0, bytesReceived: 0 };
}

/** A summary kept by an earlier attempt, when it reads as one. */
export function readSummary(v: unknown): RequestSummary | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  const s = v as Partial<Record<keyof RequestSummary, unknown>>;
  const count = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  if (!count(s.requests) || !count(s.rateLimited) || !count(s.bytesReceived) || s.statuses === null || typeof s.statuses !== 'object') return undefined;
  if (!Object.values(s.statuses as Record<string, unknown>).every(count)) return undefined;
  return { requests: s.requests, statuses: { ...(s.statuses as Record<string, number>) }, rateLimited: s.rateLimited, bytesReceived: s.bytesReceived };
}

/**
 * Streams every HTTP attempt of a snapshot as one JSON line into
 * `_requests.ndjson` as it ends, and keeps only counts in memory. A resumed
 * snapshot goes on with the log its earlier attempts kept.
 */
export class RequestLog {
  readonly summary: RequestSummary;

  private constructor(
    private readonly sink: FileSink,
    summary: RequestSummary,
  ) {
    this.summary = summary;
  }

  /** Opens the log of `session`, going on with a kept one (and its summary) when the session resumed one. */
  static async open(session: WriteSession, origin: string, kept: RequestSummary | undefined): Promise<RequestLog> {
    const resumed = kept !== undefined && session.resumed?.files.some((f) => f.path === REQUEST_LOG_FILE) === true;
    const sink = await continueFile(session, REQUEST_LOG_FILE, origin, resumed);
    return new RequestLog(sink, resumed ? kept : emptySummary());
  }

  /** Logs one finished attempt; waits while the file's buffer is full. */
  async add(entry: RequestLogEntry): Promise<void> {
    const s = this.summary;
    s.requests += 1;
    const status = entry.status === null ? 'none' : String(entry.status);
    s.statuses[status] = (s.statuses[status] ?? 0) + 1;
    if (entry.status === 429) s.rateLimited += 1;
    s.bytesReceived += entry.bytes;
    const stream = this.sink.stream;
    if (stream.destroyed || stream.writableEnded) return; // the session is failing: `finish` reports why
    if (!stream.write(`${JSON.stringify(entry)}\n`)) await drained(stream);
  }

  /** Ends the file; resolves once it is a finished file of the session. */
  async finish(): Promise<void> {
    if (!this.sink.stream.writableEnded) this.sink.stream.end();
    await this.sink.done;
  }

  /** Ends the file, ignoring a failure (the session is being aborted). */
  async settle(): Promise<void> {
    await this.finish().catch(() => undefined);
  }
}

/**
 * Every line of a committed version's request log, in the order written (an
 * attempt's line is written when it ends). Holds the whole log: for tools and
 * tests, not for a pass over a big snapshot (iterate the file's lines then).
 */
export async function readRequestLog(lake: Lake, source: string, date: string, version: number): Promise<RequestLogEntry[]> {
  const out: RequestLogEntry[] = [];
  const lines = createInterface({ input: await lake.openFile(source, date, version, REQUEST_LOG_FILE), crlfDelay: Infinity });
  for await (const line of lines) if (line !== '') out.push(JSON.parse(line) as RequestLogEntry);
  return out;
}
