import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openLake, type Lake, type VerifyReport } from '@recomart/lake';
import { runRecomart } from '../helpers/run-cli.js';
import { snapshotLake } from './lake-snapshot.js';
import { reconcile } from './reconciler.js';

let dataDir: string | undefined;
afterEach(() => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

const ROWS = 'user_id,product_id,event_type,timestamp,device\n1,2,view,2026-11-01T10:00:00Z,web\n3,4,click,2026-11-01T11:00:00Z,ios\n';

async function commit(lake: Lake, source: string, date: string, files: Record<string, string>, records: number): Promise<string> {
  const session = await lake.begin({ source, date, runId: `run-${date}`, jobId: `${source}__${date}`, attempt: 1 });
  for (const [name, body] of Object.entries(files)) await session.writeFile(name, `/landing/${name}`, body);
  return (await session.commit({ records, rejected: 0, validation: {} })).path;
}

describe('fault 14: a committed manifest edited by hand (issue 12, finding 5)', () => {
  it('is read-only on disk; `lake verify` names it by its digest; with the digest gone too, `lake verify --deep` recounts and names it', async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'recomart-f-manifest-'));
    const lake = openLake({ dataDir });
    const dir = await commit(lake, 'clickstream', '2026-11-01', { 'events-000.csv': ROWS, 'events-001.csv': ROWS }, 4);
    await commit(lake, 'products', '2026-11-01', { 'pages/000001.json': '{"items":[]}' }, 0);
    const env = { DATA_DIR: dataDir };
    expect((await runRecomart(['lake', 'verify', '--deep'], env)).code).toBe(0);
    const manifest = path.join(dir, '_manifest.json');
    expect([(await stat(dir)).mode & 0o777, (await stat(manifest)).mode & 0o777]).toEqual([0o555, 0o444]);
    const before = await snapshotLake(dataDir);

    // What the probe did: "records": 4 → 3 (root ignores the mode; anyone else gets EACCES)
    const text = await readFile(manifest, 'utf8');
    await writeFile(manifest, text.replace('"records": 4,', '"records": 3,'));
    expect((await runRecomart(['lake', 'show', '--source', 'clickstream', '--date', '2026-11-01', '--json'], env)).stdout).toContain('"records": 3');

    const plain = await runRecomart(['lake', 'verify'], env);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toContain(`bad-manifest  ${manifest}  sha256 `);
    const rec = await reconcile({ dataDir, expected: [{ source: 'clickstream', date: '2026-11-01' }], before });
    expect(rec.problems).toContain('clickstream 2026-11-01 v1: _manifest.json does not match _manifest.json.sha256');

    // The digest removed as well: the hashes see nothing, the recount does.
    await rm(`${manifest}.sha256`);
    expect((await runRecomart(['lake', 'verify'], env)).code).toBe(0);
    const deep = await runRecomart(['lake', 'verify', '--deep', '--json'], env);
    expect(deep.code).toBe(1);
    expect((JSON.parse(deep.stdout) as VerifyReport).problems).toEqual([
      { source: 'clickstream', date: '2026-11-01', version: 1, kind: 'mismatch', path: manifest, detail: 'the data files hold 4 rows, the manifest says 3 records + 0 rejected = 3' },
    ]);
  });
});
