import path from 'node:path';
import { InvalidInputError, dateParts } from '@recomart/jobs';
import { checkDate, checkFileName, checkRunId, checkSourceName, checkVersion } from './names.js';

/** The folder of raw data under `$DATA_DIR`. */
export const RAW_DIR = 'raw';
/** Private staging area under `raw/` (same filesystem, so publishing is a rename). */
export const STAGING_DIR = '.staging';
/** Where refused files go, under `$DATA_DIR`. */
export const QUARANTINE_DIR = 'quarantine';
/** The manifest file of a version, written last. */
export const MANIFEST_FILE = '_manifest.json';
/**
 * Beside the manifest, written with it: `<sha256>  _manifest.json`, the
 * manifest's own sha256 (`sha256sum -c` reads it in the version folder).
 * Plain `verify` checks the manifest against it; the commit feed carries the
 * same digest, out of reach of whoever can edit the folder.
 */
export const MANIFEST_SHA256_FILE = '_manifest.json.sha256';
/** The text of `_manifest.json.sha256` for a digest. */
export function manifestSha256Line(sha256: string): string {
  return `${sha256}  ${MANIFEST_FILE}\n`;
}

/** The digest a `_manifest.json.sha256` text records, or undefined when it is not one. */
export function parseManifestSha256Line(text: string): string | undefined {
  const m = /^([0-9a-f]{64}) {2}_manifest\.json\n?$/.exec(text);
  return m ? m[1] : undefined;
}

/** The reason file of a quarantined run. */
export const REASON_FILE = '_reason.json';

/** A version folder name: `v1`, `v2` … (no leading zeros). */
export const VERSION_DIR_RE = /^v([1-9][0-9]{0,14})$/;

/**
 * Joins `parts` under `root` and checks that the result stays inside it.
 * @throws InvalidInputError `path "../x" resolves outside /data/raw`
 */
export function resolveInside(root: string, ...parts: string[]): string {
  const base = path.resolve(root);
  const full = path.resolve(base, ...parts);
  const rel = path.relative(base, full);
  const inside = rel !== '' && rel.split(path.sep)[0] !== '..' && !path.isAbsolute(rel);
  if (parts.length > 0 && !inside) {
    throw new InvalidInputError(`path ${JSON.stringify(parts.join('/'))} resolves outside ${base}`);
  }
  return full;
}

/** `$DATA_DIR/raw` */
export function rawRoot(dataDir: string): string {
  return path.resolve(dataDir, RAW_DIR);
}

/** `$DATA_DIR/raw/.staging` */
export function stagingRoot(dataDir: string): string {
  return path.join(rawRoot(dataDir), STAGING_DIR);
}

/** `$DATA_DIR/raw/<source>` (checked). */
export function sourcePath(dataDir: string, source: string): string {
  return resolveInside(rawRoot(dataDir), checkSourceName(source));
}

/** `$DATA_DIR/raw/<source>/<yyyy>/<mm>/<dd>` (checked). */
export function partitionPath(dataDir: string, source: string, date: string): string {
  const { yyyy, mm, dd } = dateParts(checkDate(date));
  return resolveInside(rawRoot(dataDir), checkSourceName(source), yyyy, mm, dd);
}

/** `$DATA_DIR/raw/<source>/<yyyy>/<mm>/<dd>/v<N>` (checked). */
export function versionPath(dataDir: string, source: string, date: string, version: number): string {
  return resolveInside(partitionPath(dataDir, source, date), `v${checkVersion(version)}`);
}

/** A file of a version (checked: no traversal, stays inside the version folder). */
export function versionFilePath(versionDir: string, name: string): string {
  return resolveInside(versionDir, ...checkFileName(name).split('/'));
}

/** `$DATA_DIR/quarantine/<source>/<date>/<runId>` (checked). */
export function quarantinePath(dataDir: string, source: string, date: string, runId: string): string {
  return resolveInside(path.resolve(dataDir, QUARANTINE_DIR), checkSourceName(source), checkDate(date), checkRunId(runId));
}

/** The version number of a folder name, or undefined when it is not `v<N>`. */
export function parseVersionDir(name: string): number | undefined {
  const m = VERSION_DIR_RE.exec(name);
  return m ? Number(m[1]) : undefined;
}
