import type { SourceFreshness } from '@recomart/lake';

/** `3d 4h`, `2h 5m`, `42s`: an age for people. */
export function formatAge(seconds: number): string {
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m`;
  return `${seconds}s`;
}

/** One line per source, e.g. `fresh clickstream: newest 2026-03-09 v2, committed 3h 12m ago · missing 2 of the last 7 days: 2026-03-05, 2026-03-06`. */
export function freshnessLines(report: readonly SourceFreshness[]): string[] {
  return report.map((f) => {
    const newest = f.newestDate === null ? 'nothing committed' : `newest ${f.newestDate} v${f.newestVersion ?? '-'}, committed ${formatAge(f.newestCommitAgeSeconds ?? 0)} ago`;
    const gaps =
      f.window === null
        ? 'gaps not checked (CATCH_UP_DAYS=0)'
        : f.missing.length === 0
          ? `no day missing from ${f.window.from} to ${f.window.to}`
          : `missing ${f.missing.length} day(s) from ${f.window.from} to ${f.window.to}: ${f.missing.join(', ')}`;
    return `fresh ${f.source}: ${newest} · ${gaps}`;
  });
}
