import { createHash } from 'node:crypto';
import type { Config } from '@recomart/config';
import { readSummary, type RequestSummary } from './request-log.js';

/** Where a one-after-another walk (cursor, link) goes on: the next page's index and how to ask for it. */
export interface NextPage {
  index: number;
  /** Cursor style: the cursor of the next page. */
  cursor?: string;
  /** Link style: the next link, as the API gave it. */
  url?: string;
}

/** One attempt of a snapshot, as the manifest lists it. */
export interface SnapshotAttempt {
  runId: string;
  attempt: number;
  startedAt: string;
  endedAt: string;
  /** Pages this attempt fetched and stored. */
  pages: number;
  /** Lowest and highest page index it stored (null when none). */
  firstPage: number | null;
  lastPage: number | null;
  outcome: 'rate-limited' | 'committed' | 'unchanged';
}

/**
 * What a rate-limited snapshot keeps with its pages for the next attempt of
 * its job (the state of the lake's kept staging).
 */
export interface ResumeState {
  /** 2: the request log is a kept file (`_requests.ndjson`), the state holds its summary. */
  format: 2;
  /** `settingsFingerprint` of the settings the pages were fetched with; other settings start over. */
  settings: string;
  /** Epoch ms of the snapshot's first request, and of the last answer so far. */
  firstRequestAt: number;
  lastRequestAt: number;
  /** Hand-backs for rate limits so far, and those in a row without a new page. */
  handbacks: number;
  stalledHandbacks: number;
  attempts: SnapshotAttempt[];
  /** The API's total, once a page told it (a header total is not in the stored body). */
  apiTotal: number | null;
  /** Cursor and link styles: where to go on. */
  next: NextPage | null;
  /** The counts of the earlier attempts' request log (the log itself is kept as `_requests.ndjson`). */
  requestSummary: RequestSummary;
}

/**
 * What the stored pages depend on: a snapshot resumes only under the same
 * endpoint (hashed: its URL may hold a key), paging, segment size and field
 * settings.
 */
export function settingsFingerprint(s: Config['products']): string {
  const shaping = [s.apiUrl, s.pagination, s.pageSize, s.segmentBytes, s.offsetParam, s.limitParam, s.pageParam, s.perPageParam, s.cursorParam, s.cursorField, s.itemsField ?? null, s.totalField, s.fieldMap];
  return createHash('sha256').update(JSON.stringify(shaping)).digest('hex');
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function isNext(v: unknown): v is NextPage {
  if (v === null || typeof v !== 'object') return false;
  const n = v as Record<string, unknown>;
  return isCount(n.index) && n.index >= 1 && (n.cursor === undefined || typeof n.cursor === 'string') && (n.url === undefined || typeof n.url === 'string');
}

/**
 * The resume state kept with a snapshot's pages, when it is one and was
 * fetched with these settings; undefined means start over.
 */
export function readResumeState(value: Record<string, unknown>, settings: string): ResumeState | undefined {
  const v = value as Partial<Record<keyof ResumeState, unknown>>;
  const ok =
    v.format === 2 &&
    v.settings === settings &&
    isCount(v.firstRequestAt) &&
    isCount(v.lastRequestAt) &&
    isCount(v.handbacks) &&
    isCount(v.stalledHandbacks) &&
    Array.isArray(v.attempts) &&
    readSummary(v.requestSummary) !== undefined &&
    (v.apiTotal === null || isCount(v.apiTotal)) &&
    (v.next === null || isNext(v.next));
  return ok ? (value as unknown as ResumeState) : undefined;
}

/** The kept state, as the lake stores it. */
export function resumeStateRecord(state: ResumeState): Record<string, unknown> {
  return state as unknown as Record<string, unknown>;
}
