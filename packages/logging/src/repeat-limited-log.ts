import type { Logger } from 'pino';

export interface RepeatLimitedLogOptions {
  /**
   * How long identical lines are held back after the first one is written.
   * @defaultValue 10 000 ms (`LOG_REPEAT_WINDOW_MS`)
   */
  windowMs?: number;
  /**
   * Distinct lines tracked at once; past it, lines are written as they come.
   * @defaultValue 1000
   */
  maxTracked?: number;
}

interface Held {
  level: 'error' | 'warn';
  fields: Record<string, unknown>;
  message: string;
  suppressed: number;
  timer: NodeJS.Timeout;
}

/**
 * A logger for error handlers that can fire in a tight loop (a Redis out of
 * memory makes a BullMQ worker fail ~1,000 times a second): the first of
 * identical lines (same level, message and fields) is written at once, the
 * repeats within `windowMs` are counted, and when the window ends one line
 * says `… (N more suppressed in 10 s)` with `suppressed: N`.
 */
export class RepeatLimitedLog {
  private readonly held = new Map<string, Held>();
  private readonly windowMs: number;
  private readonly maxTracked: number;

  constructor(
    private readonly logger: Logger,
    options: RepeatLimitedLogOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 10_000;
    this.maxTracked = options.maxTracked ?? 1000;
  }

  error(fields: Record<string, unknown>, message: string): void {
    this.write('error', fields, message);
  }

  warn(fields: Record<string, unknown>, message: string): void {
    this.write('warn', fields, message);
  }

  /** Writes the pending "suppressed" lines now and stops every timer (call at shutdown). */
  close(): void {
    for (const key of [...this.held.keys()]) this.release(key);
  }

  private write(level: Held['level'], fields: Record<string, unknown>, message: string): void {
    if (this.windowMs === 0) {
      this.logger[level](fields, message);
      return;
    }
    const key = `${level}\u0000${message}\u0000${JSON.stringify(fields)}`;
    const held = this.held.get(key);
    if (held) {
      held.suppressed += 1;
      return;
    }
    this.logger[level](fields, message);
    if (this.held.size >= this.maxTracked) return;
    const timer = setTimeout(() => this.release(key), this.windowMs);
    timer.unref();
    this.held.set(key, { level, fields, message, suppressed: 0, timer });
  }

  private release(key: string): void {
    const held = this.held.get(key);
    if (!held) return;
    this.held.delete(key);
    clearTimeout(held.timer);
    if (held.suppressed === 0) return;
    const seconds = Math.round(this.windowMs / 100) / 10;
    this.logger[held.level](
      { ...held.fields, suppressed: held.suppressed, windowMs: this.windowMs },
      `${held.message} (${held.suppressed} more suppressed in ${seconds} s)`,
    );
  }
}
