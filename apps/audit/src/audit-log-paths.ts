import path from 'node:path';

/** `$DATA_DIR/logs/audit`: the day files and the sink's checkpoint. */
export function auditLogDir(dataDir: string): string {
  return path.join(dataDir, 'logs', 'audit');
}

/** The sink's record of the last stream ids it has persisted. */
export function checkpointPath(logDir: string): string {
  return path.join(logDir, '_checkpoint.json');
}

const DAY_FILE = /^(\d{4})\/(\d{2})\/(\d{2})\.ndjson$/;

/** The file of the UTC day of an instant (epoch ms): `<logDir>/yyyy/mm/dd.ndjson`. */
export function dayFileOf(logDir: string, ms: number): string {
  const [yyyy, mm, dd] = new Date(ms).toISOString().slice(0, 10).split('-') as [string, string, string];
  return path.join(logDir, yyyy, mm, `${dd}.ndjson`);
}

/** The UTC day (`YYYY-MM-DD`) a day file covers, from its path relative to the log dir; undefined for other files. */
export function dayOfFile(relativePath: string): string | undefined {
  const m = DAY_FILE.exec(relativePath.split(path.sep).join('/'));
  return m ? `${m[1]}-${m[2]}-${m[3]}` : undefined;
}
