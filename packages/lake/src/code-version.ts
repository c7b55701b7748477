import { readFileSync } from 'node:fs';

/** The name of the monorepo's root package, whose version is the code version. */
const ROOT_PACKAGE_NAME = 'recomart-ingest';

function versionAt(url: URL, name?: string): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(url, 'utf8')) as { name?: unknown; version?: unknown };
    if (name !== undefined && pkg.name !== name) return undefined;
    return typeof pkg.version === 'string' && pkg.version !== '' ? pkg.version : undefined;
  } catch {
    return undefined;
  }
}

let cached: string | undefined;

/**
 * The version of the code writing a manifest: the root package's version
 * (`packages/lake/{src,dist}/` → `../../../package.json`), else this
 * package's own, else `unknown`.
 */
export function defaultCodeVersion(): string {
  cached ??=
    versionAt(new URL('../../../package.json', import.meta.url), ROOT_PACKAGE_NAME) ??
    versionAt(new URL('../package.json', import.meta.url)) ??
    'unknown';
  return cached;
}
