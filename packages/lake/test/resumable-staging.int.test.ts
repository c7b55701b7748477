import { describe, expect, it } from 'vitest';
import { S3Lake } from '@recomart/lake';
import { LAKE_BACKENDS, type LakeBackend } from './lake-backends.js';
import { sessionInit } from './temp-lake.js';

const KEY = 'products__2024-03-09';
const init = (runId: string) => sessionInit({ source: 'products', date: '2024-03-09', jobId: KEY, runId, resumeKey: KEY });

describe.each(['folder', 's3'] as const)('a resumable write session (kept staging): %s', (kind) => {
  const backend: LakeBackend = LAKE_BACKENDS[kind]();

  it('keeps finished files and state for the next session of the same key, which commits them with its own', async () => {
    const lake = backend.open();
    const first = await lake.begin(init('run-1'));
    expect(first.resumed).toBeUndefined();
    await first.writeFile('pages/000001.json', 'http://api/p1', '{"p":1}');
    await first.writeFile('pages/000002.json', 'http://api/p2', '{"p":2}');
    await first.keep({ next: 3, handbacks: 1 });
    expect(await backend.keptFiles()).toEqual(['pages/000001.json', 'pages/000002.json']);
    expect(await lake.listVersions('products', '2024-03-09'), 'nothing kept is visible').toEqual([]);
    await first.abort(); // after keep: changes nothing

    const second = await lake.begin(init('run-2'));
    expect(second.resumed?.state).toEqual({ next: 3, handbacks: 1 });
    expect(second.resumed?.files.map((f) => f.path)).toEqual(['pages/000001.json', 'pages/000002.json']);
    expect((await second.readFile('pages/000002.json')).toString()).toBe('{"p":2}');
    await expect(second.writeFile('pages/000001.json', 'x', 'again'), 'a kept name is taken').rejects.toThrow(/already written/);
    await second.writeFile('pages/000003.json', 'http://api/p3', '{"p":3}');
    const result = await second.commit({ records: 3, rejected: 0, validation: {} });

    expect(result.status).toBe('committed');
    expect(result.manifest.files.map((f) => [f.path, f.origin])).toEqual([
      ['pages/000001.json', 'http://api/p1'],
      ['pages/000002.json', 'http://api/p2'],
      ['pages/000003.json', 'http://api/p3'],
    ]);
    expect(await backend.leftovers(), 'no kept staging or pointer left').toEqual([]);
    expect((await lake.verify()).problems).toEqual([]);
    expect((await lake.begin(init('run-3'))).resumed, 'taken once').toBeUndefined();
  });

  it('is taken over by one session only; a key without a kept staging, or another key, starts empty', async () => {
    const lake = backend.open();
    const first = await lake.begin(init('run-1'));
    await first.writeFile('pages/000001.json', 'u', 'one');
    await first.keep({ n: 1 });
    const [a, b] = await Promise.all([lake.begin(init('run-2')), backend.open().begin(init('run-3'))]);
    expect([a.resumed, b.resumed].filter((r) => r !== undefined), 'exactly one takes it').toHaveLength(1);
    const other = await lake.begin({ ...init('run-4'), resumeKey: 'products__2024-03-10', jobId: 'products__2024-03-10' });
    expect(other.resumed).toBeUndefined();
    await Promise.all([a.abort(), b.abort(), other.abort()]);
    expect(await backend.leftovers(), 'abort of a resumed session drops what was kept').toEqual([]);
  });

  it('drops an unfinished file when keeping, and a kept staging whose file changed size', async () => {
    const lake = backend.open();
    const first = await lake.begin(init('run-1'));
    await first.writeFile('pages/000001.json', 'u', 'one');
    const sink = first.createFile('pages/000002.json', 'u');
    sink.stream.write('half a pa');
    sink.done.catch(() => undefined);
    await first.keep({});
    expect(await backend.keptFiles()).toEqual(['pages/000001.json']);
    const second = await lake.begin(init('run-2'));
    expect(second.resumed?.files.map((f) => f.path)).toEqual(['pages/000001.json']);
    await second.writeFile('pages/000002.json', 'u', 'two');
    await second.keep({});
    expect(await backend.keptFiles()).toEqual(['pages/000001.json', 'pages/000002.json']);

    await backend.rewriteKept('pages/000002.json', Buffer.from('tw'));
    const third = await lake.begin(init('run-3'));
    expect(third.resumed, 'a changed kept staging is not resumed').toBeUndefined();
    expect(await backend.leftovers(), 'and it is given back').toEqual([]);
    await third.writeFile('pages/000001.json', 'u', 'fresh');
    const result = await third.commit({ records: 1, rejected: 0, validation: {} });
    expect(result.manifest.files.map((f) => f.path)).toEqual(['pages/000001.json']);
    expect((await lake.verify()).problems).toEqual([]);
  });

  it('readFile refuses a kept file whose bytes changed behind the lake', async () => {
    const lake = backend.open();
    const first = await lake.begin(init('run-1'));
    await first.writeFile('pages/000001.json', 'u', 'one');
    await first.keep({});
    await backend.rewriteKept('pages/000001.json', Buffer.from('two'));
    const second = await lake.begin(init('run-2'));
    await expect(second.readFile('pages/000001.json')).rejects.toThrow(/changed/);
    await second.abort();
  });

  it('refuses keep without a resumeKey, and sweep removes a kept staging older than the max age', async () => {
    let clock = Date.now();
    const lake = backend.open({ now: () => new Date(clock) });
    const plain = await lake.begin(sessionInit());
    await expect(plain.keep({})).rejects.toThrow(/without a resumeKey/);
    await plain.abort();
    const first = await lake.begin(init('run-1'));
    await first.writeFile('pages/000001.json', 'u', 'one');
    await first.keep({});
    expect((await lake.sweep(60_000)).removed, 'a fresh kept staging stays').toEqual([]);
    clock += 120_000;
    expect((await lake.sweep(60_000)).removed.length).toBeGreaterThan(0);
    expect((await lake.begin(init('run-2'))).resumed).toBeUndefined();
    expect(await backend.leftovers()).toEqual([]);
  });

  it.runIf(kind === 's3')('a taker that read the pointer before the staging was committed loses, and the version gains nothing', async () => {
    const lake = backend.open();
    if (!(lake instanceof S3Lake)) throw new Error('an S3 lake was expected');
    const first = await lake.begin(init('run-1'));
    await first.writeFile('pages/000001.json', 'u', 'one');
    await first.keep({ n: 1 });
    // What a slow session read before the next one took the staging over, committed it and removed the pointer.
    const pointerKey = lake.layout.keptPointer(KEY);
    const stale = await lake.store.getSmall(pointerKey, 4096);
    expect(stale, 'the pointer is there').toBeDefined();
    const second = await lake.begin(init('run-2'));
    expect(second.resumed).toBeDefined();
    const result = await second.commit({ records: 1, rejected: 0, validation: {} });
    const version = lake.layout.version('products', '2024-03-09', result.version);
    const before = (await lake.store.listObjects(version)).map((o) => `${o.key} ${o.size}`);

    await lake.store.put(pointerKey, stale as Buffer);
    const late = await lake.begin(init('run-3'));
    expect(late.resumed, 'the late taker starts empty').toBeUndefined();
    await late.writeFile('pages/000001.json', 'u', 'late');
    await late.abort();
    expect((await lake.store.listObjects(version)).map((o) => `${o.key} ${o.size}`), 'the committed version is as it was').toEqual(before);
    expect((await lake.verify()).problems).toEqual([]);
    expect((await lake.readManifest('products', '2024-03-09', result.version))?.files.map((f) => f.path)).toEqual(['pages/000001.json']);
  });

  it.runIf(kind === 's3')('a kept staging taken over and then aborted keeps its number taken: the next version is another, and a late taker loses', async () => {
    const lake = backend.open();
    if (!(lake instanceof S3Lake)) throw new Error('an S3 lake was expected');
    const first = await lake.begin(init('run-1'));
    await first.writeFile('pages/000001.json', 'u', 'one');
    await first.keep({});
    const pointerKey = lake.layout.keptPointer(KEY);
    const stale = await lake.store.getSmall(pointerKey, 4096);
    const second = await lake.begin(init('run-2'));
    expect(second.resumed).toBeDefined();
    await second.abort();
    expect(await backend.leftovers(), 'the kept files went').toEqual([]);

    const third = await lake.begin(init('run-3'));
    expect(third.resumed).toBeUndefined();
    await third.writeFile('pages/000001.json', 'u', 'three');
    const result = await third.commit({ records: 1, rejected: 0, validation: {} });
    expect(result.version, 'v1 stays taken').toBe(2);
    const v2 = lake.layout.version('products', '2024-03-09', 2);
    const before = (await lake.store.listObjects(v2)).map((o) => o.key);

    await lake.store.put(pointerKey, stale as Buffer);
    const late = await lake.begin(init('run-4'));
    expect(late.resumed).toBeUndefined();
    await late.abort();
    expect((await lake.store.listObjects(v2)).map((o) => o.key)).toEqual(before);
    expect((await lake.verify()).problems).toEqual([]);
  });
});
