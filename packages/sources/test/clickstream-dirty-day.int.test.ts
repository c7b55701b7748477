import { createReadStream } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RejectedRows, generateClickstreamDay } from '@recomart/sources';
import { DATE, clickstreamHarness, type ClickstreamHarness } from './clickstream-harness.js';

function lfIn(chunk: Buffer): number {
  let n = 0;
  for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++;
  return n;
}

/** LF bytes in a file, counted while streaming it. */
async function countLf(file: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) n += lfIn(chunk);
  return n;
}

// Issue 12 finding 1: with half the rows rejected, the rejects file's backpressure paused the parser and rows
// were silently dropped (rows 222,268 of 1,000,000), so a repeat committed a new version. 20–40 s on a loaded machine.
describe('clickstream: a million-row day with half its rows bad', () => {
  let h: ClickstreamHarness;
  beforeEach(async () => {
    h = await clickstreamHarness({ CLICKSTREAM_MAX_REJECT_RATIO: '1' });
  });
  afterEach(async () => {
    await h.close();
  });

  it('validates every row exactly once, writes every rejected one, and finds the repeat unchanged', async () => {
    const day = await generateClickstreamDay({ landingDir: h.landingDir, date: DATE, rows: 1_000_000, dirty: 0.5, seed: 'issue-12-finding-1' });
    const dataLines = (await countLf(day.files[0]!.path)) - 1;
    expect(dataLines).toBe(1_000_000);

    const first = await h.run();
    const manifest = await h.latest();
    const v = manifest?.validation as { rows: number; accepted: number; rejected: number; files: Array<{ lines: number; rows: number; rejected: number }> };
    const state = { first, rows: v.rows, accepted: v.accepted, rejected: v.rejected, files: v.files };
    expect(state).toMatchObject({ first: { status: 'committed', version: 1 }, rows: dataLines, files: [{ lines: dataLines + 1, rows: dataLines }] });
    expect(v.accepted + v.rejected, JSON.stringify(state)).toBe(v.rows);
    // Half the rows carry a defect; some (a timestamp shifted by exactly a day at the edge) may still be fine.
    expect(v.rejected, JSON.stringify(state)).toBeGreaterThan(450_000);
    const rejectedLines = lfIn(await h.readLakeFile(1, RejectedRows.fileName));
    expect(rejectedLines, JSON.stringify(state)).toBe(v.rejected);

    const second = await h.run();
    expect(second, JSON.stringify(state)).toMatchObject({ status: 'unchanged', version: 1, rejected: v.rejected });
    expect(await h.versions()).toEqual([1]);
    // Generous: two million-row ingests with half a million rejects each, on a machine shared with other work.
  }, 300_000);
});
