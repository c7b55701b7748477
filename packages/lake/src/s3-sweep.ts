import { checkSweepAge } from './sweep.js';
import type { S3Lake } from './s3-lake.js';
import type { SweepReport } from './types.js';

/**
 * `sweep` of an S3 lake. For every in-flight marker whose version has no
 * manifest and nothing newer than `maxAgeMs` (objects, the marker, multipart
 * uploads): `_abandoned.json` is written beside the claim (so a writer that
 * was only slow finds it and does not commit, and the number is never used
 * again: the claim and this stay), then the version's other objects and
 * incomplete uploads are removed, then the marker. A marker whose version
 * has a manifest (the writer died right after its commit) is only removed.
 * Incomplete multipart uploads anywhere under the lake older than
 * `maxAgeMs` are aborted, and pointers to kept stagings (`_kept/`) that old
 * are removed (the staging itself is a claim like any other). Committed objects are never touched: every removal
 * is under a prefix whose manifest was checked absent after it was marked
 * abandoned. Skips the claims of this process's open sessions.
 * (Ceph RGW 16 refuses every `If-Match` PUT with 412, so the claim itself
 * cannot be replaced conditionally; a second write-once object does it.)
 */
export async function sweepS3(options: { lake: S3Lake; maxAgeMs: number; now: () => Date; live: ReadonlySet<string> }): Promise<SweepReport> {
  const maxAgeMs = checkSweepAge(options.maxAgeMs);
  const { store, layout } = options.lake;
  const now = options.now().getTime();
  const removed: string[] = [];
  let kept = 0;
  // 0: everything not live (the server's clock may run a little ahead of this host's).
  const stale = (t: number) => maxAgeMs === 0 || now - t > maxAgeMs;

  for (const marker of await store.listObjects(layout.inFlightRoot())) {
    const ref = layout.parseInFlight(marker.key);
    if (ref === undefined) {
      if (stale(marker.lastModified)) {
        await store.deleteKeys([marker.key]);
        removed.push(store.url(marker.key));
      } else kept += 1;
      continue;
    }
    const prefix = layout.version(ref.source, ref.date, ref.version);
    if (options.live.has(prefix)) {
      kept += 1;
      continue;
    }
    if ((await store.head(layout.manifest(prefix))) !== undefined) {
      await store.deleteKeys([marker.key]);
      removed.push(store.url(marker.key));
      continue;
    }
    const objects = await store.listObjects(prefix);
    const uploads = await store.listPendingUploads(prefix);
    const newest = Math.max(marker.lastModified, ...objects.map((o) => o.lastModified), ...uploads.map((u) => u.initiated));
    if (!stale(newest)) {
      kept += 1;
      continue;
    }
    // Mark the number abandoned first: a writer that was only slow then finds it and does not commit.
    await store.putIfAbsent(layout.abandoned(prefix), JSON.stringify({ sweptAt: new Date(now).toISOString(), ...ref }));
    if ((await store.head(layout.manifest(prefix))) !== undefined) {
      kept += 1; // it committed after all, just now: leave it alone
      continue;
    }
    const keep = new Set([layout.claim(prefix), layout.abandoned(prefix)]);
    await store.deleteKeys(objects.map((o) => o.key).filter((k) => !keep.has(k)));
    for (const u of uploads) await store.abortUpload(u);
    await store.deleteKeys([marker.key]);
    removed.push(store.url(prefix));
  }

  // Pointers to kept stagings: one older than the max age names a staging swept above, or about to be.
  for (const pointer of await store.listObjects(layout.keptRoot())) {
    if (!stale(pointer.lastModified)) {
      kept += 1;
      continue;
    }
    await store.deleteKeys([pointer.key]);
    removed.push(store.url(pointer.key));
  }

  for (const u of await store.listPendingUploads(layout.root)) {
    if (!stale(u.initiated) || [...options.live].some((p) => u.key.startsWith(p))) continue;
    await store.abortUpload(u);
    removed.push(`${store.url(u.key)} (incomplete upload ${u.uploadId})`);
  }
  return { removed: removed.sort(), kept };
}
