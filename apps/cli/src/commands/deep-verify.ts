import path from 'node:path';
import type { Config } from '@recomart/config';
import { versionPath, type Lake, type VerifyProblem, type VerifyReport } from '@recomart/lake';
import { recountVersion } from '@recomart/sources';

/**
 * `lake verify --deep`: after the hashes, recomputes from each version's data
 * what its manifest claims (rows, rejected lines, product counts) and adds a
 * `mismatch` problem for every difference. Versions that already failed the
 * hash check are not recounted (their data is not what was committed).
 */
export async function deepVerify(lake: Lake, config: Config, report: VerifyReport, filter: { source?: string; date?: string }): Promise<VerifyReport> {
  const broken = new Set(report.problems.map((p) => `${p.source} ${p.date} ${p.version}`));
  const problems: VerifyProblem[] = [...report.problems];
  for (const source of filter.source === undefined ? await lake.listSources() : [filter.source]) {
    for (const date of await lake.listPartitions(source, { from: filter.date, to: filter.date })) {
      for (const version of await lake.listVersions(source, date)) {
        if (broken.has(`${source} ${date} ${version}`)) continue;
        const m = await lake.readManifest(source, date, version);
        if (!m) continue;
        const dir = versionPath(lake.dataDir, source, date, version);
        let found;
        try {
          found = await recountVersion(lake, m, config);
        } catch (err) {
          found = [{ path: '_manifest.json', detail: `cannot be recounted: ${err instanceof Error ? err.message : String(err)}` }];
        }
        for (const x of found ?? []) problems.push({ source, date, version, kind: 'mismatch', path: path.join(dir, ...x.path.split('/')), detail: x.detail });
      }
    }
  }
  problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { ...report, ok: problems.length === 0, problems };
}
