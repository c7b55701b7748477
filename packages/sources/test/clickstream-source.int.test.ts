import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError, NotArrivedError, RejectRatioExceededError, TransientError, classifyError } from '@recomart/jobs';
import { DayWindow, RejectedRows, RowValidator, generateClickstreamDay, ingestFile, type ClickstreamFile } from '@recomart/sources';
import { DATE, GOOD, HEADER, clickstreamHarness, csv, sha256, type ClickstreamHarness } from './clickstream-harness.js';

const ALL_REJECTS_OK = { CLICKSTREAM_MAX_REJECT_RATIO: '1' };

describe('clickstream source', () => {
  let h: ClickstreamHarness;
  beforeEach(async () => {
    h = await clickstreamHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('commits a generated gzip day byte for byte (gzip stays gzip), then finds it unchanged', async () => {
    const day = await generateClickstreamDay({ landingDir: h.landingDir, date: DATE, rows: 5000, files: 2, gzip: true, seed: 'source-test' });
    const first = await h.run();
    expect(first).toEqual({ status: 'committed', version: 1, records: 5000, rejected: 0, files: 2, bytes: day.files[0]!.bytes + day.files[1]!.bytes });
    const manifest = await h.latest();
    expect(manifest?.files.map((f) => f.path)).toEqual(['events-000.csv.gz', 'events-001.csv.gz']);
    for (const f of day.files) {
      const landing = await readFile(f.path);
      const stored = await h.readLakeFile(1, f.name);
      expect(stored.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
      expect(sha256(stored)).toBe(sha256(landing));
      expect(manifest?.files.find((m) => m.path === f.name)?.sha256).toBe(sha256(landing));
    }
    const v = manifest?.validation as Record<string, unknown>;
    expect(v).toMatchObject({ rows: 5000, accepted: 5000, rejected: 0, rejectRatio: 0 });
    const events = v.eventTypes as Record<string, number>;
    expect(events.view! + events.click! + events.add_to_cart!).toBe(5000);
    expect(Object.keys(v.devices as object).sort()).toEqual(['android', 'ios', 'tablet', 'web']);
    expect(v.distinctMethod).toBe('HyperLogLog, 2^14 registers, ~0.8% standard error');
    const reports = v.files as Array<{ file: string; gzip: boolean; rows: number; sha256: string }>;
    expect(reports.map((f) => [f.file, f.gzip])).toEqual([
      ['events-000.csv.gz', true],
      ['events-001.csv.gz', true],
    ]);
    expect(reports[0]!.rows + reports[1]!.rows).toBe(5000);
    expect(manifest?.provenance).toMatchObject({ landing: { folder: h.folder(), files: [{ name: 'events-000.csv.gz' }, { name: 'events-001.csv.gz' }] } });

    const second = await h.run();
    expect(second).toMatchObject({ status: 'unchanged', version: 1 });
    expect(await h.versions()).toEqual([1]);
  });

  it('rejects each bad row with its line, its original text and every reason; accepts the rest (BOM, CRLF, any column order, quotes)', async () => {
    const lines = [
      '\ufeffdevice,timestamp,event_type,product_id,user_id',
      'web,2024-05-01T10:00:00.000Z,view,2001,1001',
      'web,2024-05-01T10:00:00.000Z,view,2001,',
      'web,2024-05-01T10:00:00.000Z,view,,1001',
      'web,2024-05-01T10:00:00.000Z,purchase,2001,1001',
      'web,2024-05-01 10:00:00,view,2001,1001',
      'web,2024-05-02T00:00:00.000Z,view,2001,1001',
      ',2024-05-01T10:00:00.000Z,view,2001,1001',
      '"smart\r\ntv",2024-05-01T01:30:00+01:00,click,2001,1002',
      '',
      'web,1714561200000,add_to_cart,2001,18446744073709551617',
      'web,2024-05-01T10:00:00.000Z,view',
      '"web",2024-05-01T10:00:00.000Z,VIEW,"2001","1001"',
    ];
    await h.land('events.csv', `${lines.join('\r\n')}\r\n`);
    const result = await h.run({ env: ALL_REJECTS_OK });
    expect(result).toMatchObject({ status: 'committed', version: 1, records: 3, rejected: 8 });
    const bad = (raw: string, line: number, reasons: string[], messages: string[]) => ({ file: 'events.csv', line, raw, reasons, messages });
    expect(await h.rejected(1)).toEqual([
      bad(lines[2]!, 3, ['empty_user_id'], ['user_id is empty']),
      bad(lines[3]!, 4, ['empty_product_id'], ['product_id is empty']),
      bad(lines[4]!, 5, ['bad_event_type'], ['event_type must be one of view, click, add_to_cart, got "purchase"']),
      bad(lines[5]!, 6, ['bad_timestamp'], ['timestamp must be ISO-8601 with a zone (e.g. 2024-05-01T13:45:00.000Z) or epoch milliseconds, got "2024-05-01 10:00:00"']),
      bad(lines[6]!, 7, ['timestamp_off_day'], ['timestamp "2024-05-02T00:00:00.000Z" is not on 2024-05-01 UTC (tolerance 0 ms)']),
      bad(lines[7]!, 8, ['empty_device'], ['device is empty']),
      bad(lines[11]!, 13, ['field_count'], ['expected 5 fields (user_id,product_id,event_type,timestamp,device), got 3']),
      bad(lines[12]!, 14, ['bad_event_type'], ['event_type must be one of view, click, add_to_cart, got "VIEW"']),
    ]);
    const manifest = await h.latest();
    expect(manifest).toMatchObject({ records: 3, rejected: 8 });
    expect(manifest?.files.map((f) => f.path)).toEqual(['_rejected.ndjson', 'events.csv']);
    expect(manifest?.validation).toMatchObject({
      rows: 11,
      accepted: 3,
      rejected: 8,
      rejectRatio: 8 / 11,
      rejectedByReason: { field_count: 1, empty_user_id: 1, empty_product_id: 1, bad_event_type: 2, bad_timestamp: 1, timestamp_off_day: 1, empty_device: 1 },
      eventTypes: { view: 1, click: 1, add_to_cart: 1 },
      devices: { 'smart\r\ntv': 1, web: 2 },
      firstTimestamp: '2024-05-01T00:30:00.000Z',
      lastTimestamp: '2024-05-01T11:00:00.000Z',
      distinctUsersApprox: 3,
      distinctProductsApprox: 1,
      files: [{ file: 'events.csv', gzip: false, lines: 14, rows: 11, rejected: 8 }],
    });
  });

  it('keeps the stored copy original when csv-parser unescapes quotes (chunk after chunk of "" escapes)', async () => {
    const row = '1001,2001,view,2024-05-01T10:00:00.000Z,"smart ""tv"""';
    const content = csv(HEADER, ...Array.from({ length: 30_000 }, () => row));
    await h.land('events.csv', content);
    await h.run();
    expect(sha256(await h.readLakeFile(1, 'events.csv'))).toBe(sha256(content));
    expect((await h.latest())?.validation).toMatchObject({ accepted: 30_000, devices: { 'smart "tv"': 30_000 } });
  });

  it('commits a day with too many rejected rows, then fails for good naming the ratio and the version', async () => {
    await h.land('events.csv', csv(HEADER, ...Array.from({ length: 98 }, () => GOOD), '1001,2001,buy,2024-05-01T10:00:00.000Z,web', ',2001,view,2024-05-01T10:00:00.000Z,web'));
    const err = await h.runError();
    expect(err).toBeInstanceOf(RejectRatioExceededError);
    expect(err.message).toBe(
      'clickstream 2024-05-01: 2% of rows rejected (2 of 100), above CLICKSTREAM_MAX_REJECT_RATIO 0.01; version 1 was committed with the rejected rows in _rejected.ndjson',
    );
    expect(classifyError(err).retryable).toBe(false);
    expect(await h.versions()).toEqual([1]);
    expect(await h.latest()).toMatchObject({ records: 98, rejected: 2 });
    expect((await h.rejected(1)).map((r) => r.line)).toEqual([100, 101]);
  });

  it('passes a day exactly at the reject limit', async () => {
    await h.land('events.csv', csv(HEADER, ...Array.from({ length: 99 }, () => GOOD), '1001,2001,buy,2024-05-01T10:00:00.000Z,web'));
    expect(await h.run()).toMatchObject({ status: 'committed', records: 99, rejected: 1 });
  });

  it('says the files have not arrived (retried) when the folder is missing or holds no export', async () => {
    const missing = await h.runError();
    expect(missing).toBeInstanceOf(NotArrivedError);
    expect(missing.message).toBe(`no clickstream files for 2024-05-01 in ${h.folder()} yet`);
    expect(classifyError(missing).retryable).toBe(true);
    await h.land('.events-000.csv.123.tmp', csv(HEADER, GOOD));
    const empty = await h.runError();
    expect(empty).toBeInstanceOf(NotArrivedError);
    expect(empty.message).toBe(`no clickstream files for 2024-05-01 in ${h.folder()} yet`);
    expect(await h.staging()).toEqual([]);
  });

  it('reads *.csv and *.csv.gz in name order, ignoring hidden files', async () => {
    await h.land('b.csv', csv(HEADER, GOOD));
    await h.land('a.csv', csv(HEADER, GOOD, GOOD));
    await h.land('.c.csv', csv(HEADER, GOOD));
    await h.run();
    const v = (await h.latest())?.validation as { files: Array<{ file: string; rows: number }> };
    expect(v.files.map((f) => [f.file, f.rows])).toEqual([
      ['a.csv', 2],
      ['b.csv', 1],
    ]);
  });

  it('refuses (for good) a landing file whose name the lake cannot store', async () => {
    await h.land('events 1.csv', csv(HEADER, GOOD));
    const err = await h.runError();
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err.message).toBe(
      'clickstream/2024-05-01: 1 landing entry cannot be ingested; move or rename, then retry: "events 1.csv" (a name the lake cannot store: letters, digits and ._-=+@, only, at most 255 bytes)',
    );
  });

  it('checks the date again', async () => {
    const err = await h.runError({ date: '2024-02-30' });
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err.message).toBe('date must be a calendar date as YYYY-MM-DD, got "2024-02-30"');
  });

  it('honours CLICKSTREAM_TIMESTAMP_TOLERANCE_MS', async () => {
    await h.land('events.csv', csv(HEADER, '1001,2001,view,2024-04-30T23:59:30.000Z,web'));
    expect(await h.run({ env: { CLICKSTREAM_TIMESTAMP_TOLERANCE_MS: '60000' } })).toMatchObject({ records: 1, rejected: 0 });
  });

  it('reports progress every 65,536 rows and after each file', async () => {
    await generateClickstreamDay({ landingDir: h.landingDir, date: DATE, rows: 70_000, seed: 'progress' });
    await h.run();
    expect(h.progress.map((p) => p.rows)).toEqual([65_536, 70_000]);
    expect(h.progress[1]).toMatchObject({ rows: 70_000, rejected: 0 });
    expect(h.progress[0]!.bytes).toBeGreaterThan(0);
  });

  it('stops when the job is told to stop: nothing committed, staging cleaned, retryable', async () => {
    await generateClickstreamDay({ landingDir: h.landingDir, date: DATE, rows: 200_000, seed: 'abort' });
    const controller = new AbortController();
    const err = await h.runError({ signal: controller.signal, onProgress: () => controller.abort(new Error('SIGTERM')) });
    expect(err).toBeInstanceOf(TransientError);
    expect(err.message).toMatch(/^reading clickstream\/2024-05-01\/events-000\.csv failed: /);
    expect(await h.versions()).toEqual([]);
    expect(await h.staging()).toEqual([]);
  });

  it('fails retryably when a file is not the size it was listed with (it changed while it was read)', async () => {
    const content = csv(HEADER, GOOD);
    const session = await h.lake.begin({ source: 'clickstream', date: DATE, runId: 'changed', jobId: 'j', attempt: 1 });
    const file: ClickstreamFile = {
      name: 'events.csv',
      display: 'clickstream/2024-05-01/events.csv',
      origin: 'test',
      gzip: false,
      expectedBytes: content.length - 1,
      open: () => Promise.resolve(Readable.from([Buffer.from(content)])),
    };
    const validator = new RowValidator(new DayWindow(DATE, 0));
    const deps = { session, validator, rejects: new RejectedRows(session, 'test'), maxRowBytes: 65_536, onBytes: () => undefined, onProgress: () => undefined };
    const err = await ingestFile(file, deps).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toBe(`clickstream/2024-05-01/events.csv changed while it was read: listed with ${content.length - 1} bytes, read ${content.length}`);
    await session.abort();
  });
});
