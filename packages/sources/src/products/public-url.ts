import { redactSecrets } from '@recomart/config';

/** Query parameters whose values are treated as credentials wherever a URL is shown. */
const SECRET_PARAM = /token|key|secret|password|passwd|signature|auth|credential/i;

/**
 * A URL as it may be logged, written into a manifest or put in an error
 * message: no `user:password@`, credential-like query values replaced, and
 * every configured secret value removed.
 */
export function publicUrl(url: string, secrets: readonly string[]): string {
  let shown = url;
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
    }
    for (const name of [...u.searchParams.keys()]) if (SECRET_PARAM.test(name)) u.searchParams.set(name, '[REDACTED]');
    shown = u.href;
  } catch {
    /* not a URL: only the value redaction below applies */
  }
  return redactSecrets(shown, secrets);
}
