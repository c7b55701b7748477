import type { Config } from '@recomart/config';
import type { Lake } from '@recomart/lake';
import type { SourceContext } from '@recomart/sources';

/**
 * Contexts for running the real sources in-process against a lake: run ids
 * `run-1`, `run-2` … and a logger that keeps nothing.
 */
export function sourceContexts(lake: Lake, config: Config): (source: SourceContext['source'], date: string) => SourceContext {
  let runs = 0;
  const noop = () => undefined;
  return (source, date) => {
    runs += 1;
    return {
      source,
      date,
      runId: `run-${runs}`,
      jobId: `${source}__${date}`,
      attempt: 1,
      lake,
      config,
      logger: { info: noop, warn: noop, error: noop, debug: noop },
      signal: new AbortController().signal,
      progress: noop,
    };
  };
}
