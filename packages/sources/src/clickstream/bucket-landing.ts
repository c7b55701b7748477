import { InvalidInputError, NotArrivedError } from '@recomart/jobs';
import { ObjectStore, parseLakeUrl, type S3Options } from '@recomart/lake';
import type { ClickstreamFile } from './file-ingest.js';
import type { LandingEntry } from './landing-files.js';
import { judgeLanding, type LandingListingEntry, type LandingRules } from './landing-rules.js';

/** One client per bucket and process (keep-alive connections are shared by every job). */
const stores = new Map<string, ObjectStore>();

function storeFor(bucket: string, s3: S3Options): ObjectStore {
  let store = stores.get(bucket);
  if (store === undefined) {
    store = new ObjectStore(bucket, s3);
    stores.set(bucket, store);
  }
  return store;
}

/**
 * The day's export files in a landing zone in a bucket
 * (`CLICKSTREAM_LANDING_URL=s3://bucket/prefix` → `<prefix>/clickstream/<date>/`),
 * judged by the folder's own rules (`judgeLanding`): the same names taken,
 * refused and waited for, the `_SUCCESS` marker and the settle time; a deeper
 * key is a sub-folder there. Each file is read with `If-Match` on the ETag it
 * was listed with and its listed size is checked after reading, so an object
 * replaced while the run reads it fails the job (retryably) instead of mixing
 * two exports.
 * @throws NotArrivedError (retried) when the day has nothing yet or looks unfinished.
 * @throws InvalidInputError (not retried) when an entry cannot be ingested as it is.
 */
export async function listBucketLandingFiles(
  landingUrl: string,
  s3: S3Options,
  date: string,
  rules: LandingRules,
  signal: AbortSignal,
): Promise<{ files: ClickstreamFile[]; listing: LandingEntry[]; folder: string; complete: boolean }> {
  const where = parseLakeUrl(landingUrl, 'CLICKSTREAM_LANDING_URL');
  if (where.kind !== 's3') throw new InvalidInputError(`CLICKSTREAM_LANDING_URL must be an s3://bucket/prefix URL, got ${JSON.stringify(landingUrl)}`);
  const store = storeFor(where.bucket, s3);
  const prefix = `${where.prefix === '' ? '' : `${where.prefix}/`}clickstream/${date}/`;
  const folder = store.url(prefix);
  const listedAt = Date.now();
  const objects = await store.listObjects(prefix);
  const etags = new Map<string, string>();
  const entries = new Map<string, LandingListingEntry>();
  for (const o of objects) {
    const rel = o.key.slice(prefix.length);
    const slash = rel.indexOf('/');
    const name = slash === -1 ? rel : rel.slice(0, slash);
    if (name === '' || entries.has(name)) continue;
    entries.set(name, { name, kind: slash === -1 ? 'file' : 'directory', size: o.size, mtimeMs: o.lastModified });
    if (slash === -1) etags.set(name, o.etag);
  }
  const verdict = judgeLanding([...entries.values()], rules, listedAt, folder.replace(/\/$/, ''));
  if (verdict.kind === 'empty') throw new NotArrivedError(`no clickstream files for ${date} in ${folder} yet`);
  if (verdict.kind === 'wait') throw new NotArrivedError(verdict.reason, verdict.retryAfterMs === undefined ? undefined : { retryAfterMs: verdict.retryAfterMs });
  if (verdict.kind === 'refuse') throw new InvalidInputError(verdict.reason);
  const files: ClickstreamFile[] = verdict.files.map((f) => {
    const key = `${prefix}${f.name}`;
    return {
      name: f.name,
      display: store.url(key),
      origin: store.url(key),
      gzip: f.gzip,
      expectedBytes: f.size,
      open: async () => {
        const body = await store.getStream(key, etags.get(f.name));
        if (body === undefined) throw new NotArrivedError(`${store.url(key)} was listed but is gone`);
        if (signal.aborted) body.destroy(new Error('the job was told to stop'));
        else signal.addEventListener('abort', () => body.destroy(new Error('the job was told to stop')), { once: true });
        return body;
      },
    };
  });
  const listing = verdict.files.map((f) => ({ name: f.name, bytes: f.size, mtime: new Date(f.mtimeMs).toISOString() }));
  return { files, listing, folder, complete: verdict.complete };
}
