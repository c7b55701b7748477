/**
 * Secrets carried by URLs: the `user:password@` part and query parameters whose
 * name says they hold a credential (`api_key`, `token`, `access_token`,
 * `X-Amz-Signature`, `client_secret`, `password`, `sig`, `auth`…). The one
 * place that decides what of a URL may be shown; every logger line, error
 * message and manifest that names a URL goes through it.
 */

const REDACTED = '[REDACTED]';

/**
 * A query parameter name that holds a credential: it contains one of these
 * words (so `api_key`, `apiKey`, `x-api-key`, `access_token`, `X-Amz-Credential`
 * all match), or is one of the short names that would match too much as a part
 * (`sig`, `pwd`, `pass`, `pw`, `jwt`, `hmac`).
 */
const SECRET_WORDS = /key|token|secret|passw|signature|auth|credential|session|cookie/i;
const SECRET_NAMES = /^(sig|pwd|pass|pw|jwt|hmac)$/i;

/** Whether a query parameter of this name holds a credential. */
export function isSecretQueryParam(name: string): boolean {
  let decoded = name;
  try {
    decoded = decodeURIComponent(name);
  } catch {
    /* a malformed name is judged as written */
  }
  return SECRET_WORDS.test(decoded) || SECRET_NAMES.test(decoded);
}

/**
 * `scheme://user:password@host`, `scheme//:pw@host` (a typo), `//user@host`:
 * everything up to the last `@` of the authority goes (a password may hold an
 * unescaped `@`). Linear in the text: matching starts only at `//` (a scheme
 * prefix would make a long run of letters quadratic).
 */
const USERINFO = /\/\/[^\s/?#"'<>\\]*@/g;
/** `?name=value` or `&name=value` (also `;`), the value up to the next separator or quote. */
const QUERY_PARAM = /([?&;])([^\s=&#?;"'<>\\]+)=([^\s&#;"'<>\\]*)/g;

/**
 * Removes URL credentials and secret query values from free text (a log line,
 * an error message), wherever URLs occur in it, well-formed or not.
 */
export function redactUrlSecrets(text: string): string {
  return text
    .replace(USERINFO, `//${REDACTED}@`)
    .replace(QUERY_PARAM, (whole, sep: string, name: string) => (isSecretQueryParam(name) ? `${sep}${name}=${REDACTED}` : whole));
}

/** The authority of one URL value, up to its last `@`, whatever it holds (spaces included). */
const VALUE_USERINFO = /^(\s*(?:[a-z][a-z0-9+.-]*:?)?\/\/)[^/?#]*@/i;

/**
 * One URL as configured (possibly malformed: a typo, spaces, bad escapes),
 * safe to repeat in a message: its user and password go, however written,
 * and so do secret query values.
 */
export function redactUrlValue(value: string): string {
  return redactUrlSecrets(value.replace(VALUE_USERINFO, `$1${REDACTED}@`));
}
