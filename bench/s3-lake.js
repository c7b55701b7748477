// The lake on S3 (a real Ceph RGW: scripts/ceph-s3.sh, started here when none answers and stopped after),
// beside the folder lake and beside a plain AWS SDK upload of the same bytes, in the same run, rounds interleaved:
//   - clickstream: a generated 1,000,000-row day. "lake write" streams the file into a write session and commits
//     (claim, multipart upload with sha256 while streaming, unchanged check, manifest); "plain" is lib-storage's
//     Upload of the same file with the same part size and parts in flight. Also the whole clickstream source
//     (parse + validate + rejects + commit) into S3 and into the folder, each in its own process (peak RSS).
//   - products: a 5,000-product snapshot as the mock API serves it (50 pages of 100). "lake write" writes each page
//     into a session (4 at a time, as the source does) and commits; "plain" PUTs the same pages, 4 at a time.
//   - segments: the same snapshot as the products source writes it since pages go into segment files: 3 objects (the
//     pages concatenated, ~700 KB, streamed into the session; a small index; a small request log), the fixed cost of a
//     commit showing most; "plain" PUTs the same 3 at once.
//   - optionally a ~1 GB clickstream day through the whole source into S3: peak RSS (limit 200 MB).
//   The source runs are child processes started with the node flags the image and `npm start` use (WORKER_NODE_FLAGS).
// The target: the lake's time over the plain upload's at most 1.2x.
//   node bench/s3-lake.js [--rows 1000000] [--products 5000] [--rounds 5] [--large-bytes 1e9 | --skip-1gb] [--json]
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { MULTIPART_PART_BYTES, MULTIPART_QUEUE, ObjectStore, openLake } from '@recomart/lake';
import { startMockProductApi } from '@recomart/mock-product-api';
import { generateClickstreamDay } from '@recomart/sources';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHILD = fileURLToPath(new URL('./clickstream-child.js', import.meta.url));
const DATE = '2024-05-01';
const LARGE_DATE = '2024-05-02';
const TARGET = 1.2;
const RSS_LIMIT_MB = 200;
const PAGE_CONCURRENCY = 4;
const WORKER_NODE_FLAGS = ['--max-semi-space-size=4'];
const round = (n, d = 3) => Math.round(n * 10 ** d) / 10 ** d;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export function s3Server() {
  return {
    endpoint: process.env.TEST_S3_ENDPOINT ?? 'http://127.0.0.1:7480',
    accessKeyId: process.env.TEST_S3_ACCESS_KEY ?? 'recomart-test',
    secretAccessKey: process.env.TEST_S3_SECRET_KEY ?? 'recomart-test-secret',
  };
}

/** Starts the project's Ceph RGW when no S3 server answers; returns how to stop it again (or nothing). */
function ensureS3() {
  const script = path.join(ROOT, 'scripts/ceph-s3.sh');
  try {
    execFileSync(script, ['status'], { stdio: 'ignore' });
    return () => undefined;
  } catch {
    execFileSync(script, ['start'], { stdio: ['ignore', 'ignore', 'inherit'] });
    return () => execFileSync(script, ['stop'], { stdio: 'ignore' });
  }
}

async function eachLimited(items, limit, task) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await task(items[next++]);
  }));
}

function timed(fn) {
  return async () => {
    const t0 = performance.now();
    await fn();
    return (performance.now() - t0) / 1000;
  };
}

function runChild(args, env) {
  return new Promise((resolve, reject) => {
    // As the image and `npm start` run workers (a 4 MB young generation), for the S3 and the folder runs alike.
    const child = spawn(process.execPath, [...WORKER_NODE_FLAGS, CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`clickstream-child exited ${code}: ${err.trim().split('\n').pop()}`))));
  });
}

function summarize(seconds) {
  return { bestSeconds: round(Math.min(...seconds)), medianSeconds: round(median(seconds)), seconds: seconds.map((s) => round(s)) };
}

export async function runS3LakeBench({ rows = 1_000_000, products = 5000, rounds = 5, largeBytes = 1e9, skip1gb = false, log = (l) => process.stderr.write(`${l}\n`) } = {}) {
  const stopS3 = ensureS3();
  const server = s3Server();
  const s3 = { endpoint: server.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey } };
  const bucket = `bench-${randomBytes(4).toString('hex')}`;
  const store = new ObjectStore(bucket, s3);
  const dir = await mkdtemp(path.join(tmpdir(), 'recomart-bench-s3-'));
  const landingDir = path.join(dir, 'landing');
  const childEnv = { AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey };
  let n = 0;
  const fresh = () => `r${++n}`;
  try {
    await store.client.send(new CreateBucketCommand({ Bucket: bucket }));
    log(`s3: generating ${rows} rows…`);
    const day = await generateClickstreamDay({ landingDir, date: DATE, rows, files: 1, seed: 'bench', dirty: 0.002 });
    const file = day.files[0];

    log(`s3: fetching a ${products}-product snapshot from the mock API…`);
    const api = await startMockProductApi({ port: 0, products, seed: 'bench' });
    const pages = [];
    try {
      for (let offset = 0; offset < products; offset += 100) {
        const res = await fetch(`${api.url}?offset=${offset}&limit=100`);
        pages.push(Buffer.from(await res.arrayBuffer()));
      }
    } finally {
      await api.close();
    }
    const pageBytes = pages.reduce((a, p) => a + p.byteLength, 0);
    const segment = Buffer.concat(pages);
    let at = 0;
    const index = Buffer.from(pages.map((p, i) => `${JSON.stringify({ page: i + 1, offset: (at += p.byteLength) - p.byteLength, bytes: p.byteLength })}\n`).join(''));
    const requests = Buffer.from(pages.map((_, i) => `${JSON.stringify({ url: `mock:${i}`, status: 200, ms: 3 })}\n`).join(''));

    // Each write goes to a partition of its own (the same content twice would be `unchanged`), in one lake opened once,
    // as a worker keeps its lake (and its connections) open.
    let day0 = 0;
    const init = (source) => {
      const date = new Date(Date.UTC(2020, 0, 1 + ++day0)).toISOString().slice(0, 10);
      return { source, date, runId: `bench-${day0}`, jobId: `${source}__${date}`, attempt: 1 };
    };
    const lakeWriteFile = (lake) => async () => {
      const session = await lake.begin(init('clickstream'));
      const sink = session.createFile('events-000.csv', file.path);
      createReadStream(file.path, { highWaterMark: 1024 * 1024 }).pipe(sink.stream);
      await sink.done;
      await session.commit({ records: rows, rejected: 0, validation: {} });
    };
    const plainFile = () => async () => {
      const up = new Upload({ client: store.client, params: { Bucket: bucket, Key: `plain/${fresh()}/events-000.csv`, Body: createReadStream(file.path, { highWaterMark: 1024 * 1024 }) }, partSize: MULTIPART_PART_BYTES, queueSize: MULTIPART_QUEUE });
      await up.done();
    };
    const lakeWritePages = (lake) => async () => {
      const session = await lake.begin(init('products'));
      await eachLimited(pages.map((p, i) => [p, i]), PAGE_CONCURRENCY, ([p, i]) => session.writeFile(`pages/${String(i + 1).padStart(5, '0')}.json`, `mock:${i}`, p));
      await session.commit({ records: products, rejected: 0, validation: {} });
    };
    const plainPages = () => async () => {
      const prefix = `plain/${fresh()}`;
      await eachLimited(pages.map((p, i) => [p, i]), PAGE_CONCURRENCY, ([p, i]) => store.client.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/pages/${String(i + 1).padStart(5, '0')}.json`, Body: p })));
    };
    const lakeWriteSegments = (lake) => async () => {
      const session = await lake.begin(init('products'));
      const sink = session.createFile('pages/segment-0001.bin', 'mock:segment');
      sink.stream.end(segment);
      await Promise.all([sink.done, session.writeFile('pages/index.ndjson', 'mock:index', index), session.writeFile('_requests.ndjson', 'mock:requests', requests)]);
      await session.commit({ records: products, rejected: 0, validation: {} });
    };
    const plainSegments = () => async () => {
      const prefix = `plain/${fresh()}`;
      await Promise.all(
        [
          ['pages/segment-0001.bin', segment],
          ['pages/index.ndjson', index],
          ['_requests.ndjson', requests],
        ].map(([key, body]) => store.client.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/${key}`, Body: body }))),
      );
    };
    const theS3Lake = openLake({ dataDir: dir, url: `s3://${bucket}/lake`, s3 });
    const s3Lake = () => theS3Lake;
    const folderLake = async () => openLake({ dataDir: await mkdtemp(path.join(dir, 'lake-')) });

    const t = { fileS3: [], fileFolder: [], filePlain: [], pagesS3: [], pagesFolder: [], pagesPlain: [], segmentsS3: [], segmentsPlain: [], sourceS3: [], sourceFolder: [] };
    const rss = { sourceS3: 0, sourceFolder: 0 };
    // Warm-up (connections, JIT), not measured.
    await timed(lakeWriteFile(s3Lake()))();
    await timed(plainFile())();
    await timed(lakeWritePages(s3Lake()))();
    await timed(plainPages())();
    await timed(lakeWriteSegments(s3Lake()))();
    await timed(plainSegments())();
    for (let r = 1; r <= rounds; r++) {
      log(`s3: round ${r}/${rounds}`);
      const steps = [
        async () => t.fileS3.push(await timed(lakeWriteFile(s3Lake()))()),
        async () => t.filePlain.push(await timed(plainFile())()),
        async () => t.fileFolder.push(await timed(lakeWriteFile(await folderLake()))()),
        async () => t.pagesS3.push(await timed(lakeWritePages(s3Lake()))()),
        async () => t.pagesPlain.push(await timed(plainPages())()),
        async () => t.pagesFolder.push(await timed(lakeWritePages(await folderLake()))()),
        async () => t.segmentsS3.push(await timed(lakeWriteSegments(s3Lake()))()),
        async () => t.segmentsPlain.push(await timed(plainSegments())()),
      ];
      if (r % 2 === 0) steps.reverse();
      for (const step of steps) await step();
      const s3Run = await runChild(['ingest', dir, landingDir, DATE, `s3://${bucket}/${fresh()}`, server.endpoint], childEnv);
      t.sourceS3.push(s3Run.seconds);
      rss.sourceS3 = Math.max(rss.sourceS3, s3Run.peakRssMb);
      const dataDir = await mkdtemp(path.join(dir, 'lake-'));
      const folderRun = await runChild(['ingest', dataDir, landingDir, DATE], {});
      t.sourceFolder.push(folderRun.seconds);
      rss.sourceFolder = Math.max(rss.sourceFolder, folderRun.peakRssMb);
      await rm(dataDir, { recursive: true, force: true });
    }
    const s = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, summarize(v)]));
    const ratio = (a, b) => round(s[a].bestSeconds / s[b].bestSeconds);
    const perRound = (a, b) => t[a].map((x, i) => round(x / t[b][i]));
    const result = {
      rows,
      fileBytes: file.bytes,
      products,
      pages: pages.length,
      pageBytes,
      segmentObjects: 3,
      segmentBytes: segment.byteLength + index.byteLength + requests.byteLength,
      partBytes: MULTIPART_PART_BYTES,
      rounds,
      seconds: s,
      mbPerSecond: {
        fileS3: round(file.bytes / 1e6 / s.fileS3.bestSeconds, 1),
        filePlain: round(file.bytes / 1e6 / s.filePlain.bestSeconds, 1),
        fileFolder: round(file.bytes / 1e6 / s.fileFolder.bestSeconds, 1),
      },
      rowsPerSecond: { sourceS3: Math.round(rows / s.sourceS3.bestSeconds), sourceFolder: Math.round(rows / s.sourceFolder.bestSeconds) },
      peakRssMb: rss,
      childNodeFlags: WORKER_NODE_FLAGS,
      ratios: {
        fileLakeVsPlain: ratio('fileS3', 'filePlain'),
        fileLakeVsPlainPerRound: perRound('fileS3', 'filePlain'),
        pagesLakeVsPlain: ratio('pagesS3', 'pagesPlain'),
        pagesLakeVsPlainPerRound: perRound('pagesS3', 'pagesPlain'),
        segmentsLakeVsPlain: ratio('segmentsS3', 'segmentsPlain'),
        segmentsLakeVsPlainPerRound: perRound('segmentsS3', 'segmentsPlain'),
        fileS3VsFolder: ratio('fileS3', 'fileFolder'),
        pagesS3VsFolder: ratio('pagesS3', 'pagesFolder'),
        sourceS3VsFolder: ratio('sourceS3', 'sourceFolder'),
      },
      target: { lakeVsPlain: TARGET },
    };
    result.target.met = result.ratios.fileLakeVsPlain <= TARGET && result.ratios.pagesLakeVsPlain <= TARGET;
    await rm(landingDir, { recursive: true, force: true });
    if (skip1gb) {
      result.oneGb = { skipped: 'skipped (--skip-1gb)' };
    } else {
      const largeRows = Math.ceil(largeBytes / (file.bytes / rows));
      log(`s3: generating a ~${round(largeBytes / 1e9, 2)} GB day (${largeRows} rows)…`);
      const big = await generateClickstreamDay({ landingDir, date: LARGE_DATE, rows: largeRows, files: 1, seed: 'bench-large', dirty: 0.002 });
      log('s3: ingesting it into S3…');
      const run = await runChild(['ingest', dir, landingDir, LARGE_DATE, `s3://${bucket}/large`, server.endpoint], childEnv);
      result.oneGb = { bytes: big.files[0].bytes, rows: run.rows, seconds: round(run.seconds, 2), peakRssMb: run.peakRssMb, limitMb: RSS_LIMIT_MB, met: run.peakRssMb < RSS_LIMIT_MB };
    }
    return result;
  } finally {
    try {
      for (const u of await store.listPendingUploads('')) await store.abortUpload(u);
      await store.deleteKeys((await store.listObjects('')).map((o) => o.key));
      await store.client.send(new (await import('@aws-sdk/client-s3')).DeleteBucketCommand({ Bucket: bucket }));
    } catch {
      /* the server may be gone */
    }
    store.destroy();
    await rm(dir, { recursive: true, force: true });
    // The RGW frees deleted objects hours later; its in-memory OSD would keep the gigabytes until then.
    try {
      execFileSync(path.join(ROOT, 'scripts/ceph-s3.sh'), ['gc'], { stdio: 'ignore', timeout: 120_000 });
    } catch {
      /* not the project's own server */
    }
    stopS3();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { rows: { type: 'string' }, products: { type: 'string' }, rounds: { type: 'string' }, 'large-bytes': { type: 'string' }, 'skip-1gb': { type: 'boolean' }, json: { type: 'boolean' } } });
  const r = await runS3LakeBench({
    rows: values.rows ? Number(values.rows) : undefined,
    products: values.products ? Number(values.products) : undefined,
    rounds: values.rounds ? Number(values.rounds) : undefined,
    largeBytes: values['large-bytes'] ? Number(values['large-bytes']) : undefined,
    skip1gb: values['skip-1gb'] === true,
  });
  process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
}
