import type { AuditEvent } from '@recomart/logging';

/** Control characters (terminal escapes among them) never reach the operator's terminal. */
function printable(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? '';
  return text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** 1234 → `1.2 s`, 90000 → `1.5 min`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** 1536 → `1.5 KiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

function errorText(e: AuditEvent): string {
  const cls = typeof e.errorClass === 'string' ? `${e.errorClass}: ` : '';
  return `${cls}${printable(e.error ?? 'no reason given')}`;
}

/** What one event says happened, in words. */
export function describeEvent(e: AuditEvent): string {
  switch (e.type) {
    case 'enqueued':
      return typeof e.retriedFrom === 'string' ? `back in the queue (was ${printable(e.retriedFrom)})` : 'added to the queue';
    case 'started': {
      if (e.origin === 'queue') return 'taken by a worker';
      const parts = [`attempt ${num(e.attempt) ?? '?'}${num(e.maxAttempts) ? ` of ${String(e.maxAttempts)}` : ''}`];
      if (typeof e.trigger === 'string') parts.push(`trigger ${printable(e.trigger)}`);
      return parts.join(', ');
    }
    case 'progress':
      return Object.entries(e)
        .filter(([k]) => !['eventId', 'type', 'at', 'jobId', 'source', 'date', 'runId', 'attempt', 'worker'].includes(k))
        .map(([k, v]) => `${k} ${printable(v)}`)
        .join(', ');
    case 'retry-scheduled': {
      const delay = num(e.delayMs);
      const wait = delay === undefined ? 'retrying later' : `next attempt in ${formatDuration(delay)}`;
      return `${errorText(e)}; ${wait}${e.rateLimited === true ? ' (rate limited)' : ''}`;
    }
    case 'committed': {
      const parts = [`committed version ${printable(e.version)}`];
      const details: string[] = [];
      if (num(e.files) !== undefined) details.push(`${String(e.files)} files`);
      if (num(e.records) !== undefined) details.push(`${String(e.records)} records`);
      if (num(e.rejected) !== undefined) details.push(`${String(e.rejected)} rejected`);
      if (num(e.bytes) !== undefined) details.push(formatBytes(e.bytes as number));
      if (num(e.durationMs) !== undefined) details.push(`in ${formatDuration(e.durationMs as number)}`);
      if (details.length > 0) parts.push(`(${details.join(', ')})`);
      return parts.join(' ');
    }
    case 'unchanged':
      return `same content as version ${printable(e.version)}; nothing new written`;
    case 'failed':
      return `${errorText(e)}${e.final === true ? ' (final)' : e.final === false ? ' (will retry)' : ''}`;
    case 'stalled':
      return `lost its worker${typeof e.previousState === 'string' ? ` (was ${printable(e.previousState)})` : ''}; BullMQ retries or fails it`;
    case 'completed': {
      const r = e.result && typeof e.result === 'object' ? (e.result as Record<string, unknown>) : undefined;
      return r ? `completed: ${printable(r.status)} version ${printable(r.version)}` : 'completed';
    }
    case 'operator-action': {
      const target = [e.queue ? `queue ${printable(e.queue)}` : '', e.jobId ? `job ${printable(e.jobId)}` : '', e.status ? `status ${printable(e.status)}` : '']
        .filter(Boolean)
        .join(', ');
      return `${printable(e.operator ?? 'unknown operator')} ran ${printable(e.action ?? 'an action')}${target ? ` on ${target}` : ''}`;
    }
    case 'redis-failover':
      return `Redis primary moved from ${printable(e.from ?? '?')} to ${printable(e.to ?? '?')}${e.primary ? ` (${printable(e.primary)})` : ''}`;
    default:
      return '';
  }
}

/** Who acted: the worker (`host:pid`), `operator <user>`, or `queue` for BullMQ's own events. */
function actor(e: AuditEvent): string {
  if (e.type === 'operator-action') return `operator ${printable(e.operator ?? '?')}`;
  if (typeof e.worker === 'string') return printable(e.worker);
  return e.origin === 'queue' ? 'queue' : '-';
}

/** The events as an aligned, readable timeline: when, job, attempt, who, what happened. */
export function formatTimeline(events: readonly AuditEvent[]): string {
  const rows = events.map((e) => [
    printable(e.at),
    printable(e.jobId ?? '-'),
    num(e.attempt) !== undefined ? String(e.attempt) : '-',
    actor(e),
    e.type,
    describeEvent(e),
  ]);
  const header = ['WHEN (UTC)', 'JOB', 'ATTEMPT', 'BY', 'EVENT', 'WHAT'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
