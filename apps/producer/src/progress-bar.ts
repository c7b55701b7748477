import type { WaitProgress } from './wait-for-jobs.js';

/**
 * Renders `[#####.....] 30/60 done · 28 completed · 2 failed · 30 remaining`
 * on a TTY (redrawn in place), or a plain line at most every 5 s otherwise.
 */
export function createProgressBar(out: NodeJS.WritableStream & { isTTY?: boolean }, width = 30) {
  let lastPlain = 0;
  return {
    update(p: WaitProgress): void {
      const done = p.completed + p.failed;
      const filled = p.total === 0 ? width : Math.round((done / p.total) * width);
      const text = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${p.total} done · ${p.completed} completed · ${p.failed} failed · ${p.remaining} remaining`;
      if (out.isTTY) {
        out.write(`\r${text}`);
        if (p.remaining === 0) out.write('\n');
      } else if (Date.now() - lastPlain > 5000 || p.remaining === 0) {
        lastPlain = Date.now();
        out.write(`${text}\n`);
      }
    },
  };
}
