import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { SchemaMismatchError } from '@recomart/jobs';
import type { Source } from '@recomart/sources';

/** The clickstream header the platform's apps export. */
export const CLICKSTREAM_HEADER = 'user_id,product_id,event_type,timestamp,device';

/**
 * A stand-in for the clickstream source while it is being built (the real
 * one is not in `sourceRegistry` yet): reads `$LANDING_DIR/clickstream/<date>/*.csv`,
 * fails for good (SchemaMismatchError) on a wrong header, otherwise commits
 * the files to the lake unchanged. Once the real source is registered, the
 * tests that use this switch to `sourceRegistry` (one line in ops-stack.ts).
 */
export const landingStandInSource: Source = async (ctx) => {
  const dir = path.join(ctx.config.landingDir, 'clickstream', ctx.date);
  const names = (await readdir(dir)).filter((n) => n.endsWith('.csv')).sort();
  const session = await ctx.lake.begin({ source: ctx.source, date: ctx.date, runId: ctx.runId, jobId: ctx.jobId, attempt: ctx.attempt });
  try {
    let records = 0;
    let bytes = 0;
    for (const name of names) {
      const body = await readFile(path.join(dir, name), 'utf8');
      const header = body.split('\n', 1)[0] ?? '';
      if (header !== CLICKSTREAM_HEADER) {
        throw new SchemaMismatchError(`${name} line 1: expected header ${CLICKSTREAM_HEADER}, got ${header}`);
      }
      records += body.split('\n').filter((l) => l !== '').length - 1;
      bytes += Buffer.byteLength(body);
      await session.writeFile(name, path.join(dir, name), body);
    }
    const r = await session.commit({ records, rejected: 0, validation: {} });
    return { status: r.status, version: r.version, records, rejected: 0, files: names.length, bytes };
  } catch (err) {
    await session.abort();
    throw err;
  }
};
