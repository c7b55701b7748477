// Lake write and verify throughput, each beside its peer measured in the same run:
//   write: createFile → commit (hash while writing, fsync, atomic rename) vs a plain
//          fs.createWriteStream + sha256 of the same bytes (no fsync, no manifest);
//   verify: lake.verify() vs `sha256sum` over the same files.
// Run after `npx tsc -b tsconfig.build.json`:
//   node packages/lake/bench/lake-bench.mjs [--mb 512] [--files 8]
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { openLake } from '@recomart/lake';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '512' }, files: { type: 'string', default: '8' } } });
const totalBytes = Number(values.mb) * 1024 * 1024;
const files = Number(values.files);
const perFile = Math.floor(totalBytes / files);
const CHUNK = 256 * 1024;
const block = Buffer.alloc(CHUNK);
for (let i = 0; i < CHUNK; i++) block[i] = (i * 2654435761) >>> 24;

function* chunks() {
  for (let left = perFile; left > 0; left -= CHUNK) yield left >= CHUNK ? block : block.subarray(0, left);
}

const dir = mkdtempSync(path.join(tmpdir(), 'lake-bench-'));
const mbps = (bytes, ms) => Math.round((bytes / 1024 / 1024) / (ms / 1000));
try {
  // peer: plain stream + hash
  let t = performance.now();
  for (let f = 0; f < files; f++) {
    const hash = createHash('sha256');
    const out = createWriteStream(path.join(dir, `plain-${f}.bin`));
    await pipeline(Readable.from(chunks()), async function* (src) {
      for await (const c of src) {
        hash.update(c);
        yield c;
      }
    }, out);
    hash.digest('hex');
  }
  const plainMs = performance.now() - t;

  // ours
  const lake = openLake({ dataDir: path.join(dir, 'data') });
  t = performance.now();
  const session = await lake.begin({ source: 'bench', date: '2024-01-01', runId: 'bench', jobId: 'bench', attempt: 1 });
  for (let f = 0; f < files; f++) {
    const sink = session.createFile(`part-${f}.bin`, 'bench');
    await pipeline(Readable.from(chunks()), sink.stream);
    await sink.done;
  }
  const result = await session.commit({ records: 0, rejected: 0, validation: {} });
  const lakeMs = performance.now() - t;

  t = performance.now();
  const report = await lake.verify();
  const verifyMs = performance.now() - t;
  if (!report.ok) throw new Error('verify failed');

  t = performance.now();
  execFileSync('sha256sum', Array.from({ length: files }, (_, f) => path.join(result.path, `part-${f}.bin`)), { stdio: 'ignore' });
  const shaMs = performance.now() - t;

  const bytes = perFile * files;
  const out = {
    bytes,
    files,
    write: { lakeMBps: mbps(bytes, lakeMs), plainStreamMBps: mbps(bytes, plainMs), ratio: +(plainMs / lakeMs).toFixed(2) },
    verify: { lakeMBps: mbps(bytes, verifyMs), sha256sumMBps: mbps(bytes, shaMs), ratio: +(shaMs / verifyMs).toFixed(2) },
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
