import { echoInput, redactUrlValue } from '@recomart/logging';
import { z } from 'zod';

/**
 * One environment variable: its name, default, documentation and the zod
 * schema that turns the raw string into a typed value. Every schema produces
 * the exact message `NAME must be <expectation>, got "<value>"` on bad input;
 * the value is shown without URL credentials or secret query values, cut to
 * 200 characters (`echoInput`), and not at all for a secret variable.
 */
export interface Variable<T> {
  readonly name: string;
  /** The default as it would be written in the environment; undefined = unset. */
  readonly defaultValue: string | undefined;
  /** What the variable does (README's configuration table is generated from this). */
  readonly doc: string;
  /** Secrets are redacted from every log line and from `describeConfig`. */
  readonly secret: boolean;
  readonly parse: (raw: string) => { ok: true; value: T } | { ok: false; message: string };
}

/** How a bad value is repeated in its message: never whole when it may hold a secret. */
function shownValue(raw: string, secret: boolean): string {
  if (secret) return `a value of ${raw.length} characters (not shown: secret)`;
  return echoInput(redactUrlValue(raw));
}

function fromZod<T>(name: string, expectation: string, schema: z.ZodType<T>, secret: boolean) {
  return (raw: string): { ok: true; value: T } | { ok: false; message: string } => {
    const result = schema.safeParse(raw);
    if (result.success) return { ok: true, value: result.data };
    return { ok: false, message: `${name} must be ${expectation}, got ${shownValue(raw, secret)}` };
  };
}

interface Declare {
  name: string;
  defaultValue?: string;
  doc: string;
  secret?: boolean;
}

function declare<T>(d: Declare, expectation: string, schema: z.ZodType<T>): Variable<T> {
  return {
    name: d.name,
    defaultValue: d.defaultValue,
    doc: d.doc,
    secret: d.secret ?? false,
    parse: fromZod(d.name, expectation, schema, d.secret ?? false),
  };
}

const intSchema = (min: number, max: number) =>
  z
    .string()
    .regex(/^-?\d+$/)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

export function integer(d: Declare, min: number, max = Number.MAX_SAFE_INTEGER): Variable<number> {
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
  return declare(d, `an integer ${range}`, intSchema(min, max));
}

export function ratio(d: Declare): Variable<number> {
  return declare(
    d,
    'a number from 0 to 1',
    z
      .string()
      .regex(/^\d+(\.\d+)?$/)
      .transform(Number)
      .pipe(z.number().min(0).max(1)),
  );
}

export function text(d: Declare, pattern?: RegExp, expectation = 'a non-empty string'): Variable<string> {
  const base = z.string().min(1);
  return declare(d, expectation, pattern ? base.regex(pattern) : base);
}

export function optionalText(d: Declare): Variable<string | undefined> {
  return declare(
    d,
    'a non-empty string when set',
    z
      .string()
      .transform((s) => (s === '' ? undefined : s))
      .pipe(z.string().optional()),
  );
}

export function oneOf<const T extends readonly [string, ...string[]]>(d: Declare, values: T): Variable<T[number]> {
  return declare(d, `one of ${values.join(', ')}`, z.enum(values));
}

export function bool(d: Declare): Variable<boolean> {
  return declare(
    d,
    'true or false',
    z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((s) => s === 'true' || s === '1' || s === 'yes'),
  );
}

/** Whether a URL's user and password percent-decode, as clients (ioredis, the products transport) will decode them. */
function credentialsDecode(s: string): boolean {
  try {
    const u = new URL(s);
    decodeURIComponent(u.username);
    decodeURIComponent(u.password);
    return true;
  } catch {
    return false;
  }
}

export function url(d: Declare, protocols: readonly string[], expectation: string): Variable<string> {
  const base = declare(
    d,
    expectation,
    z.string().refine((s) => {
      if (!protocols.some((p) => s.startsWith(`${p}//`))) return false;
      try {
        const u = new URL(s);
        return protocols.includes(u.protocol) && u.hostname !== '';
      } catch {
        return false;
      }
    }),
  );
  return {
    ...base,
    parse: (raw) => {
      const result = base.parse(raw);
      if (!result.ok || credentialsDecode(raw)) return result;
      return {
        ok: false,
        message: `${d.name} must be ${expectation} whose user and password are percent-encoded (write "%" as "%25"), got ${shownValue(raw, d.secret ?? false)}`,
      };
    },
  };
}

export function optionalUrl(d: Declare, protocols: readonly string[], expectation: string): Variable<string | undefined> {
  const inner = url(d, protocols, expectation);
  return {
    ...inner,
    parse: (raw) => (raw === '' ? { ok: true, value: undefined } : inner.parse(raw)),
  };
}

/** Whether `s` is a bare origin: `scheme://host[:port]`, nothing else. */
function isOrigin(s: string, protocols: readonly string[]): boolean {
  if (!URL.canParse(s)) return false;
  const u = new URL(s);
  return protocols.includes(u.protocol) && u.hostname !== '' && u.origin === s.replace(/\/$/, '').toLowerCase();
}

/** Comma-separated origins (`https://cdn.example.com,http://127.0.0.1:8080`), each as `URL.origin` writes it; '' = none. */
export function origins(d: Declare, protocols: readonly string[]): Variable<readonly string[]> {
  return declare(
    d,
    `comma-separated origins such as ${protocols[protocols.length - 1] ?? 'https:'}//cdn.example.com:8443 (scheme, host and port only)`,
    z
      .string()
      .transform((s) => s.split(',').map((o) => o.trim()).filter((o) => o !== ''))
      .refine((list) => list.every((o) => isOrigin(o, protocols)))
      .transform((list) => Object.freeze(list.map((o) => new URL(o).origin))),
  );
}

/** A cron expression of five or six space-separated fields (checked fully by BullMQ's cron parser). */
export function cron(d: Declare): Variable<string> {
  return declare(
    d,
    'a cron expression of 5 or 6 fields',
    z.string().refine((s) => {
      const fields = s.trim().split(/\s+/);
      return (fields.length === 5 || fields.length === 6) && fields.every((f) => /^[\d*/,\-A-Za-z?LW#]+$/.test(f));
    }),
  );
}

export function timeZone(d: Declare): Variable<string> {
  return declare(
    d,
    'an IANA time zone such as UTC or Europe/Berlin',
    z.string().refine((s) => {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: s });
        return s.length > 0;
      } catch {
        return false;
      }
    }),
  );
}

/** `a=b,c=d` pairs, used for PRODUCTS_FIELD_MAP. */
export function pairs(d: Declare): Variable<Readonly<Record<string, string>>> {
  return declare(
    d,
    'comma-separated name=field pairs such as product_id=id,popularity_score=rating',
    z
      .string()
      .refine((s) => s === '' || s.split(',').every((p) => /^[A-Za-z_][\w]*=[\w.$-]+$/.test(p.trim())))
      .transform((s) => {
        const out: Record<string, string> = {};
        if (s === '') return out;
        for (const p of s.split(',')) {
          const [k, v] = p.trim().split('=') as [string, string];
          out[k] = v;
        }
        return Object.freeze(out);
      }),
  );
}
