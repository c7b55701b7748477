import { InvalidInputError } from '@recomart/jobs';
import { manifestProblem, sortFiles } from './manifest.js';
import { checkAttempt, checkDate, checkFileName, checkJobId, checkRunId, checkSourceName } from './names.js';
import type { IngestError } from '@recomart/jobs';
import type { CommitInput, Manifest, ManifestFile, WriteSessionInit } from './types.js';

/**
 * The rules every write session applies, whatever the backend: what a file's
 * origin, a commit's counts and records, a quarantine reason and a manifest
 * must look like, and which file names may live together in one version.
 */

/** `file` as a name a reader may open in a committed version: the version exists and its manifest lists it. */
export function checkListedFile(manifest: Manifest | undefined, source: string, date: string, version: number, file: string): string {
  checkFileName(file);
  if (!manifest) throw new InvalidInputError(`${source} ${date} has no committed version ${version}`);
  if (!manifest.files.some((f) => f.path === file)) {
    throw new InvalidInputError(`file ${JSON.stringify(file)} is not in ${source} ${date} v${version}`);
  }
  return file;
}

/** Who is writing, checked (every part ends up in a path, a key or the manifest). */
export function checkSessionInit(init: WriteSessionInit): WriteSessionInit {
  return {
    source: checkSourceName(init.source),
    date: checkDate(init.date),
    runId: checkRunId(init.runId),
    jobId: checkJobId(init.jobId),
    attempt: checkAttempt(init.attempt),
    ...(init.resumeKey === undefined ? {} : { resumeKey: checkJobId(init.resumeKey, 'resumeKey') }),
  };
}

export function checkOrigin(origin: unknown): string {
  if (typeof origin !== 'string' || origin.length > 4096 || /[\u0000-\u001f\u007f]/.test(origin)) {
    throw new InvalidInputError(`origin must be at most 4096 characters without control characters, got ${JSON.stringify(origin) ?? String(origin)}`);
  }
  return origin;
}

function checkCount(label: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidInputError(`${label} must be a whole number from 0, got ${JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}

export function checkRecord(label: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidInputError(`${label} must be a JSON object, got ${JSON.stringify(value) ?? String(value)}`);
  }
  try {
    return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  } catch (err) {
    throw new InvalidInputError(`${label} is not JSON-serializable: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** A commit's input, checked and deep-copied. */
export function checkCommitInput(input: CommitInput): CommitInput {
  checkCount('records', input.records);
  checkCount('rejected', input.rejected);
  return {
    records: input.records,
    rejected: input.rejected,
    validation: checkRecord('validation', input.validation),
    ...(input.provenance === undefined ? {} : { provenance: checkRecord('provenance', input.provenance) }),
  };
}

/** A quarantine call's reason and details, checked. */
export function checkQuarantine(reason: unknown, details: unknown): { reason: string; details: Record<string, unknown> | undefined } {
  if (typeof reason !== 'string' || reason.trim() === '' || reason.length > 4000) {
    throw new InvalidInputError(`quarantine reason must be 1 to 4000 characters, got ${JSON.stringify(reason) ?? String(reason)}`);
  }
  return { reason, details: details === undefined ? undefined : checkRecord('quarantine details', details) };
}

/** What a session knows when it writes a manifest. */
export interface ManifestContext {
  init: WriteSessionInit;
  worker: { host: string; pid: number };
  startedAt: string;
  committedAt: string;
  codeVersion: string;
}

/** The manifest of a version; refuses (InvalidInputError) one that would not match the schema. */
export function buildManifest(ctx: ManifestContext, input: CommitInput, files: ManifestFile[], version: number): Manifest {
  const manifest: Manifest = {
    manifestVersion: 1,
    source: ctx.init.source,
    date: ctx.init.date,
    version,
    runId: ctx.init.runId,
    jobId: ctx.init.jobId,
    attempt: ctx.init.attempt,
    worker: ctx.worker,
    startedAt: ctx.startedAt,
    committedAt: ctx.committedAt,
    files,
    records: input.records,
    rejected: input.rejected,
    validation: input.validation,
    ...(input.provenance === undefined ? {} : { provenance: input.provenance }),
    codeVersion: ctx.codeVersion,
  };
  const problem = manifestProblem(manifest);
  if (problem !== undefined) throw new InvalidInputError(`the manifest of ${ctx.init.source} ${ctx.init.date} would be invalid: ${problem}`);
  return manifest;
}

/**
 * The file names of one session: each at most once, and never a file where
 * another needs a folder (`pages` beside `pages/0001.json`), so a version
 * means the same on a filesystem and in an object store.
 */
export class SessionFileNames {
  private readonly names = new Set<string>();
  /** Each folder of a file name (`pages` of `pages/0001.json`) → the first file named inside it. */
  private readonly folders = new Map<string, string>();

  /** Checks `name` and takes it. @throws InvalidInputError when refused, taken, or in conflict. */
  add(name: string): void {
    checkFileName(name);
    if (this.names.has(name)) throw new InvalidInputError(`file name ${JSON.stringify(name)} was already written in this session`);
    const other = this.conflictOf(name);
    if (other !== undefined) throw new InvalidInputError(`file name ${JSON.stringify(name)} conflicts with ${JSON.stringify(other)} in this session`);
    this.names.add(name);
    for (let i = name.indexOf('/'); i !== -1; i = name.indexOf('/', i + 1)) {
      const folder = name.slice(0, i);
      if (!this.folders.has(folder)) this.folders.set(folder, name);
    }
  }

  /**
   * Frees a name taken by `add` (its file was removed from the session). Its
   * folders stay known as folders: a file may still not take their names.
   */
  remove(name: string): void {
    this.names.delete(name);
  }

  private conflictOf(name: string): string | undefined {
    const inside = this.folders.get(name);
    if (inside !== undefined) return inside;
    for (let i = name.indexOf('/'); i !== -1; i = name.indexOf('/', i + 1)) {
      const folder = name.slice(0, i);
      if (this.names.has(folder)) return folder;
    }
    return undefined;
  }
}

/** How a session's file ended, as far as a commit cares. */
export interface FileOutcome {
  readonly result: ManifestFile | undefined;
  readonly failure: Error | undefined;
  /** A storage failure of this file (it failed the session). */
  readonly ioError?: IngestError | undefined;
}

/**
 * The manifest entries of a session's files, sorted, when every one of them
 * finished; else the reason it cannot `action` (commit): the session's own
 * failure, the file's storage error, or which file is unfinished.
 */
export function finishedFiles(files: ReadonlyMap<string, FileOutcome>, sessionFailure: IngestError | undefined, action: string): ManifestFile[] {
  const out: ManifestFile[] = [];
  for (const [name, f] of files) {
    if (f.result) {
      out.push(f.result);
      continue;
    }
    if (f.ioError) throw f.ioError;
    if (f.failure && sessionFailure) throw sessionFailure;
    throw new InvalidInputError(
      f.failure
        ? `cannot ${action}: file ${JSON.stringify(name)} was not completely written (${f.failure.message})`
        : `cannot ${action}: file ${JSON.stringify(name)} is still being written (end it and await its done first)`,
    );
  }
  return sortFiles(out);
}
