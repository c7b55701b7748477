import { redactSecrets } from '@recomart/config';
import { isSecretQueryParam, redactUrlSecrets } from '@recomart/logging';

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
    for (const name of [...u.searchParams.keys()]) if (isSecretQueryParam(name)) u.searchParams.set(name, '[REDACTED]');
    shown = u.href;
  } catch {
    shown = redactUrlSecrets(url);
  }
  return redactSecrets(shown, secrets);
}
