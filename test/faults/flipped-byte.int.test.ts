import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openLake, type Lake, type VerifyReport } from '@recomart/lake';
import { runRecomart } from '../helpers/run-cli.js';
import { faultRandom } from './fault-seed.js';
import { snapshotLake } from './lake-snapshot.js';
import { reconcile } from './reconciler.js';

let dataDir: string | undefined;
afterEach(() => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

async function commit(lake: Lake, source: string, date: string, files: Record<string, string>): Promise<string> {
  const session = await lake.begin({ source, date, runId: `run-${date}`, jobId: `${source}__${date}`, attempt: 1 });
  for (const [name, body] of Object.entries(files)) await session.writeFile(name, `/landing/${name}`, body);
  return (await session.commit({ records: 2, rejected: 0, validation: {} })).path;
}

describe('fault 10: one flipped byte in a committed file', () => {
  it('`recomart lake verify` names the file and exits 1; it repairs nothing; the rest of the lake still verifies', async () => {
    const rnd = faultRandom();
    dataDir = mkdtempSync(path.join(tmpdir(), 'recomart-f-flip-'));
    const lake = openLake({ dataDir });
    const rows = 'user_id,product_id,event_type,timestamp,device\n1,2,view,2026-11-01T10:00:00Z,web\n3,4,click,2026-11-01T11:00:00Z,ios\n';
    const victimDir = await commit(lake, 'clickstream', '2026-11-01', { 'events-000.csv': rows, 'events-001.csv': rows.replace('web', 'android') });
    await commit(lake, 'products', '2026-11-01', { 'pages/000001.json': '{"items":[]}' });
    const env = { DATA_DIR: dataDir };
    expect((await runRecomart(['lake', 'verify'], env)).code).toBe(0);
    const before = await snapshotLake(dataDir);

    const victim = path.join(victimDir, 'events-001.csv');
    const offset = Math.floor(rnd.next() * rows.length);
    const fh = await open(victim, 'r+');
    const byte = Buffer.alloc(1);
    await fh.read(byte, 0, 1, offset);
    const flipped = Buffer.from([(byte[0] as number) ^ 0x01]);
    await fh.write(flipped, 0, 1, offset);
    await fh.close();

    const text = await runRecomart(['lake', 'verify'], env);
    expect(text.code, `seed ${rnd.seed}`).toBe(1);
    expect(text.stdout).toContain(`corrupt       ${victim}  sha256 `);
    expect(text.stdout).toContain('verified 2 versions, 3 files: 1 problem');

    const json = await runRecomart(['lake', 'verify', '--json'], env);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as VerifyReport;
    expect(report.problems).toEqual([
      expect.objectContaining({ source: 'clickstream', date: '2026-11-01', version: 1, kind: 'corrupt', path: victim }),
    ]);
    expect(json.stderr).toBe('');

    // Narrowed to the healthy source: exit 0.
    expect((await runRecomart(['lake', 'verify', '--source', 'products'], env)).code).toBe(0);
    // verify only reports: the flipped byte is still there.
    expect((await readFile(victim)).subarray(offset, offset + 1)).toEqual(flipped);

    // The reconciler sees it too, from both sides: verify and the pre-fault hashes.
    const rec = await reconcile({ dataDir, expected: [{ source: 'clickstream', date: '2026-11-01' }], before });
    expect(rec.problems).toEqual([
      expect.stringMatching(new RegExp(`^clickstream 2026-11-01: verify: corrupt ${victim.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: sha256 `)),
      'clickstream 2026-11-01 v1: events-001.csv does not match its sha256 in the manifest',
      expect.stringMatching(/^raw\/clickstream\/2026\/11\/01\/v1\/events-001\.csv changed: sha256 /),
    ]);
  });
});
