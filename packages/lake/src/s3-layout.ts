import { createHash } from 'node:crypto';
import { dateParts } from '@recomart/jobs';
import { checkDate, checkFileName, checkRunId, checkSourceName, checkVersion } from './names.js';
import { MANIFEST_FILE } from './layout.js';
import { KEPT_FILE } from './kept-staging.js';

/** The claim object of a version, written (conditionally) before any of its data. */
export const CLAIM_FILE = '_claim.json';
/** Written by `sweep` beside the claim of a version it gave up on: the number is never used again, and a writer that was only slow does not commit. */
export const ABANDONED_FILE = '_abandoned.json';
/** Markers of versions being written, one per claim, removed after the commit (what `sweep` looks at). */
export const IN_FLIGHT_DIR = '_inflight';
/** Quarantined runs. */
export const QUARANTINE_DIR = '_quarantine';
/** Pointers to kept stagings, one per resume key (`_kept/<hash of the key>.json`). */
export const KEPT_DIR = '_kept';
/** `_taken-<token>.json`: written once (If-None-Match) by the one session that takes a kept staging over. */
export const TAKEN_RE = /^_taken-[0-9a-f]{32}\.json$/;

/** Whether `name`, inside a version, is one of the commit protocol's objects rather than data. */
export function isProtocolObject(name: string): boolean {
  return name === MANIFEST_FILE || name === CLAIM_FILE || name === ABANDONED_FILE || name === KEPT_FILE || TAKEN_RE.test(name);
}

/**
 * Keys of an S3 lake under its prefix, mirroring the folder layout:
 *
 *     <prefix>/<source>/<yyyy>/<mm>/<dd>/v<N>/<file>            data
 *     <prefix>/<source>/<yyyy>/<mm>/<dd>/v<N>/_claim.json       the writer's claim on v<N> (first)
 *     <prefix>/<source>/<yyyy>/<mm>/<dd>/v<N>/_manifest.json    the commit (last)
 *     <prefix>/<source>/<yyyy>/<mm>/<dd>/v<N>/_abandoned.json   a sweep gave up on the claim
 *     <prefix>/<source>/<yyyy>/<mm>/<dd>/v<N>/_kept.json        a kept staging's record (files, state)
 *     <prefix>/<source>/<yyyy>/<mm>/<dd>/v<N>/_taken-<t>.json   the one takeover of the kept staging <t>
 *     <prefix>/_inflight/<source>/<yyyy-mm-dd>/v<N>             "being written" marker
 *     <prefix>/_kept/<sha256 of the resume key>.json            where a resume key's kept staging is
 *     <prefix>/_quarantine/<source>/<yyyy-mm-dd>/<runId>/…      refused runs
 *
 * Source names start with a lower-case letter, so `_inflight` and
 * `_quarantine` never collide with a source. Every part is checked.
 */
export class S3Layout {
  /** `<prefix>/` or `` */
  readonly root: string;

  constructor(prefix: string) {
    this.root = prefix === '' ? '' : `${prefix}/`;
  }

  source(source: string): string {
    return `${this.root}${checkSourceName(source)}/`;
  }

  partition(source: string, date: string): string {
    const { yyyy, mm, dd } = dateParts(checkDate(date));
    return `${this.source(source)}${yyyy}/${mm}/${dd}/`;
  }

  version(source: string, date: string, version: number): string {
    return `${this.partition(source, date)}v${checkVersion(version)}/`;
  }

  file(versionPrefix: string, name: string): string {
    return `${versionPrefix}${checkFileName(name)}`;
  }

  manifest(versionPrefix: string): string {
    return `${versionPrefix}${MANIFEST_FILE}`;
  }

  claim(versionPrefix: string): string {
    return `${versionPrefix}${CLAIM_FILE}`;
  }

  abandoned(versionPrefix: string): string {
    return `${versionPrefix}${ABANDONED_FILE}`;
  }

  inFlightRoot(): string {
    return `${this.root}${IN_FLIGHT_DIR}/`;
  }

  inFlight(source: string, date: string, version: number): string {
    return `${this.inFlightRoot()}${checkSourceName(source)}/${checkDate(date)}/v${checkVersion(version)}`;
  }

  /** The (source, date, version) an in-flight marker names, or undefined for a stray key. */
  parseInFlight(key: string): { source: string; date: string; version: number } | undefined {
    const m = /^([a-z][a-z0-9_-]{0,63})\/([0-9]{4}-[0-9]{2}-[0-9]{2})\/v([1-9][0-9]{0,14})$/.exec(key.slice(this.inFlightRoot().length));
    if (!m || !key.startsWith(this.inFlightRoot())) return undefined;
    try {
      return { source: m[1] as string, date: checkDate(m[2]), version: Number(m[3]) };
    } catch {
      return undefined;
    }
  }

  keptRecord(versionPrefix: string): string {
    return `${versionPrefix}${KEPT_FILE}`;
  }

  taken(versionPrefix: string, token: string): string {
    const name = `_taken-${token}.json`;
    if (!TAKEN_RE.test(name)) throw new Error(`not a takeover token: ${JSON.stringify(token)}`);
    return `${versionPrefix}${name}`;
  }

  keptRoot(): string {
    return `${this.root}${KEPT_DIR}/`;
  }

  /** The pointer of a resume key: its name is the key's sha256 (a resume key may hold any character). */
  keptPointer(resumeKey: string): string {
    return `${this.keptRoot()}${createHash('sha256').update(resumeKey).digest('hex').slice(0, 32)}.json`;
  }

  quarantine(source: string, date: string, runId: string): string {
    return `${this.root}${QUARANTINE_DIR}/${checkSourceName(source)}/${checkDate(date)}/${checkRunId(runId)}`;
  }
}
