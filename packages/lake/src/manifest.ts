import { z } from 'zod';
import { isLogicalDate } from '@recomart/jobs';
import { fileNameProblem, SOURCE_NAME_RE } from './names.js';
import type { Manifest, ManifestFile } from './types.js';

const SHA256_RE = /^[0-9a-f]{64}$/;
const DATE_RE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** A relative path of safe segments (the JSON Schema's pattern; `fileNameProblem` says the rest). */
const FILE_PATH_RE = /^[A-Za-z0-9_=+@,-][A-Za-z0-9._=+@,-]*(\/[A-Za-z0-9_=+@,-][A-Za-z0-9._=+@,-]*)*$/;

const manifestFileSchema = z.strictObject({
  path: z
    .string()
    .min(1)
    .max(512)
    .regex(FILE_PATH_RE)
    .refine((p) => fileNameProblem(p) === undefined, { message: 'must be a safe relative file name' })
    .describe('Relative to the version folder, e.g. events-000.csv.gz or pages/0001.json.'),
  bytes: count.describe('Size in bytes as stored (= as received).'),
  sha256: z.string().regex(SHA256_RE).describe('Lower-case hex sha256 of the bytes as stored.'),
  origin: z.string().max(4096).describe('Where it came from: the landing path or the URL (without secrets).'),
});

/**
 * The manifest's schema. `manifest.schema.json` at the package root is its
 * JSON Schema (generated from this by `manifestJsonSchema()`; a test keeps
 * them equal). Refinements the JSON Schema cannot say (calendar dates, safe
 * file names, unique paths) are checked here on top.
 */
export const manifestSchema = z.strictObject({
  manifestVersion: z.literal(1).describe('Format of this manifest.'),
  source: z.string().regex(SOURCE_NAME_RE).describe('Source name, as in raw/<source>/.'),
  date: z.string().regex(DATE_RE).refine(isLogicalDate, { message: 'must be a calendar date' }).describe('Logical date (the day the data covers), YYYY-MM-DD.'),
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).describe('1, 2, 3 … within the partition; the folder is v<version>.'),
  runId: z.string().min(1).max(200).describe('The run that wrote it.'),
  jobId: z.string().min(1).max(512).describe('The BullMQ job id.'),
  attempt: count.describe('The job attempt.'),
  worker: z.strictObject({ host: z.string().min(1).max(255), pid: count }).describe('The writing process.'),
  startedAt: z.iso.datetime().describe('When the write session began (UTC).'),
  committedAt: z.iso.datetime().describe('When the version was published (UTC).'),
  files: z
    .array(manifestFileSchema)
    .refine((files) => new Set(files.map((f) => f.path)).size === files.length, { message: 'file paths must be unique' })
    .describe('Every file of the version except _manifest.json, sorted by path.'),
  records: count.describe('Records accepted by the source.'),
  rejected: count.describe('Records rejected by the source.'),
  validation: z.record(z.string(), z.unknown()).describe("The source's validation summary."),
  provenance: z.record(z.string(), z.unknown()).optional().describe('Optional provenance (request log, landing listing).'),
  codeVersion: z.string().min(1).max(200).describe('Version of the code that wrote it.'),
});

/** The JSON Schema (draft 2020-12) of `_manifest.json`, as kept in `manifest.schema.json`. */
export function manifestJsonSchema(): Record<string, unknown> {
  const { $schema, ...rest } = z.toJSONSchema(manifestSchema, { io: 'input' });
  return {
    $schema,
    $id: 'https://recomart.example/schemas/lake-manifest-v1.json',
    title: 'RecoMart raw lake version manifest (_manifest.json)',
    ...rest,
  };
}

/** Why `value` is not a valid manifest (one line), or undefined when it is. */
export function manifestProblem(value: unknown): string | undefined {
  const result = manifestSchema.safeParse(value);
  if (result.success) return undefined;
  return result.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

/**
 * Parses and validates manifest text.
 * @returns the manifest, or a one-line reason it is refused.
 */
export function parseManifest(text: string): { manifest: Manifest } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { problem: `not JSON (${err instanceof Error ? err.message : String(err)})` };
  }
  const result = manifestSchema.safeParse(value);
  if (!result.success) return { problem: manifestProblem(value) ?? 'invalid' };
  return { manifest: result.data as Manifest };
}

/** The manifest as written to disk: stable key order, two-space indent, trailing newline. */
export function serializeManifest(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Files sorted by path (the order manifests list them in). */
export function sortFiles(files: readonly ManifestFile[]): ManifestFile[] {
  return [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Provenance files: part of a version (listed in its manifest, verified like
 * any file) but a record of how the data was fetched, not data, so they differ
 * run to run (timings) and are left out of the content-idempotency check
 * (`sameContent`). The rule is by exact name at the version's top level, never
 * by a prefix: `_rejected.ndjson` (clickstream's rejected rows) is content.
 * - `_requests.ndjson`: the products source's request log, one JSON line per HTTP attempt.
 */
export const PROVENANCE_FILES: ReadonlySet<string> = new Set(['_requests.ndjson']);

/**
 * Content idempotency: the same set of (path, sha256), provenance files
 * (`PROVENANCE_FILES`) left out. Origins and timestamps do not matter.
 */
export function sameContent(a: readonly ManifestFile[], b: readonly ManifestFile[]): boolean {
  const content = (files: readonly ManifestFile[]) => files.filter((f) => !PROVENANCE_FILES.has(f.path));
  const left = content(a);
  const right = content(b);
  if (left.length !== right.length) return false;
  const key = (f: ManifestFile) => `${f.path}\u0000${f.sha256}`;
  const keys = new Set(left.map(key));
  return right.every((f) => keys.has(key(f))) && keys.size === left.length;
}

/**
 * Parses a version's manifest text and checks that it names the version it
 * lies in (source, date, version).
 * @returns the manifest, or a one-line reason it is refused.
 */
export function parseVersionManifest(text: string, expected: { source: string; date: string; version: number }): { manifest: Manifest } | { problem: string } {
  const parsed = parseManifest(text);
  if ('problem' in parsed) return parsed;
  const m = parsed.manifest;
  if (m.source !== expected.source || m.date !== expected.date || m.version !== expected.version) {
    return { problem: `it names ${m.source} ${m.date} v${m.version} but lies in ${expected.source} ${expected.date} v${expected.version}` };
  }
  return parsed;
}
