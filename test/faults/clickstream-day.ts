import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

const EVENTS = ['view', 'view', 'view', 'click', 'add_to_cart'] as const;
const DEVICES = ['web', 'ios', 'android'] as const;

/**
 * Writes one valid clickstream export of `rows` rows for `date` into
 * `$LANDING_DIR/clickstream/<date>/<name>` (atomically: a hidden temp file,
 * then a rename). Deterministic: the same arguments give the same bytes.
 * @returns the file's path and size.
 */
export async function writeClickstreamDay(landingDir: string, date: string, rows: number, name = 'events-000.csv'): Promise<{ file: string; bytes: number }> {
  const dir = path.join(landingDir, 'clickstream', date);
  await mkdir(dir, { recursive: true });
  const day = Date.parse(`${date}T00:00:00.000Z`);
  const parts: string[] = ['user_id,product_id,event_type,timestamp,device\n'];
  const step = Math.floor(86_400_000 / Math.max(rows, 1));
  for (let i = 0; i < rows; i++) {
    const ts = new Date(day + i * step).toISOString();
    parts.push(`u${(i * 7919) % 100_003},p${(i * 104_729) % 50_021},${EVENTS[i % EVENTS.length]},${ts},${DEVICES[i % DEVICES.length]}\n`);
  }
  const body = parts.join('');
  const file = path.join(dir, name);
  const tmp = path.join(dir, `.${name}.tmp`);
  await writeFile(tmp, body);
  await rename(tmp, file);
  return { file, bytes: Buffer.byteLength(body) };
}
