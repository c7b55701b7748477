import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { SourceName } from '@recomart/jobs';
import { openLake, parseManifest } from '@recomart/lake';
import { readJobRecords, readJobRecordsFromLog, type JobRecord } from './audit-record.js';
import { sha256File, snapshotChanges, snapshotLake, type LakeSnapshot } from './lake-snapshot.js';

/** One (source, date) partition the run was asked to produce. */
export interface ExpectedPartition {
  source: SourceName;
  date: string;
}

export interface ReconcileInput {
  dataDir: string;
  /** Partitions that must each have a committed version that verifies. */
  expected: readonly ExpectedPartition[];
  /** Taken before the fault: every file in it must still be there with the same bytes. */
  before?: LakeSnapshot;
  /**
   * The audit trail: each of `jobIds` (default: `<source>__<date>` of every
   * expected partition) must have a final outcome (committed / unchanged /
   * completed, or failed for good) in the workers' stream or BullMQ's lifecycle stream.
   */
  audit?: { redis: Redis; prefix: string; jobIds?: readonly string[] };
  /** The audit sink's log folder (`$DATA_DIR/logs/audit`): each job's final outcome must be there too. */
  auditLogDir?: string;
}

export interface ReconcileReport {
  /** Everything that does not hold, one line each; empty when the run is consistent. */
  problems: string[];
  /** Committed version numbers of every expected partition (`source date` → versions). */
  versions: Map<string, number[]>;
  /** The audit trail of every job checked. */
  jobs: Map<string, JobRecord>;
  /** Leftovers in `raw/.staging` (invisible to readers; the sweeper removes them). */
  staging: string[];
}

const VERSION_DIR = /^v([1-9][0-9]*)$/;

async function list(dir: string): Promise<import('node:fs').Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function filesUnder(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await list(dir)) {
    const r = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...(await filesUnder(path.join(dir, e.name), r)));
    else out.push(r);
  }
  return out;
}

/**
 * Checks one version folder without the lake's code: a manifest that parses
 * and matches the schema and the folder, and exactly the files it lists with
 * the bytes it lists (not partial, not mixed with another attempt's files).
 */
async function checkVersionFolder(dir: string, source: string, date: string, version: number): Promise<string[]> {
  const where = `${source} ${date} v${version}`;
  let text: string;
  try {
    text = await readFile(path.join(dir, '_manifest.json'), 'utf8');
  } catch {
    return [`${where}: no _manifest.json (a partial version is visible)`];
  }
  const parsed = parseManifest(text);
  if ('problem' in parsed) return [`${where}: _manifest.json is refused: ${parsed.problem}`];
  const m = parsed.manifest;
  const problems: string[] = [];
  if (m.source !== source || m.date !== date || m.version !== version) problems.push(`${where}: the manifest names ${m.source} ${m.date} v${m.version}`);
  const listed = new Map(m.files.map((f) => [f.path, f]));
  const sidecar = await readFile(path.join(dir, '_manifest.json.sha256'), 'utf8').catch(() => undefined);
  const digest = createHash('sha256').update(text, 'utf8').digest('hex');
  if (sidecar !== undefined && sidecar !== `${digest}  _manifest.json\n`) problems.push(`${where}: _manifest.json does not match _manifest.json.sha256`);
  const onDisk = (await filesUnder(dir)).filter((f) => f !== '_manifest.json' && f !== '_manifest.json.sha256');
  for (const f of onDisk) if (!listed.has(f)) problems.push(`${where}: ${f} is on disk but not in the manifest (mixed or partial)`);
  for (const [p, f] of listed) {
    const full = path.join(dir, ...p.split('/'));
    const st = await stat(full).catch(() => undefined);
    if (!st) {
      problems.push(`${where}: ${p} is in the manifest but not on disk`);
      continue;
    }
    if (st.size !== f.bytes) problems.push(`${where}: ${p} has ${st.size} bytes, the manifest says ${f.bytes}`);
    else if ((await sha256File(full)) !== f.sha256) problems.push(`${where}: ${p} does not match its sha256 in the manifest`);
  }
  return problems;
}

/** Every partition folder of the lake: `raw/<source>/<yyyy>/<mm>/<dd>`. */
async function partitionFolders(dataDir: string): Promise<Array<{ source: string; date: string; dir: string }>> {
  const raw = path.join(dataDir, 'raw');
  const out: Array<{ source: string; date: string; dir: string }> = [];
  for (const s of await list(raw)) {
    if (!s.isDirectory() || s.name.startsWith('.')) continue;
    for (const y of await list(path.join(raw, s.name))) {
      for (const m of await list(path.join(raw, s.name, y.name))) {
        for (const d of await list(path.join(raw, s.name, y.name, m.name))) {
          out.push({ source: s.name, date: `${y.name}-${m.name}-${d.name}`, dir: path.join(raw, s.name, y.name, m.name, d.name) });
        }
      }
    }
  }
  return out;
}

/**
 * Compares what a run was expected to produce with what the lake and the
 * audit trail hold after a fault:
 * 1. every expected partition has a committed version, and `lake.verify` passes for it;
 * 2. no version anywhere in the lake is partial or mixed (checked independently of the lake's code);
 * 3. nothing committed before the fault changed (`before` snapshot);
 * 4. every job has its final outcome in the audit trail (and in the sink's log when given).
 */
export async function reconcile(input: ReconcileInput): Promise<ReconcileReport> {
  const problems: string[] = [];
  const lake = openLake({ dataDir: input.dataDir });
  const versions = new Map<string, number[]>();

  for (const { source, date } of input.expected) {
    const key = `${source} ${date}`;
    const vs = await lake.listVersions(source, date);
    versions.set(key, vs);
    if (vs.length === 0) {
      problems.push(`${key}: no committed version`);
      continue;
    }
    const report = await lake.verify({ source, date });
    for (const p of report.problems) problems.push(`${key}: verify: ${p.kind} ${p.path}: ${p.detail}`);
  }

  for (const p of await partitionFolders(input.dataDir)) {
    for (const e of await list(p.dir)) {
      const m = VERSION_DIR.exec(e.name);
      if (!m || !e.isDirectory()) {
        problems.push(`${p.source} ${p.date}: ${e.name} is not a version folder`);
        continue;
      }
      problems.push(...(await checkVersionFolder(path.join(p.dir, e.name), p.source, p.date, Number(m[1]))));
    }
  }

  if (input.before) problems.push(...snapshotChanges(input.before, await snapshotLake(input.dataDir)));

  let jobs = new Map<string, JobRecord>();
  if (input.audit) {
    const jobIds = input.audit.jobIds ?? input.expected.map((p) => `${p.source}__${p.date}`);
    jobs = await readJobRecords(input.audit.redis, input.audit.prefix, jobIds);
    for (const [id, rec] of jobs) if (!rec.final) problems.push(`job ${id}: no final outcome in the audit trail (events: ${rec.events.map((e) => e.type).join(', ') || 'none'})`);
    if (input.auditLogDir) {
      const logged = await readJobRecordsFromLog(input.auditLogDir, jobIds);
      for (const [id, terminal] of logged) if (terminal.length === 0) problems.push(`job ${id}: no final outcome in the audit log ${input.auditLogDir}`);
    }
  }

  const staging = (await list(path.join(input.dataDir, 'raw', '.staging'))).map((e) => e.name);
  return { problems, versions, jobs, staging };
}
