import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyError, InvalidInputError, NotArrivedError } from '@recomart/jobs';
import { listBucketLandingFiles } from '../src/clickstream/bucket-landing.js';
import { createTestBucket, type TestBucket } from '../../../test/helpers/test-s3.js';

// The clickstream landing zone in a bucket (CLICKSTREAM_LANDING_URL), against the real Ceph RGW.

const DATE = '2024-03-09';

describe('a clickstream landing zone in a bucket', () => {
  let bucket: TestBucket;
  const signal = new AbortController().signal;
  beforeAll(async () => {
    bucket = await createTestBucket('landing');
  });
  afterAll(async () => {
    await bucket.remove();
  });
  const url = (prefix: string) => `s3://${bucket.bucket}/${prefix}`;
  const put = (key: string, body: string) => bucket.store.put(key, body);

  const RULES = { requireMarker: false, settleMs: 0 };

  it('takes the day\'s *.csv and *.csv.gz in byte order of names, not hidden ones', async () => {
    await put(`a/clickstream/${DATE}/events-b.csv`, 'b');
    await put(`a/clickstream/${DATE}/events-a.csv.gz`, 'aa');
    await put(`a/clickstream/${DATE}/.events-c.csv`, 'hidden (an upload in progress)');
    await put(`a/clickstream/2024-03-10/events-e.csv`, 'next day');
    const { files, listing, folder } = await listBucketLandingFiles(url('a'), bucket.s3, DATE, RULES, signal);
    expect(folder).toBe(`s3://${bucket.bucket}/a/clickstream/${DATE}/`);
    expect(files.map((f) => [f.name, f.gzip, f.expectedBytes, f.origin])).toEqual([
      ['events-a.csv.gz', true, 2, `s3://${bucket.bucket}/a/clickstream/${DATE}/events-a.csv.gz`],
      ['events-b.csv', false, 1, `s3://${bucket.bucket}/a/clickstream/${DATE}/events-b.csv`],
    ]);
    expect(listing.map((l) => l.name)).toEqual(['events-a.csv.gz', 'events-b.csv']);
    const chunks: Buffer[] = [];
    for await (const c of await (files[1] as (typeof files)[number]).open()) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('b');
  });

  it('the folder\'s rules: nothing yet or no marker when one is required is NotArrived (retried); a deeper key (a sub-folder) is refused for good', async () => {
    await expect(listBucketLandingFiles(url('empty'), bucket.s3, DATE, RULES, signal)).rejects.toBeInstanceOf(NotArrivedError);
    await put(`nomark/clickstream/${DATE}/events.csv`, 'x');
    await expect(listBucketLandingFiles(url('nomark'), bucket.s3, DATE, { requireMarker: true, settleMs: 0 }, signal)).rejects.toBeInstanceOf(NotArrivedError);
    await put(`nomark/clickstream/${DATE}/_SUCCESS`, '');
    expect((await listBucketLandingFiles(url('nomark'), bucket.s3, DATE, { requireMarker: true, settleMs: 0 }, signal)).complete).toBe(true);
    await put(`bad/clickstream/${DATE}/events.csv`, 'x');
    await put(`bad/clickstream/${DATE}/sub/events-d.csv`, 'deeper');
    const err = await listBucketLandingFiles(url('bad'), bucket.s3, DATE, RULES, signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toContain('cannot be ingested');
  });

  it('an object replaced after it was listed fails the read (retryably) instead of giving other bytes', async () => {
    await put(`chg/clickstream/${DATE}/events.csv`, 'first export');
    const { files } = await listBucketLandingFiles(url('chg'), bucket.s3, DATE, RULES, signal);
    await put(`chg/clickstream/${DATE}/events.csv`, 'second export, longer');
    const err = await (files[0] as (typeof files)[number]).open().catch((e: unknown) => e);
    expect(classifyError(err)).toMatchObject({ retryable: true, reason: `lake: s3://${bucket.bucket}/chg/clickstream/${DATE}/events.csv changed since it was listed` });
  });
});
