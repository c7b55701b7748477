// Kill recovery: two real worker processes with the DEFAULT lock settings
// (WORKER_LOCK_MS, WORKER_STALLED_INTERVAL_MS unset); the one writing a large
// clickstream partition is SIGKILLed mid-write; measured: seconds from the kill
// to the other worker's `started` event for that job (the target: 20 s).
// Uses the BUILT packages and the Redis on REDIS_URL.
//   node bench/kill-recovery.js [rounds]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { loadConfig, variables } from '@recomart/config';
import { auditStreamKey, AUDIT_STREAM_FIELD, createIngestQueues } from '@recomart/queue';
import { generateClickstreamDay } from '@recomart/sources';
import { dropPrefix } from './redis-keys.js';
import { spawnBenchWorker } from './worker-process.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATE = '2026-02-02';
const TARGET_SECONDS = 20;

function spawnWorker(env) {
  return spawnBenchWorker(env, ['--sources', 'clickstream', '--concurrency', '1']);
}

/** Reads the audit stream from the start, resolving the first event that matches. */
async function waitForAudit(redis, key, match, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let cursor = '0';
  while (Date.now() < deadline) {
    const reply = await redis.xread('COUNT', 100, 'BLOCK', 1000, 'STREAMS', key, cursor);
    for (const [, entries] of reply ?? []) {
      for (const [id, fields] of entries) {
        cursor = id;
        const raw = fields[fields.indexOf(AUDIT_STREAM_FIELD) + 1];
        const event = JSON.parse(raw);
        if (match(event)) return event;
      }
    }
  }
  throw new Error(`kill-recovery: no matching audit event within ${timeoutMs} ms`);
}

/** Bytes the worker with `pid` has staged so far (its staging folders are `<time>-<pid>-<random>`). */
function stagedBytes(dataDir, pid) {
  const root = path.join(dataDir, 'raw', '.staging');
  let total = 0;
  let names = [];
  try {
    names = readdirSync(root).filter((n) => n.split('-')[1] === String(pid));
  } catch {
    return 0;
  }
  for (const n of names) {
    try {
      for (const f of readdirSync(path.join(root, n))) total += statSync(path.join(root, n, f)).size;
    } catch {
      /* published or removed meanwhile */
    }
  }
  return total;
}

const pidOf = (worker) => Number(String(worker).split(':').pop());

async function oneRound(landingDir, bytes) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'recomart-bench-kill-'));
  const prefix = `bench-kill-${randomBytes(4).toString('hex')}`;
  const env = { PATH: process.env.PATH, REDIS_URL, QUEUE_PREFIX: prefix, DATA_DIR: dataDir, LANDING_DIR: landingDir, LOG_LEVEL: 'warn' };
  const config = loadConfig(env);
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queues = createIngestQueues(redis, config, ['clickstream']);
  const workers = [spawnWorker(env), spawnWorker(env)];
  const key = auditStreamKey(prefix);
  const jobId = `clickstream__${DATE}`;
  try {
    await Promise.all(workers.map((w) => w.ready));
    await queues.get('clickstream').add('ingest', { source: 'clickstream', date: DATE, trigger: 'manual' }, { jobId });
    const started = await waitForAudit(redis, key, (e) => e.jobId === jobId && e.type === 'started', 60_000);
    const victimPid = pidOf(started.worker);
    const victim = workers.find((w) => w.child.pid === victimPid);
    // Mid-write: a third of the file staged.
    while (stagedBytes(dataDir, victimPid) < bytes / 3) await new Promise((r) => setTimeout(r, 5));
    victim.child.kill('SIGKILL');
    const killedAt = Date.now();
    await victim.exited;
    const rescue = await waitForAudit(redis, key, (e) => e.jobId === jobId && e.type === 'started' && pidOf(e.worker) !== victimPid, 180_000);
    const seconds = (Date.parse(rescue.at) - killedAt) / 1000;
    return Math.round(seconds * 100) / 100;
  } finally {
    for (const w of workers) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await Promise.all([...queues.values()].map((q) => q.close()));
    await dropPrefix(redis, prefix);
    redis.disconnect();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** `rounds` kills, each with fresh workers, prefix and lake; reports every round's seconds and the worst. */
export async function runKillRecoveryBench({ rounds = 3, rows = 150_000 } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'recomart-bench-kill-landing-'));
  try {
    const landingDir = path.join(dir, 'landing');
    const day = await generateClickstreamDay({ landingDir, date: DATE, rows, files: 1, seed: 'bench-kill' });
    const seconds = [];
    for (let r = 0; r < rounds; r++) seconds.push(await oneRound(landingDir, day.files[0].bytes));
    const worst = Math.max(...seconds);
    return {
      lockMs: Number(variables.WORKER_LOCK_MS.defaultValue),
      stalledIntervalMs: Number(variables.WORKER_STALLED_INTERVAL_MS.defaultValue),
      rows,
      seconds,
      worstSeconds: worst,
      targetSeconds: TARGET_SECONDS,
      met: worst <= TARGET_SECONDS,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await runKillRecoveryBench({ rounds: Number(process.argv[2] ?? 3) }), null, 2));
}
