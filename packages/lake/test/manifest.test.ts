import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { manifestJsonSchema, parseManifest, sameContent, type Manifest } from '@recomart/lake';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

function validManifest(): Manifest {
  return {
    manifestVersion: 1,
    source: 'clickstream',
    date: '2024-03-09',
    version: 2,
    runId: 'run-1',
    jobId: 'clickstream__2024-03-09',
    attempt: 1,
    worker: { host: 'host-a', pid: 1234 },
    startedAt: '2024-03-10T01:00:00.000Z',
    committedAt: '2024-03-10T01:00:05.000Z',
    files: [
      { path: 'events-000.csv.gz', bytes: 10, sha256: SHA_A, origin: '/landing/2024-03-09/events-000.csv.gz' },
      { path: 'pages/0001.json', bytes: 20, sha256: SHA_B, origin: 'http://127.0.0.1:4010/products?page=1' },
    ],
    records: 100,
    rejected: 1,
    validation: { columns: ['user_id'] },
    codeVersion: '0.1.0',
  };
}

function withChange(change: (m: Record<string, unknown>) => void): string {
  const m = JSON.parse(JSON.stringify(validManifest())) as Record<string, unknown>;
  change(m);
  return JSON.stringify(m);
}

describe('manifest schema', () => {
  it('manifest.schema.json in the package is the JSON Schema of the zod schema the reader uses', () => {
    const onDisk = JSON.parse(readFileSync(new URL('../manifest.schema.json', import.meta.url), 'utf8')) as unknown;
    // On a mismatch: npx tsc -b tsconfig.build.json && node packages/lake/scripts/write-manifest-schema.mjs
    expect(onDisk).toEqual(manifestJsonSchema());
    expect(manifestJsonSchema()).toMatchObject({
      type: 'object',
      additionalProperties: false,
      required: expect.arrayContaining(['source', 'date', 'version', 'runId', 'jobId', 'attempt', 'worker', 'startedAt', 'committedAt', 'files', 'records', 'rejected', 'validation', 'codeVersion']) as unknown,
    });
  });

  it('accepts a valid manifest', () => {
    expect(parseManifest(JSON.stringify(validManifest()))).toEqual({ manifest: validManifest() });
  });

  it.each<[string, string]>([
    ['not JSON', '{"source": '],
    ['a missing field', withChange((m) => delete m.codeVersion)],
    ['an unknown field', withChange((m) => (m.extra = 1))],
    ['another manifest format', withChange((m) => (m.manifestVersion = 2))],
    ['a bad source', withChange((m) => (m.source = '../x'))],
    ['an impossible date', withChange((m) => (m.date = '2024-02-30'))],
    ['version 0', withChange((m) => (m.version = 0))],
    ['a fractional count', withChange((m) => (m.records = 1.5))],
    ['a negative count', withChange((m) => (m.rejected = -1))],
    ['a timestamp that is not ISO', withChange((m) => (m.committedAt = 'yesterday'))],
    ['an upper-case sha256', withChange((m) => ((m.files as Array<Record<string, unknown>>)[0]!.sha256 = 'A'.repeat(64)))],
    ['a short sha256', withChange((m) => ((m.files as Array<Record<string, unknown>>)[0]!.sha256 = 'abc'))],
    ['a traversing file path', withChange((m) => ((m.files as Array<Record<string, unknown>>)[0]!.path = '../x'))],
    ['a reserved file path', withChange((m) => ((m.files as Array<Record<string, unknown>>)[0]!.path = '_manifest.json'))],
    ['duplicate file paths', withChange((m) => ((m.files as Array<Record<string, unknown>>)[1]!.path = 'events-000.csv.gz'))],
    ['a worker without pid', withChange((m) => (m.worker = { host: 'h' }))],
  ])('rejects %s', (_what, text) => {
    const parsed = parseManifest(text);
    expect('problem' in parsed).toBe(true);
  });

  it('names the offending field in the problem', () => {
    const parsed = parseManifest(withChange((m) => (m.version = 0)));
    expect(parsed).toEqual({ problem: expect.stringContaining('version:') as unknown });
  });
});

describe('content idempotency', () => {
  const a = { path: 'a', bytes: 1, sha256: SHA_A, origin: 'x' };
  const b = { path: 'b', bytes: 1, sha256: SHA_B, origin: 'y' };

  it('compares the set of (path, sha256), ignoring order and origin', () => {
    expect(sameContent([a, b], [b, { ...a, origin: 'elsewhere' }])).toBe(true);
    expect(sameContent([a, b], [a])).toBe(false);
    expect(sameContent([a], [{ ...a, sha256: SHA_B }])).toBe(false);
    expect(sameContent([a], [{ ...a, path: 'c' }])).toBe(false);
    expect(sameContent([], [])).toBe(true);
    const log = { ...a, path: '_requests.ndjson' };
    expect(sameContent([a, log], [a, { ...log, sha256: SHA_B }]), 'a request log is provenance, not content').toBe(true);
    expect(sameContent([a, log], [a]), 'with or without one').toBe(true);
    const rejected = { ...a, path: '_rejected.ndjson' };
    expect(sameContent([a, rejected], [a, { ...rejected, sha256: SHA_B }]), '_rejected.ndjson is content').toBe(false);
    expect(sameContent([a, rejected], [a])).toBe(false);
  });
});
