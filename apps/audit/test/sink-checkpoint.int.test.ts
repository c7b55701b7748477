import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from '../src/sink-checkpoint.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 't-audit-checkpoint-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the sink checkpoint', () => {
  it('starts every stream from the beginning when there is none', async () => {
    expect(await loadCheckpoint(path.join(dir, 'missing.json'))).toEqual({ positions: {} });
  });

  it('reads back what was saved, leaving no temporary file behind', async () => {
    const file = path.join(dir, 'a', '_checkpoint.json');
    await saveCheckpoint(file, { 'p:audit:events': '1795000000000-3', 'p:ingest-clickstream:events': '1795000000001-0' });
    await saveCheckpoint(file, { 'p:audit:events': '1795000000002-0' });
    expect(await loadCheckpoint(file)).toEqual({ positions: { 'p:audit:events': '1795000000002-0' } });
    expect(await readdir(path.dirname(file))).toEqual(['_checkpoint.json']);
  });

  it('reads an unreadable checkpoint as "from the start" and says so', async () => {
    const file = path.join(dir, 'torn.json');
    await writeFile(file, '{"version":1,"str');
    const loaded = await loadCheckpoint(file);
    expect(loaded.positions).toEqual({});
    expect(loaded.problem).toBe(`audit sink checkpoint ${file} is unreadable; reading every stream from its start (duplicates keep their event ids)`);
  });
});
