/** The parts of vitest's JSON report that `countTests` reads. */
export interface VitestJsonReport {
  numPassedTests?: number;
  numFailedTests?: number;
  numPendingTests?: number;
  numTodoTests?: number;
  numRuntimeErrorTestSuites?: number;
  testResults?: { status?: string; assertionResults?: { status?: string }[] }[];
}

export interface TestCounts {
  passed: number;
  failed: number;
  skipped: number;
  /** "N passed, N failed[, N skipped]" */
  line: string;
  /** No failure and at least one test passed. */
  ok: boolean;
}

export function countTests(report: VitestJsonReport): TestCounts;
