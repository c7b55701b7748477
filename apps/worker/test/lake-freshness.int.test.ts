import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, utcDateOf, type SourceName } from '@recomart/jobs';
import { openProducer, readStatus, statusCommand } from '@recomart/producer';
import type { Source } from '@recomart/sources';
import { captureIo } from '../../../test/helpers/capture-io.js';
import { startWorkerStand, type WorkerStand } from './worker-stand.js';

const oneFile: Source = async (ctx) => {
  const session = await ctx.lake.begin({ source: ctx.source, date: ctx.date, runId: ctx.runId, jobId: ctx.jobId, attempt: ctx.attempt });
  await session.writeFile('data.txt', `test://${ctx.date}`, `${ctx.source} ${ctx.date}\n`);
  const r = await session.commit({ records: 1, rejected: 0, validation: {} });
  return { status: r.status, version: r.version, records: 1, rejected: 0, files: 1, bytes: 1 };
};

/** The value of a gauge sample in Prometheus text, or undefined when the sample is absent. */
function sample(text: string, name: string, source: string): number | undefined {
  const m = new RegExp(`^${name}\\{source="${source}"\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

describe('lake freshness: worker gauges and recomart status', () => {
  let stand: WorkerStand | undefined;
  let now = new Date('2026-03-10T05:00:00Z');

  beforeAll(async () => {
    stand = await startWorkerStand('freshness', { clickstream: oneFile, products: oneFile }, { env: { CATCH_UP_DAYS: '3' }, httpPort: 0, now: () => now });
  });
  afterAll(async () => {
    await stand?.close();
  });

  async function ingest(source: SourceName, date: string): Promise<void> {
    expect(await (stand as WorkerStand).run(source, date)).toBe('completed');
  }

  async function gauges(source: string): Promise<{ newest: number | undefined; missing: number | undefined }> {
    const text = await (await fetch(`http://127.0.0.1:${stand?.running.healthPort}/metrics`)).text();
    return { newest: sample(text, 'recomart_lake_newest_partition_timestamp_seconds', source), missing: sample(text, 'recomart_lake_missing_partitions', source) };
  }
  const midnight = (date: string) => Date.parse(`${date}T00:00:00Z`) / 1000;

  it('change when a partition commits and when a day goes missing', async () => {
    // 05:00 on 03-10: clickstream should hold 03-07..03-09 (yesterday and before), products 03-08..03-10
    expect(await gauges('clickstream')).toEqual({ newest: undefined, missing: 3 });
    await ingest('clickstream', '2026-03-07');
    await ingest('clickstream', '2026-03-08');
    expect(await gauges('clickstream')).toEqual({ newest: midnight('2026-03-08'), missing: 1 });
    await ingest('clickstream', '2026-03-09');
    expect(await gauges('clickstream')).toEqual({ newest: midnight('2026-03-09'), missing: 0 });
    expect(await gauges('products')).toEqual({ newest: undefined, missing: 3 });

    // a day later 03-10 is due and not there
    now = new Date('2026-03-11T05:00:00Z');
    expect(await gauges('clickstream')).toEqual({ newest: midnight('2026-03-09'), missing: 1 });
  });

  it('recomart status names the newest date, the commit age and the missing days (text and --json)', async () => {
    const { t } = stand as WorkerStand;
    const ctx = await openProducer(t.env);
    try {
      const status = await readStatus(ctx, new Date('2026-03-11T05:00:00Z'));
      const click = status.freshness.find((f) => f.source === 'clickstream');
      expect(click).toMatchObject({ newestDate: '2026-03-09', newestVersion: 1, window: { from: '2026-03-08', to: '2026-03-10' }, missing: ['2026-03-10'] });
    } finally {
      await ctx.close();
    }
    // The command runs on the real clock: commit the day before yesterday, so yesterday is missing.
    const today = utcDateOf(Date.now());
    await ingest('clickstream', addDays(today, -2));
    const json = captureIo(t.env);
    expect(await statusCommand.run(['--json'], json)).toBe(0);
    const report = JSON.parse(json.out()) as { freshness: Array<{ source: string; newestDate: string; missing: string[]; newestCommitAgeSeconds: number }> };
    const click = report.freshness.find((f) => f.source === 'clickstream');
    expect(click).toMatchObject({ newestDate: addDays(today, -2), missing: [addDays(today, -3), addDays(today, -1)] });
    expect(click?.newestCommitAgeSeconds).toBeLessThan(600); // committed moments ago
    const text = captureIo(t.env);
    expect(await statusCommand.run([], text)).toBe(0);
    expect(text.out()).toMatch(
      new RegExp(`^fresh clickstream: newest ${addDays(today, -2)} v1, committed \\d+s ago · missing 2 day\\(s\\) from ${addDays(today, -3)} to ${addDays(today, -1)}: ${addDays(today, -3)}, ${addDays(today, -1)}$`, 'm'),
    );
    expect(text.out()).toMatch(new RegExp(`^fresh products: nothing committed · missing 3 day\\(s\\) from ${addDays(today, -2)} to ${today}`, 'm'));
  });
});
