// A timing trace of one S3 write session: every S3 request the lake makes (name, start, end, relative to begin()),
// for a products-like snapshot (N small pages) or a segments-like one (one ~700 KB object + 2 small).
// Needs an S3 server (TEST_S3_ENDPOINT, default http://127.0.0.1:7480).
//   node bench/s3-commit-trace.js [--shape pages|segments] [--runs 5] [--quiet]  (the last run's requests, and medians)
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3';
import { openLake } from '@recomart/lake';
import { s3Server } from './s3-lake.js';

const { values } = parseArgs({ options: { shape: { type: 'string', default: 'segments' }, runs: { type: 'string', default: '5' }, quiet: { type: 'boolean' } } });
const server = s3Server();
const s3 = { endpoint: server.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey } };
const bucket = `trace-${randomBytes(4).toString('hex')}`;
const lake = openLake({ dataDir: tmpdir(), url: `s3://${bucket}/lake`, s3 });
const client = lake.store.client;
let t0 = 0;
let trace = [];
const send = client.send.bind(client);
client.send = async (command, ...rest) => {
  const start = performance.now() - t0;
  try {
    return await send(command, ...rest);
  } finally {
    const key = command.input.Key ?? command.input.Prefix ?? '';
    trace.push({ op: command.constructor.name.replace(/Command$/, ''), key: key.replace(/^lake\/[a-z]+\/\d{4}\/\d\d\/\d\d\//, ''), start, end: performance.now() - t0 });
  }
};
await send(new CreateBucketCommand({ Bucket: bucket }));
const big = randomBytes(700 * 1024);
const small = randomBytes(2 * 1024);
const pages = Array.from({ length: 50 }, () => randomBytes(14 * 1024));
let day = 0;
const totals = [];
for (let run = 0; run < Number(values.runs); run++) {
  trace = [];
  const date = new Date(Date.UTC(2020, 0, 1 + ++day)).toISOString().slice(0, 10);
  t0 = performance.now();
  const session = await lake.begin({ source: 'products', date, runId: `trace-${day}`, jobId: `products__${date}`, attempt: 1 });
  if (values.shape === 'pages') {
    let next = 0;
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < pages.length) {
        const i = next++;
        await session.writeFile(`pages/${String(i + 1).padStart(5, '0')}.json`, `mock:${i}`, pages[i]);
      }
    }));
  } else {
    const sink = session.createFile('pages/segment-0001.bin', 'mock:0');
    sink.stream.end(big);
    await Promise.all([sink.done, session.writeFile('pages/index.ndjson', 'mock:index', small), session.writeFile('_requests.ndjson', 'mock:requests', small)]);
  }
  const committedAt = performance.now() - t0;
  await session.commit({ records: 5000, rejected: 0, validation: {} });
  const total = performance.now() - t0;
  totals.push({ total, files: committedAt });
  if (!values.quiet) process.stdout.write(`run ${run + 1}: ${total.toFixed(1)} ms (files done at ${committedAt.toFixed(1)} ms)\n`);
  if (!values.quiet && run === Number(values.runs) - 1) {
    for (const e of trace.sort((a, b) => a.start - b.start)) {
      if (values.shape === 'pages' && e.op === 'PutObject' && e.key.includes('/pages/')) continue;
      process.stdout.write(`  ${e.start.toFixed(1).padStart(7)} → ${e.end.toFixed(1).padStart(7)}  ${e.op.padEnd(22)} ${e.key}\n`);
    }
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
process.stdout.write(`${values.shape}, ${totals.length} sessions: median ${median(totals.map((t) => t.total)).toFixed(1)} ms, files done at ${median(totals.map((t) => t.files)).toFixed(1)} ms (medians)\n`);
for (const u of await lake.store.listPendingUploads('')) await lake.store.abortUpload(u);
await lake.store.deleteKeys((await lake.store.listObjects('')).map((o) => o.key));
await send(new DeleteBucketCommand({ Bucket: bucket }));
lake.store.destroy();
