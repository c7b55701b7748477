import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { InvalidInputError, TransientError } from '@recomart/jobs';
import { continueFile, drained } from './continue-file.js';
import { CorruptVersionError } from './lake-errors.js';
import type { FileSink, Lake, ManifestFile, WriteSession } from './types.js';

/**
 * Pages of an API snapshot stored as received, byte for byte, but many to a
 * file: the bodies are concatenated in page order into segment files
 * (`pages/segment-0001.bin`, `-0002` …); a segment is closed at a page
 * boundary once it reaches its size limit. `pages/index.ndjson` has one line
 * per page, in page order:
 *
 *     {"page":1,"segment":"pages/segment-0001.bin","offset":0,"length":1234,"sha256":"…","url":"/products?offset=0&limit=100","status":200}
 *
 * A page's `url` is the URL asked for (without credentials), relative to the
 * snapshot's endpoint (the writer's `origin`, the manifest's `provenance.api`)
 * when it is on the endpoint's origin (`/products?offset=0&limit=100`), so
 * the same pages served through another host name or port give the same
 * index; `resolvePageUrl` makes it absolute again.
 *
 * Pages are contiguous: page 1 starts at offset 0 of segment 1, each page
 * starts where the one before it ended, and a segment's last page ends at the
 * segment's end. The layout depends only on the pages and the size limit, so
 * the same pages give byte-identical files. This module is the one place that
 * writes, reads and checks the format (the products source, `verify`,
 * `readSnapshotPages`).
 */

/** The index of a segmented snapshot's pages. */
export const PAGES_INDEX_FILE = 'pages/index.ndjson';

/** `pages/segment-0001.bin`: the n-th segment (1-based). */
export function segmentFileName(n: number): string {
  return `pages/segment-${String(n).padStart(4, '0')}.bin`;
}

/** The number of a `segmentFileName`, or undefined for another name. */
export function segmentNumberOf(name: string): number | undefined {
  const m = /^pages\/segment-(\d{4,})\.bin$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * `pages/loose-000105.json`: a page kept outside the segments (a kept staging
 * holds pages fetched out of order whose predecessors were still missing);
 * folded into a segment by the attempt that goes on. Never in a committed version.
 */
export function looseFileName(page: number): string {
  return `pages/loose-${String(page).padStart(6, '0')}.json`;
}

/** The page of a `looseFileName`, or undefined for another name. */
export function loosePageOf(name: string): number | undefined {
  const m = /^pages\/loose-(\d{6,})\.json$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** One line of `pages/index.ndjson`. */
export interface PageIndexEntry {
  /** 1-based page index within the snapshot. */
  page: number;
  /** The segment holding the page's bytes. */
  segment: string;
  /** Where the page starts in its segment, and its size, in bytes. */
  offset: number;
  length: number;
  /** Lower-case hex sha256 of the page's bytes. */
  sha256: string;
  /** The URL asked for, without credentials. */
  url: string;
  /** The HTTP status it was answered with. */
  status: number;
}

/** `url` as the index records it: origin-relative (path, query) when on `base`'s origin, else whole. */
export function indexedPageUrl(url: string, base: string): string {
  try {
    const u = new URL(url);
    if (u.origin === new URL(base).origin) return `${u.pathname}${u.search}${u.hash}`;
  } catch {
    /* not a URL: kept as it is */
  }
  return url;
}

/** An index line's `url`, made absolute against the snapshot's endpoint (`provenance.api`) when it is origin-relative. */
export function resolvePageUrl(url: string, base: string | undefined): string {
  if (base === undefined || !url.startsWith('/')) return url;
  try {
    return new URL(url, base).href;
  } catch {
    return url;
  }
}

/** The index line of `e` (fixed key order, so the index is deterministic). */
export function pageIndexLine(e: PageIndexEntry): string {
  return `${JSON.stringify({ page: e.page, segment: e.segment, offset: e.offset, length: e.length, sha256: e.sha256, url: e.url, status: e.status })}\n`;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** An index line, parsed; or why it is not one. */
export function parsePageIndexLine(line: string): PageIndexEntry | { problem: string } {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return { problem: 'not JSON' };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { problem: 'not a JSON object' };
  const e = v as Record<string, unknown>;
  if (!isCount(e.page) || e.page < 1) return { problem: 'no page number' };
  if (typeof e.segment !== 'string' || segmentNumberOf(e.segment) === undefined) return { problem: `page ${e.page}: no segment name` };
  if (!isCount(e.offset) || !isCount(e.length)) return { problem: `page ${e.page}: no offset or length` };
  if (typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256)) return { problem: `page ${e.page}: no sha256` };
  if (typeof e.url !== 'string' || !isCount(e.status)) return { problem: `page ${e.page}: no url or status` };
  return { page: e.page, segment: e.segment, offset: e.offset, length: e.length, sha256: e.sha256, url: e.url, status: e.status };
}

/** A page to store: its body as received and where it came from. */
export interface PageToStore {
  page: number;
  /** The URL asked for, without credentials. */
  url: string;
  status: number;
  bytes: Buffer;
}

/** What a kept staging says of a segmented snapshot: its last index line, and the loose pages. */
export interface KeptPages {
  /** The last page stored in a segment (0: none). */
  lastPage: number;
  last: PageIndexEntry | undefined;
  /** Pages kept outside the segments, ascending. */
  loose: number[];
}

/**
 * Writes the pages of one snapshot into segments and the index, through
 * `createFile` sinks (waiting on their backpressure). `append` takes the pages
 * in page order, one at a time. A writer opened on a session that took over a
 * kept staging goes on where it stopped: the last, partial segment and the
 * index are continued (`continueFile`), the closed segments stay as they are.
 */
export class SegmentedPagesWriter {
  private segmentNumber: number;
  private segment: FileSink | undefined;
  private segmentBytes: number;
  private index: FileSink | undefined;
  private readonly closing: Promise<ManifestFile>[] = [];
  /** The page `append` expects next. */
  nextPage: number;

  private constructor(
    private readonly session: WriteSession,
    private readonly origin: string,
    private readonly limit: number,
    last: PageIndexEntry | undefined,
  ) {
    this.nextPage = last === undefined ? 1 : last.page + 1;
    this.segmentNumber = last === undefined ? 0 : (segmentNumberOf(last.segment) ?? 0);
    this.segmentBytes = last === undefined ? 0 : last.offset + last.length;
  }

  /**
   * A writer of `session`'s pages. `limit` is the segment size limit in bytes;
   * `origin` names the API in the manifest's entries of the segments and index.
   * When the session took over a kept staging (`session.resumed`), the writer
   * goes on after its last indexed page (`kept`: what `keptPagesOf` said of
   * it, read again when not given).
   */
  static async open(session: WriteSession, origin: string, limit: number, known?: KeptPages): Promise<SegmentedPagesWriter> {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new InvalidInputError(`segment size limit must be a whole number from 1, got ${limit}`);
    const kept = session.resumed === undefined ? undefined : (known ?? (await keptPagesOf(session)));
    const writer = new SegmentedPagesWriter(session, origin, limit, kept?.last);
    writer.index = await continueFile(session, PAGES_INDEX_FILE, origin, kept !== undefined && session.resumed?.files.some((f) => f.path === PAGES_INDEX_FILE) === true);
    if (kept?.last !== undefined && writer.segmentBytes < limit) {
      writer.segment = await continueFile(session, kept.last.segment, origin, true);
    }
    return writer;
  }

  /** Stores one page, the one after the last (`nextPage`). */
  async append(p: PageToStore): Promise<void> {
    if (p.page !== this.nextPage) throw new InvalidInputError(`pages must be stored in order: page ${p.page} came where page ${this.nextPage} was expected`);
    if (this.index === undefined) throw new InvalidInputError('the pages writer is finished');
    if (this.segment === undefined) {
      this.segmentNumber += 1;
      this.segmentBytes = 0;
      this.segment = this.session.createFile(segmentFileName(this.segmentNumber), this.origin);
    }
    const entry: PageIndexEntry = {
      page: p.page,
      segment: segmentFileName(this.segmentNumber),
      offset: this.segmentBytes,
      length: p.bytes.byteLength,
      sha256: createHash('sha256').update(p.bytes).digest('hex'),
      url: indexedPageUrl(p.url, this.origin),
      status: p.status,
    };
    this.nextPage += 1;
    this.segmentBytes += p.bytes.byteLength;
    const segment = this.segment;
    const index = this.index;
    const segmentFull = !segment.stream.write(p.bytes);
    const indexFull = !index.stream.write(pageIndexLine(entry));
    if (this.segmentBytes >= this.limit) {
      segment.stream.end();
      this.closing.push(segment.done);
      segment.done.catch(() => undefined);
      this.segment = undefined;
    } else if (segmentFull) {
      await drained(segment.stream);
    }
    if (indexFull) await drained(index.stream);
  }

  /** Ends the open segment and the index; resolves once all are finished files of the session. */
  async finish(): Promise<void> {
    const open = [this.segment, this.index].filter((s): s is FileSink => s !== undefined);
    this.segment = undefined;
    this.index = undefined;
    for (const s of open) if (!s.stream.writableEnded) s.stream.end();
    await Promise.all([...this.closing, ...open.map((s) => s.done)]);
  }

  /** Ends everything, ignoring failures (the session is being aborted). */
  async settle(): Promise<void> {
    await this.finish().catch(() => undefined);
  }
}

/** Splits a stream into lines (an index: small lines). */
function lines(stream: Readable): AsyncIterable<string> {
  return createInterface({ input: stream, crlfDelay: Infinity });
}

/** The index lines of `text`, parsed; throws on a bad one (a kept index this code wrote). */
function* indexEntries(text: string, where: string): Generator<PageIndexEntry> {
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const e = parsePageIndexLine(line);
    if ('problem' in e) throw new TransientError(`lake: kept ${where} has a bad line (${e.problem})`);
    yield e;
  }
}

/** What a resumed session's kept files hold of a segmented snapshot. */
export async function keptPagesOf(session: WriteSession): Promise<KeptPages> {
  const files = session.resumed?.files ?? [];
  let last: PageIndexEntry | undefined;
  if (files.some((f) => f.path === PAGES_INDEX_FILE)) {
    for (const e of indexEntries((await session.readFile(PAGES_INDEX_FILE)).toString('utf8'), PAGES_INDEX_FILE)) last = e;
  }
  const loose = files.map((f) => loosePageOf(f.path)).filter((n): n is number => n !== undefined).sort((a, b) => a - b);
  return { lastPage: last?.page ?? 0, last, loose };
}

/**
 * Every page a resumed session's kept segments hold, in order, with its
 * bytes (checked against the index): one segment is read at a time.
 */
export async function* keptSegmentPages(session: WriteSession): AsyncGenerator<PageToStore & { sha256: string }> {
  if (!session.resumed?.files.some((f) => f.path === PAGES_INDEX_FILE)) return;
  let name: string | undefined;
  let bytes: Buffer | undefined;
  for (const e of indexEntries((await session.readFile(PAGES_INDEX_FILE)).toString('utf8'), PAGES_INDEX_FILE)) {
    if (e.segment !== name) {
      bytes = undefined;
      bytes = await session.readFile(e.segment);
      name = e.segment;
    }
    const slice = (bytes as Buffer).subarray(e.offset, e.offset + e.length);
    if (slice.byteLength !== e.length || createHash('sha256').update(slice).digest('hex') !== e.sha256) {
      throw new TransientError(`lake: kept page ${e.page} (${e.url}) does not match its index line`);
    }
    yield { page: e.page, url: e.url, status: e.status, bytes: Buffer.from(slice), sha256: e.sha256 };
  }
}

/** sha256 and size of a whole file, hashed as it was read. */
export interface HashedFile {
  sha256: string;
  bytes: number;
}

/**
 * Reads exact byte counts from a stream of chunks, hashing every byte it
 * pulls; once the stream ended, `onEnd` gets the whole file's sha256 and size.
 */
class ChunkReader {
  private readonly chunks: AsyncIterator<unknown>;
  private readonly hash = createHash('sha256');
  private pulled = 0;
  private held: Buffer = Buffer.alloc(0);
  private ended = false;

  constructor(
    stream: Readable,
    private readonly onEnd: (got: HashedFile) => void,
  ) {
    this.chunks = stream[Symbol.asyncIterator]();
  }

  /** The next chunk of the stream, hashed; undefined at its end. */
  private async pull(): Promise<Buffer | undefined> {
    if (this.ended) return undefined;
    const next = await this.chunks.next();
    if (next.done === true) {
      this.ended = true;
      this.onEnd({ sha256: this.hash.digest('hex'), bytes: this.pulled });
      return undefined;
    }
    const chunk = next.value as Buffer;
    this.hash.update(chunk);
    this.pulled += chunk.byteLength;
    return chunk;
  }

  /** The next `n` bytes; fewer when the stream ends first. */
  async read(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      if (this.held.byteLength === 0) {
        const chunk = await this.pull();
        if (chunk === undefined) break;
        this.held = chunk;
        continue;
      }
      const take = Math.min(n - got, this.held.byteLength);
      parts.push(this.held.subarray(0, take));
      this.held = this.held.subarray(take);
      got += take;
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, got);
  }

  /** Bytes left after what was read (reads to the end). */
  async rest(): Promise<number> {
    let n = this.held.byteLength;
    this.held = Buffer.alloc(0);
    for (let chunk = await this.pull(); chunk !== undefined; chunk = await this.pull()) n += chunk.byteLength;
    return n;
  }

  async close(): Promise<void> {
    if (!this.ended) await this.chunks.return?.();
    this.ended = true;
  }
}

/** One problem of a segmented snapshot: the file it shows in (relative to the version), and what. */
export interface SegmentedPagesProblem {
  path: string;
  detail: string;
}

/** A page of a snapshot, as a reader gets it: its original bytes (sha256 checked). */
export interface SnapshotPage {
  page: number;
  url: string;
  status: number;
  bytes: Buffer;
}

/** What the walk of a segmented snapshot meets: a good page, or a problem (`fatal`: the walk stops there). */
type WalkStep = { page: SnapshotPage } | { problem: SegmentedPagesProblem; fatal: boolean };

/**
 * Walks the index and the segments of a version in one streaming pass,
 * checking every page (sha256 and length of its slice, contiguity, index
 * consistent with the segments and the manifest) and yielding each good page.
 * Stops at the first problem of the index or of a segment's layout; a page
 * whose bytes differ is yielded as a problem and the walk goes on.
 */
async function* walkSegmentedPages(files: readonly ManifestFile[], open: (path: string) => Promise<Readable>, hashed: (path: string, got: HashedFile) => void = () => undefined): AsyncGenerator<WalkStep> {
  const listed = new Set(files.map((f) => f.path));
  const segments = files.filter((f) => segmentNumberOf(f.path) !== undefined).sort((a, b) => (segmentNumberOf(a.path) ?? 0) - (segmentNumberOf(b.path) ?? 0));
  const fatal = (path: string, detail: string): WalkStep => ({ problem: { path, detail }, fatal: true });
  let expectedPage = 1;
  let segmentIndex = -1;
  let reader: ChunkReader | undefined;
  let position = 0;
  /** Ends the current segment: every byte of it must have belonged to a page. */
  const endSegment = async (): Promise<WalkStep | undefined> => {
    if (reader === undefined) return undefined;
    const name = segments[segmentIndex]?.path ?? '';
    const extra = await reader.rest();
    reader = undefined;
    return extra > 0 ? fatal(name, `${extra} bytes after its last indexed page (offset ${position})`) : undefined;
  };
  try {
    for await (const line of lines(await open(PAGES_INDEX_FILE))) {
      if (line === '') continue;
      const e = parsePageIndexLine(line);
      if ('problem' in e) {
        yield fatal(PAGES_INDEX_FILE, `line of page ${expectedPage}: ${e.problem}`);
        return;
      }
      const named = `page ${e.page} (${e.url})`;
      if (e.page !== expectedPage) {
        yield fatal(PAGES_INDEX_FILE, `${named} where page ${expectedPage} was expected`);
        return;
      }
      if (!listed.has(e.segment)) {
        yield fatal(PAGES_INDEX_FILE, `${named} is in ${e.segment}, which the manifest does not list`);
        return;
      }
      if (segments[segmentIndex]?.path !== e.segment) {
        const ended = await endSegment();
        if (ended !== undefined) {
          yield ended;
          return;
        }
        segmentIndex += 1;
        if (segments[segmentIndex]?.path !== e.segment) {
          yield fatal(PAGES_INDEX_FILE, `${named} is in ${e.segment} where ${segments[segmentIndex]?.path ?? 'no further segment'} was expected`);
          return;
        }
        const segment = e.segment;
        reader = new ChunkReader(await open(segment), (got) => hashed(segment, got));
        position = 0;
      }
      if (e.offset !== position) {
        yield fatal(PAGES_INDEX_FILE, `${named} starts at offset ${e.offset} of ${e.segment}, the page before it ended at ${position}`);
        return;
      }
      const bytes = await (reader as ChunkReader).read(e.length);
      position += bytes.byteLength;
      if (bytes.byteLength < e.length) {
        yield fatal(e.segment, `${named}: the segment ends ${e.length - bytes.byteLength} bytes into the page (truncated at ${position} bytes; the page ends at ${e.offset + e.length})`);
        return;
      }
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      if (sha256 !== e.sha256) yield { problem: { path: e.segment, detail: `${named} at offset ${e.offset}: sha256 ${sha256}, the index says ${e.sha256}` }, fatal: false };
      else yield { page: { page: e.page, url: e.url, status: e.status, bytes } };
      expectedPage += 1;
    }
    const ended = await endSegment();
    if (ended !== undefined) {
      yield ended;
      return;
    }
    const unused = segments.slice(segmentIndex + 1).map((f) => f.path);
    if (unused.length > 0) yield fatal(unused[0] as string, `no page of the index is in ${unused.join(', ')}`);
  } finally {
    await (reader as ChunkReader | undefined)?.close();
  }
}

/**
 * The problems of a version's segmented pages (none when it has no
 * `pages/index.ndjson`): every page checked against the index in one
 * streaming pass over the index and the segments. For `verify`: `hashed` gets
 * the sha256 and size of every segment the pass read to its end, so verify
 * need not read it again to check it against the manifest.
 */
export async function checkSegmentedPages(
  files: readonly ManifestFile[],
  open: (path: string) => Promise<Readable>,
  hashed?: (path: string, got: HashedFile) => void,
): Promise<SegmentedPagesProblem[]> {
  if (!files.some((f) => f.path === PAGES_INDEX_FILE)) return [];
  const problems: SegmentedPagesProblem[] = [];
  try {
    for await (const step of walkSegmentedPages(files, open, hashed)) if ('problem' in step) problems.push(step.problem);
  } catch (err) {
    problems.push({ path: PAGES_INDEX_FILE, detail: `cannot be read with its segments: ${err instanceof Error ? err.message : String(err)}` });
  }
  return problems;
}

/** Legacy one-file-per-page versions: `pages/000001.json`. */
const LEGACY_PAGE_RE = /^pages\/(\d{6,})\.json$/;

/**
 * Every page of a committed snapshot, in page order, with its original bytes
 * (sha256 checked against the index: a difference throws
 * CorruptVersionError naming the page and its URL). Streams: one page is in
 * memory at a time. Each page's `url` is absolute (an origin-relative index
 * entry is resolved against the manifest's `provenance.api`). Reads versions
 * written one file per page
 * (`pages/000001.json` …, before segments) too; their URL is the file's
 * origin and their status 200.
 */
export async function* readSnapshotPages(lake: Lake, source: string, date: string, version: number): AsyncGenerator<SnapshotPage> {
  const manifest = await lake.readManifest(source, date, version);
  if (manifest === undefined) throw new InvalidInputError(`${source} ${date} has no committed version ${version}`);
  const open = (path: string) => lake.openFile(source, date, version, path);
  const api = manifest.provenance?.api;
  const base = typeof api === 'string' ? api : undefined;
  if (!manifest.files.some((f) => f.path === PAGES_INDEX_FILE)) {
    const legacy = manifest.files.filter((f) => LEGACY_PAGE_RE.test(f.path)).sort((a, b) => Number(LEGACY_PAGE_RE.exec(a.path)?.[1]) - Number(LEGACY_PAGE_RE.exec(b.path)?.[1]));
    for (const f of legacy) {
      const chunks: Buffer[] = [];
      for await (const chunk of await open(f.path)) chunks.push(chunk as Buffer);
      const bytes = Buffer.concat(chunks);
      if (createHash('sha256').update(bytes).digest('hex') !== f.sha256) throw new CorruptVersionError(`${source} ${date} v${version}: ${f.path} (${f.origin}) does not match its sha256 in the manifest`);
      yield { page: Number(LEGACY_PAGE_RE.exec(f.path)?.[1]), url: f.origin, status: 200, bytes };
    }
    return;
  }
  for await (const step of walkSegmentedPages(manifest.files, open)) {
    if ('problem' in step) throw new CorruptVersionError(`${source} ${date} v${version}: ${step.problem.path}: ${step.problem.detail}`);
    yield { ...step.page, url: resolvePageUrl(step.page.url, base) };
  }
}
