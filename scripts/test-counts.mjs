// The count line of a vitest JSON report: "N passed, N failed[, N skipped]".

/**
 * Counts a vitest JSON report (`--reporter=json`).
 *
 * A file whose suite failed without a failing test — a `beforeAll` that threw
 * (e.g. no browser), a file that did not load — counts as one failure: vitest
 * reports the file as failed but its tests as skipped (or lists none), so
 * otherwise only the exit code would tell.
 *
 * @param {{ numPassedTests?: number, numFailedTests?: number, numPendingTests?: number, numTodoTests?: number,
 *   numRuntimeErrorTestSuites?: number, testResults?: { status?: string, assertionResults?: { status?: string }[] }[] }} report
 * @returns {{ passed: number, failed: number, skipped: number, line: string, ok: boolean }}
 */
export function countTests(report) {
  const passed = report.numPassedTests ?? 0;
  const suiteErrors = (report.testResults ?? []).filter(
    (file) => file.status === 'failed' && !(file.assertionResults ?? []).some((a) => a.status === 'failed'),
  ).length;
  const failed = (report.numFailedTests ?? 0) + (report.numRuntimeErrorTestSuites ?? 0) + suiteErrors;
  const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  const line = `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
  return { passed, failed, skipped, line, ok: failed === 0 && passed > 0 };
}
