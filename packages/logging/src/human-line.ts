/** One parsed pino log object, as pino-pretty hands it to a message format. */
export type LogObject = Record<string, unknown>;

/** SGR codes (on, off): written whatever the stream is, since the caller decided that colour is wanted. */
const STYLE = { gray: ['90', '39'], yellow: ['33', '39'], red: ['31', '39'], boldRed: ['1;31', '22;39'] } as const;
type Style = keyof typeof STYLE;

const LEVEL_STYLE: Record<string, { label: string; style: Style }> = {
  trace: { label: 'TRACE', style: 'gray' },
  debug: { label: 'DEBUG', style: 'gray' },
  warn: { label: 'WARN', style: 'yellow' },
  error: { label: 'ERROR', style: 'red' },
  fatal: { label: 'FATAL', style: 'boldRed' },
};

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const count = (n: number) => n.toLocaleString('en-US');

/** `09:05:03` in the machine's local time (a person reads it at their terminal), or '' for no time. */
function clock(time: unknown): string {
  const t = typeof time === 'string' || typeof time === 'number' ? new Date(time) : undefined;
  if (!t || Number.isNaN(t.getTime())) return '';
  return [t.getHours(), t.getMinutes(), t.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** `committed v1 · 20,000 rows · 0 rejected · 158 ms` for a job's outcome line; undefined for any other line. */
function outcome(log: LogObject): string | undefined {
  const event = str(log.event);
  const version = num(log.version);
  if ((event !== 'committed' && event !== 'unchanged') || version === undefined) return undefined;
  const parts = [`${event} v${version}`];
  const records = num(log.records);
  if (records !== undefined) parts.push(`${count(records)} ${log.source === 'clickstream' ? 'rows' : 'records'}`);
  const rejected = num(log.rejected);
  if (rejected !== undefined) parts.push(`${count(rejected)} rejected`);
  const ms = num(log.durationMs);
  if (ms !== undefined) parts.push(`${count(Math.round(ms))} ms`);
  return parts.join(' · ');
}

/** What went wrong, from the fields the apps log errors under. */
function problem(log: LogObject): string | undefined {
  const err = log.err;
  if (err && typeof err === 'object' && 'message' in err) return str((err as { message: unknown }).message);
  return str(err) ?? str(log.error) ?? str(log.reason);
}

/**
 * The one compact line a person reads for a log object on a terminal:
 * `11:00:37 clickstream 2026-11-29 committed v1 · 20,000 rows · 0 rejected · 158 ms`.
 * Info lines carry no level word; warnings and errors do (WARN, ERROR), so the
 * line reads the same without colour, and `color` only highlights them.
 */
export function humanLine(log: LogObject, color: boolean): string {
  const paint = (style: Style, s: string) => (color ? `\u001b[${STYLE[style][0]}m${s}\u001b[${STYLE[style][1]}m` : s);
  const parts: string[] = [];
  const time = clock(log.time);
  if (time) parts.push(paint('gray', time));
  const level = LEVEL_STYLE[String(log.level)];
  if (level) parts.push(paint(level.style, level.label));
  for (const key of ['source', 'date'] as const) {
    const v = str(log[key]);
    if (v) parts.push(v);
  }
  let message = outcome(log) ?? str(log.msg) ?? '';
  // "clickstream 2026-11-30 committed as version 1" already named its partition above.
  const partition = [str(log.source), str(log.date)].filter(Boolean).join(' ');
  if (partition && message.startsWith(`${partition} `)) message = message.slice(partition.length + 1);
  const why = problem(log);
  if (why && !message.includes(why)) message = message ? `${message}: ${why}` : why;
  const delay = num(log.delayMs) ?? num(log.retryInMs);
  if (delay !== undefined) message += ` (again in ${count(Math.ceil(delay / 1000))} s)`;
  parts.push(level && level.label !== 'DEBUG' && level.label !== 'TRACE' ? paint(level.style, message) : message);
  return parts.join(' ');
}
