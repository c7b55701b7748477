import { describe, expect, it } from 'vitest';
import { TransientError, classifyError } from '@recomart/jobs';
import { countMismatch, dayCountsProblem, fileLinesProblem } from '@recomart/sources';

describe('clickstream count invariant', () => {
  it('accounts for every line: header, row starts, blank lines, line ends inside quotes', () => {
    expect(fileLinesProblem({ lines: 10, rows: 6, blank: 2, quotedLineBreaks: 1 })).toBeUndefined();
    // Issue 12 finding 1: rows dropped out of validation.
    expect(fileLinesProblem({ lines: 1_000_001, rows: 222_268, blank: 0, quotedLineBreaks: 0 })).toBe(
      '1000001 lines, but 1 header + 222268 rows + 0 blank + 0 inside quotes = 222269',
    );
  });

  it('checks accepted + rejected = rows, the rejects file, and the files against the day', () => {
    const files = [
      { file: 'a.csv', rows: 7, rejected: 2 },
      { file: 'b.csv', rows: 3, rejected: 1 },
    ];
    expect(dayCountsProblem({ rows: 10, accepted: 7, rejected: 3, files, rejectedLines: 3 })).toBeUndefined();
    expect(dayCountsProblem({ rows: 11, accepted: 7, rejected: 3, files, rejectedLines: 2 })).toBe(
      '7 accepted + 3 rejected ≠ 11 rows; 2 lines in _rejected.ndjson ≠ 3 rejected; the files\' rows add up to 10 ≠ 11',
    );
    expect(dayCountsProblem({ rows: 10, accepted: 6, rejected: 4, files, rejectedLines: 4 })).toBe("the files' rejected rows add up to 3 ≠ 4");
  });

  it('fails the job retryably, saying nothing was committed', () => {
    const err = countMismatch('clickstream 2024-05-01', '1 lines in _rejected.ndjson ≠ 2 rejected');
    expect(err).toBeInstanceOf(TransientError);
    expect(classifyError(err)).toMatchObject({
      retryable: true,
      reason: 'clickstream 2024-05-01: counts do not add up (1 lines in _rejected.ndjson ≠ 2 rejected); nothing committed',
    });
  });
});
