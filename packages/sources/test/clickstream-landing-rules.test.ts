import { describe, expect, it } from 'vitest';
import { judgeLanding, showName, type LandingListingEntry, type LandingRules } from '@recomart/sources';

const NOW = Date.parse('2024-05-02T03:00:00.000Z');
const OLD = NOW - 3_600_000;
const WHERE = 'clickstream/2024-05-01';
const LOOSE: LandingRules = { requireMarker: false, settleMs: 60_000 };

function file(name: string, mtimeMs = OLD, size = 100): LandingListingEntry {
  return { name, kind: 'file', size, mtimeMs };
}

describe('judgeLanding (the landing rules over a listing)', () => {
  it('takes *.csv and *.csv.gz in any case, in byte order, ignoring hidden names', () => {
    const verdict = judgeLanding([file('c.csv.GZ'), file('B.CSV'), file('a.csv'), file('.a.csv.123.tmp'), { ...file('.hidden'), kind: 'fifo' }], LOOSE, NOW, WHERE);
    expect(verdict).toEqual({
      kind: 'take',
      complete: false,
      files: [
        { ...file('B.CSV'), gzip: false },
        { ...file('a.csv'), gzip: false },
        { ...file('c.csv.GZ'), gzip: true },
      ],
    });
  });

  it('refuses for good, naming every entry it cannot take (escaped, the kind or problem said)', () => {
    const verdict = judgeLanding(
      [
        file('a.csv'),
        file('e.csv '),
        file('notes.md'),
        file('x\n.csv'),
        { ...file('passwd.csv'), kind: 'symlink' },
        { ...file('d.csv'), kind: 'fifo' },
        { ...file('sub'), kind: 'directory' },
      ],
      LOOSE,
      NOW,
      WHERE,
    );
    expect(verdict).toEqual({
      kind: 'refuse',
      reason:
        'clickstream/2024-05-01: 6 landing entries cannot be ingested; move or rename, then retry: "d.csv" (a FIFO), "e.csv " (not named *.csv or *.csv.gz), "notes.md" (not named *.csv or *.csv.gz), "passwd.csv" (a symbolic link, not followed), "sub" (a directory), and 1 more',
    });
  });

  it('names a refused file the lake cannot store, and nothing else refused stays silent', () => {
    const verdict = judgeLanding([file('events 1.csv'), { ...file('sock.csv'), kind: 'socket' }, { ...file('tty.csv'), kind: 'device' }], LOOSE, NOW, WHERE);
    expect(verdict).toEqual({
      kind: 'refuse',
      reason:
        'clickstream/2024-05-01: 3 landing entries cannot be ingested; move or rename, then retry: "events 1.csv" (a name the lake cannot store: letters, digits and ._-=+@, only, at most 255 bytes), "sock.csv" (a socket), "tty.csv" (a device)',
    });
  });

  it('keeps a message short whatever the names: at most five, each escaped and cut', () => {
    const names = Array.from({ length: 1000 }, (_, i) => `${'\u202e'.repeat(500)}${i}\r\n.txt`);
    const verdict = judgeLanding(names.map((n) => file(n)), LOOSE, NOW, WHERE);
    expect(verdict.kind).toBe('refuse');
    const reason = (verdict as { reason: string }).reason;
    expect(reason).not.toMatch(/[\u0000-\u001f\u202e]/);
    expect(reason).toContain('and 995 more');
    expect(reason.length).toBeLessThan(700);
  });

  it('says nothing arrived when only hidden names are there', () => {
    expect(judgeLanding([], LOOSE, NOW, WHERE)).toEqual({ kind: 'empty' });
    expect(judgeLanding([file('.x.csv.tmp')], LOOSE, NOW, WHERE)).toEqual({ kind: 'empty' });
  });

  it('without a marker, waits for a file modified within the settle time, until it has been quiet that long', () => {
    const verdict = judgeLanding([file('a.csv'), file('b.csv', NOW - 15_000), file('c.csv', NOW - 45_000)], LOOSE, NOW, WHERE);
    expect(verdict).toEqual({
      kind: 'wait',
      reason: 'clickstream/2024-05-01/b.csv (and 1 more) was modified 15.0 s before the listing, within CLICKSTREAM_SETTLE_MS 60000: still being written?',
      retryAfterMs: 45_000,
    });
    expect(judgeLanding([file('a.csv', NOW - 60_000)], LOOSE, NOW, WHERE)).toMatchObject({ kind: 'take', complete: false });
    // A clock ahead of ours: one settle time.
    expect(judgeLanding([file('a.csv', NOW + 600_000)], LOOSE, NOW, WHERE)).toMatchObject({ kind: 'wait', retryAfterMs: 60_000 });
    // Settle 0: off.
    expect(judgeLanding([file('a.csv', NOW)], { requireMarker: false, settleMs: 0 }, NOW, WHERE)).toMatchObject({ kind: 'take' });
  });

  it('with _SUCCESS, takes the day as complete at once, unless a file was modified after it', () => {
    expect(judgeLanding([file('a.csv', NOW - 10), file('_SUCCESS', NOW - 5, 0)], LOOSE, NOW, WHERE)).toEqual({
      kind: 'take',
      complete: true,
      files: [{ ...file('a.csv', NOW - 10), gzip: false }],
    });
    expect(judgeLanding([file('a.csv', NOW - 1), file('_SUCCESS', NOW - 5, 0)], LOOSE, NOW, WHERE)).toEqual({
      kind: 'wait',
      reason: 'clickstream/2024-05-01/a.csv was modified after _SUCCESS: is the export running again?',
    });
  });

  it('with CLICKSTREAM_REQUIRE_MARKER, waits for _SUCCESS (a marker that is a link does not count, and is refused)', () => {
    const strict: LandingRules = { requireMarker: true, settleMs: 60_000 };
    expect(judgeLanding([file('a.csv')], strict, NOW, WHERE)).toEqual({
      kind: 'wait',
      reason: 'clickstream/2024-05-01 has no _SUCCESS marker yet (CLICKSTREAM_REQUIRE_MARKER): the export is not complete',
    });
    expect(judgeLanding([], strict, NOW, WHERE)).toEqual({ kind: 'empty' });
    expect(judgeLanding([file('a.csv'), file('_SUCCESS')], strict, NOW, WHERE)).toMatchObject({ kind: 'take', complete: true });
    expect(judgeLanding([file('a.csv'), { ...file('_SUCCESS'), kind: 'symlink' }], { requireMarker: false, settleMs: 0 }, NOW, WHERE)).toEqual({
      kind: 'refuse',
      reason: 'clickstream/2024-05-01: 1 landing entry cannot be ingested; move or rename, then retry: "_SUCCESS" (a symbolic link, not followed)',
    });
  });
});

describe('showName', () => {
  it('escapes control, bidi and separator characters and cuts long names', () => {
    expect(showName('a\nb\u202ec\u2028"d')).toBe('"a\\nb\\u202ec\\u2028\\"d"');
    expect(showName('x'.repeat(100))).toBe(`"${'x'.repeat(60)}…" (100 characters)`);
    expect(showName('\u202e'.repeat(100))).toBe(`"${'\\u202e'.repeat(10)}…" (100 characters)`);
    expect(showName('tab\there', { quoted: false })).toBe('tab\\there');
  });
});
