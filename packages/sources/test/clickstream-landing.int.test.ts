import { spawnSync } from 'node:child_process';
import { truncateSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError, NotArrivedError, TransientError, classifyError } from '@recomart/jobs';
import { generateClickstreamDay, listLandingFiles } from '@recomart/sources';
import { DATE, GOOD, HEADER, clickstreamHarness, csv, type ClickstreamHarness } from './clickstream-harness.js';

/** A FIFO at `p` (Node has no mkfifo). */
function mkfifo(p: string): void {
  const run = spawnSync('mkfifo', [p], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`mkfifo ${p} failed: ${run.stderr}`);
}

/** Sets a file's times an hour back: it has been quiet longer than any settle time. */
async function age(p: string, hours = 1): Promise<void> {
  const past = new Date(Date.now() - hours * 3_600_000);
  await utimes(p, past, past);
}

const SECRET = 'root:x:0:0:SECRET-LINE-OUT-OF-THE-LANDING-ZONE:/root:/bin/bash';

describe('clickstream landing zone: what is read, what is refused, when a file is complete', () => {
  let h: ClickstreamHarness;
  let outside: string;
  beforeEach(async () => {
    h = await clickstreamHarness();
    outside = path.join(h.dataDir, 'outside');
    await mkdir(outside, { recursive: true });
  });
  afterEach(async () => {
    await h.close();
  });

  /** Nothing in the lake, no staging, no quarantine. */
  async function nothingWritten(): Promise<void> {
    expect(await h.versions()).toEqual([]);
    expect(await h.staging()).toEqual([]);
    expect(await readdir(path.join(h.dataDir, 'quarantine')).catch(() => [])).toEqual([]);
  }

  it('refuses symbolic links and FIFOs for good, naming them, without reading them (nothing copied anywhere)', async () => {
    await writeFile(path.join(outside, 'passwd'), `${SECRET}\n`);
    await writeFile(path.join(outside, 'valid.csv'), csv(HEADER, GOOD));
    await h.land('a.csv', csv(HEADER, GOOD));
    await symlink(path.join(outside, 'passwd'), path.join(h.folder(), 'passwd.csv'));
    await symlink(path.join(outside, 'valid.csv'), path.join(h.folder(), 'valid.csv'));
    mkfifo(path.join(h.folder(), 'd.csv'));
    const err = await h.runError();
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(classifyError(err).retryable).toBe(false);
    expect(err.message).toBe(
      'clickstream/2024-05-01: 3 landing entries cannot be ingested; move or rename, then retry: "d.csv" (a FIFO), "passwd.csv" (a symbolic link, not followed), "valid.csv" (a symbolic link, not followed)',
    );
    expect(h.logs.join('\n')).not.toContain('SECRET-LINE');
    await nothingWritten();
  });

  it('refuses a day folder that is a symbolic link (it would lead out of the landing zone)', async () => {
    await writeFile(path.join(outside, 'a.csv'), csv(HEADER, GOOD));
    await mkdir(path.join(h.landingDir, 'clickstream'), { recursive: true });
    await symlink(outside, h.folder());
    const err = await h.runError();
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err.message).toBe(`landing folder ${h.folder()} is a symbolic link, not followed: make it a real folder, then retry`);
    await nothingWritten();
  });

  it('does not follow a link swapped in after the listing (O_NOFOLLOW), nor read another file swapped in', async () => {
    const a = await h.land('a.csv', csv(HEADER, GOOD));
    const b = await h.land('b.csv', csv(HEADER, GOOD));
    await writeFile(path.join(outside, 'passwd'), `${SECRET}\n`);
    const { files } = await listLandingFiles(h.landingDir, DATE, { requireMarker: false, settleMs: 0 }, new AbortController().signal);
    await unlink(a);
    await symlink(path.join(outside, 'passwd'), a);
    // Another file under the name (renamed over it: a new inode).
    await writeFile(`${b}.new`, csv(HEADER, GOOD));
    await rename(`${b}.new`, b);
    const linked = await files[0]!.open().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(linked).toBeInstanceOf(TransientError);
    expect((linked as Error).message).toBe('clickstream/2024-05-01/a.csv became a symbolic link after it was listed; not followed');
    const replaced = await files[1]!.open().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(replaced).toBeInstanceOf(TransientError);
    expect((replaced as Error).message).toBe('clickstream/2024-05-01/b.csv was replaced after it was listed; not read');
  });

  it('reads extensions in any case, and fails for good naming every other entry (trailing space, newline, FIFO, other names)', async () => {
    await h.land('a.csv', csv(HEADER, GOOD));
    await h.land('B.CSV', csv(HEADER, GOOD, GOOD));
    await h.land('c.csv.GZ', gzipSync(csv(HEADER, GOOD, GOOD, GOOD)));
    await h.land('e.csv ', csv(HEADER, GOOD));
    await h.land('f\n.csv', csv(HEADER, GOOD));
    await h.land('notes.txt', 'x');
    mkfifo(path.join(h.folder(), 'd.csv'));
    const err = await h.runError();
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err.message).toBe(
      'clickstream/2024-05-01: 4 landing entries cannot be ingested; move or rename, then retry: "d.csv" (a FIFO), "e.csv " (not named *.csv or *.csv.gz), "f\\n.csv" (a name the lake cannot store: letters, digits and ._-=+@, only, at most 255 bytes), "notes.txt" (not named *.csv or *.csv.gz)',
    );
    expect(classifyError(err).reason).toBe(err.message);
    await nothingWritten();

    for (const name of ['d.csv', 'e.csv ', 'f\n.csv', 'notes.txt']) await rm(path.join(h.folder(), name));
    expect(await h.run()).toMatchObject({ status: 'committed', files: 3, records: 6 });
    expect((await h.latest())?.files.map((f) => f.path).sort()).toEqual(['B.CSV', 'a.csv', 'c.csv.GZ']);
  });

  it('without _SUCCESS, leaves a file modified within CLICKSTREAM_SETTLE_MS for later (retried when it has been quiet that long)', async () => {
    const a = await h.land('a.csv', csv(HEADER, GOOD));
    const err = await h.runError({ env: { CLICKSTREAM_SETTLE_MS: '600000' } });
    expect(err).toBeInstanceOf(NotArrivedError);
    expect(err.message).toMatch(/^clickstream\/2024-05-01\/a\.csv was modified \d+\.\d s before the listing, within CLICKSTREAM_SETTLE_MS 600000: still being written\?$/);
    const wait = classifyError(err).retryAfterMs;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(600_000);
    await nothingWritten();
    await age(a);
    expect(await h.run({ env: { CLICKSTREAM_SETTLE_MS: '600000' } })).toMatchObject({ status: 'committed', records: 1 });
  });

  it('refuses a torn last line (head -c of an export) unless _SUCCESS marks the day complete', async () => {
    const full = Buffer.from(csv(HEADER, GOOD, '1002,2002,click,2024-05-01T11:00:00.000Z,android'));
    const torn = full.subarray(0, full.length - 4); // "…,andro"
    const a = await h.land('a.csv', torn);
    await age(a);
    const err = await h.runError();
    expect(err).toBeInstanceOf(TransientError);
    expect(err.message).toBe('clickstream/2024-05-01/a.csv ends in the middle of a line and the day has no _SUCCESS marker: still being written?');
    await nothingWritten();

    await h.land('_SUCCESS', '');
    expect(await h.run()).toMatchObject({ status: 'committed', records: 2 });
    expect((await h.latest())?.provenance).toMatchObject({ landing: { marker: '_SUCCESS' } });
  });

  it('with CLICKSTREAM_REQUIRE_MARKER, waits for _SUCCESS; a file modified after the marker waits too', async () => {
    const strict = { env: { CLICKSTREAM_REQUIRE_MARKER: 'true', CLICKSTREAM_SETTLE_MS: '600000' } };
    const a = await h.land('a.csv', csv(HEADER, GOOD));
    const missing = await h.runError(strict);
    expect(missing).toBeInstanceOf(NotArrivedError);
    expect(missing.message).toBe('clickstream/2024-05-01 has no _SUCCESS marker yet (CLICKSTREAM_REQUIRE_MARKER): the export is not complete');

    const marker = await h.land('_SUCCESS', '');
    await age(marker);
    const rewritten = await h.runError(strict);
    expect(rewritten).toBeInstanceOf(NotArrivedError);
    expect(rewritten.message).toBe('clickstream/2024-05-01/a.csv was modified after _SUCCESS: is the export running again?');
    await nothingWritten();

    await age(a, 2);
    // The marker vouches for the files: no settle time is waited.
    expect(await h.run(strict)).toMatchObject({ status: 'committed', records: 1 });
  });

  it('a file truncated while it is read fails the attempt; the next attempts cannot commit the torn file', async () => {
    const day = await generateClickstreamDay({ landingDir: h.landingDir, date: DATE, rows: 120_000, seed: 'torn' });
    await rm(path.join(h.folder(), '_SUCCESS'));
    const file = day.files[0]!.path;
    const text = await readFile(file);
    // Mid-row, three quarters in (past the first progress report, at 65,536 rows): just after a comma.
    const cut = text.indexOf(0x2c, Math.floor((text.length * 3) / 4)) + 1;
    let truncated = false;
    const first = await h.runError({
      onProgress: () => {
        if (truncated) return;
        truncated = true;
        // Synchronous: done before the reader reads on.
        truncateSync(file, cut);
      },
    });
    expect(truncated).toBe(true);
    expect(first).toBeInstanceOf(TransientError);
    expect(first.message).toMatch(/^clickstream\/2024-05-01\/events-000\.csv changed while it was read: /);

    const second = await h.runError({ env: { CLICKSTREAM_SETTLE_MS: '600000' } });
    expect(second).toBeInstanceOf(NotArrivedError);
    expect(second.message).toMatch(/still being written\?$/);

    await age(file);
    const third = await h.runError({ env: { CLICKSTREAM_SETTLE_MS: '600000' } });
    expect(third).toBeInstanceOf(TransientError);
    expect(third.message).toBe('clickstream/2024-05-01/events-000.csv ends in the middle of a line and the day has no _SUCCESS marker: still being written?');
    await nothingWritten();
  });
});
