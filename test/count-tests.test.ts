import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { countTests, type VitestJsonReport } from '../scripts/test-counts.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
/**
 * A real vitest 4 JSON report of four files: a `beforeAll` that threw (its two tests
 * reported "skipped"), a pass with a deliberate skip, a failing test, a file that did not load.
 */
const sample = JSON.parse(readFileSync(path.join(here, 'fixtures', 'vitest-report.json'), 'utf8')) as VitestJsonReport;

describe('count line of a vitest JSON report', () => {
  it('counts a failed beforeAll and a file that did not load as failures, next to the failing test', () => {
    expect(countTests(sample)).toEqual({ passed: 2, failed: 3, skipped: 3, line: '2 passed, 3 failed, 3 skipped', ok: false });
  });

  it('a beforeAll failing alone is not a pass with skips', () => {
    const browserOnly: VitestJsonReport = { ...sample, numPassedTests: 0, numFailedTests: 0, numPendingTests: 2, testResults: sample.testResults?.slice(0, 1) };
    expect(countTests(browserOnly).line).toBe('0 passed, 1 failed, 2 skipped');
  });

  it('a file with a failing test is counted by its tests, not once more as a suite', () => {
    const failingTest: VitestJsonReport = { ...sample, numPassedTests: 1, numFailedTests: 1, numPendingTests: 0, testResults: sample.testResults?.slice(2, 3) };
    expect(countTests(failingTest)).toMatchObject({ failed: 1, line: '1 passed, 1 failed' });
  });

  it('all passed (skips allowed) is ok; nothing passed is not', () => {
    const green: VitestJsonReport = { ...sample, numPassedTests: 1, numFailedTests: 0, numPendingTests: 1, testResults: sample.testResults?.slice(1, 2) };
    expect(countTests(green)).toEqual({ passed: 1, failed: 0, skipped: 1, line: '1 passed, 0 failed, 1 skipped', ok: true });
    expect(countTests({ testResults: [] }).ok).toBe(false);
  });
});
