import { isProtocolObject } from './s3-layout.js';
import { MANIFEST_FILE, parseVersionDir } from './layout.js';
import { checkDate, checkSourceName } from './names.js';
import type { S3Lake } from './s3-lake.js';
import type { VerifyProblem, VerifyReport } from './types.js';
import type { Readable } from 'node:stream';
import { checkSegmentedPages, type HashedFile } from './segmented-pages.js';
import { contentProblem, eachLimited, hashStream, VERIFY_CONCURRENCY } from './verify.js';

/**
 * `verify` of an S3 lake: every committed version's files are streamed back
 * and their bytes counted and hashed against the manifest (the server's own
 * checksums are not trusted), every page of a segmented snapshot is checked
 * against its index (`checkSegmentedPages`); missing objects, objects the manifest does not
 * list, and unreadable manifests are reported with their `s3://` URL.
 * Versions without a manifest (being written, or left by a killed writer) are
 * not part of the lake: `sweep` deals with them. Reads only.
 */
export async function verifyS3(lake: S3Lake, filter: { source?: string; date?: string } = {}): Promise<VerifyReport> {
  const source = filter.source === undefined ? undefined : checkSourceName(filter.source);
  const date = filter.date === undefined ? undefined : checkDate(filter.date);
  const { store, layout } = lake;
  const problems: VerifyProblem[] = [];
  let versionsChecked = 0;
  let filesChecked = 0;
  for (const src of source !== undefined ? [source] : await lake.listSources()) {
    for (const day of date !== undefined ? [date] : await lake.partitionDates(src)) {
      const partition = layout.partition(src, day);
      const byVersion = new Map<number, Map<string, number>>();
      for (const o of await store.listObjects(partition)) {
        const rel = o.key.slice(partition.length);
        const slash = rel.indexOf('/');
        const version = slash === -1 ? undefined : parseVersionDir(rel.slice(0, slash));
        if (version === undefined) {
          problems.push({ source: src, date: day, version: 0, kind: 'extra', path: store.url(o.key), detail: 'not inside a version' });
          continue;
        }
        const objects = byVersion.get(version) ?? new Map<string, number>();
        objects.set(rel.slice(slash + 1), o.size);
        byVersion.set(version, objects);
      }
      for (const [version, objects] of [...byVersion].sort((a, b) => a[0] - b[0])) {
        if (!objects.has(MANIFEST_FILE)) continue;
        const prefix = layout.version(src, day, version);
        const at = { source: src, date: day, version };
        versionsChecked += 1;
        const loaded = await lake.loadManifest(src, day, version);
        if (loaded.kind !== 'ok') {
          const detail = loaded.kind === 'bad' ? loaded.problem : 'vanished while verifying';
          problems.push({ ...at, kind: 'bad-manifest', path: store.url(layout.manifest(prefix)), detail });
          continue;
        }
        const files = loaded.manifest.files;
        filesChecked += files.length;
        // The pages' pass hashes the segments it reads whole: those are not read again.
        const hashed = new Map<string, HashedFile>();
        const openObject = async (rel: string): Promise<Readable> => {
          const body = objects.has(rel) ? await store.getStream(layout.file(prefix, rel)) : undefined;
          if (body === undefined) throw new Error(`${rel} is not in the bucket`);
          return body;
        };
        for (const p of await checkSegmentedPages(files, openObject, (rel, got) => hashed.set(rel, got))) {
          problems.push({ ...at, kind: 'corrupt', path: store.url(layout.file(prefix, p.path)), detail: p.detail });
        }
        await eachLimited(files, VERIFY_CONCURRENCY, async (f) => {
          const url = store.url(layout.file(prefix, f.path));
          const got = hashed.get(f.path);
          if (got !== undefined) {
            const detail = contentProblem(got, f);
            if (detail !== undefined) problems.push({ ...at, kind: 'corrupt', path: url, detail });
            return;
          }
          try {
            const body = objects.has(f.path) ? await store.getStream(layout.file(prefix, f.path)) : undefined;
            if (body === undefined) {
              problems.push({ ...at, kind: 'missing', path: url, detail: `listed in the manifest (${f.bytes} bytes) but not in the bucket` });
              return;
            }
            const detail = contentProblem(await hashStream(body), f);
            if (detail !== undefined) problems.push({ ...at, kind: 'corrupt', path: url, detail });
          } catch (err) {
            problems.push({ ...at, kind: 'corrupt', path: url, detail: `cannot be read: ${err instanceof Error ? err.message : String(err)}` });
          }
        });
        const listed = new Set(files.map((f) => f.path));
        for (const rel of objects.keys()) {
          if (isProtocolObject(rel) || listed.has(rel)) continue;
          problems.push({ ...at, kind: 'extra', path: store.url(`${prefix}${rel}`), detail: 'in the bucket but not in the manifest' });
        }
      }
    }
  }
  problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { ok: problems.length === 0, versionsChecked, filesChecked, problems };
}
