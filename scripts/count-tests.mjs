// Prints "N passed, N failed[, N skipped]" from vitest's JSON report (argv[2]); exits 1 unless all is well.
import { readFileSync } from 'node:fs';
import { countTests } from './test-counts.mjs';

let report;
try {
  report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
} catch {
  console.log('0 passed, 0 failed');
  process.exit(1);
}
const counts = countTests(report);
console.log(counts.line);
process.exit(counts.ok ? 0 : 1);
