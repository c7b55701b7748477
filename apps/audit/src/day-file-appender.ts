import { mkdir, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/** Open day files kept at once; older ones are closed (a day rolls over, a backlog spans days). */
const MAX_OPEN_FILES = 8;

/**
 * Appends lines to the audit log's day files and fsyncs them. Files are only
 * ever opened for append: nothing already written is rewritten. When a file
 * was left ending in a torn line (a crash mid-write), the first append starts
 * on a fresh line so the torn line stays one unreadable line that readers
 * skip; the events in it are written again because the checkpoint never
 * covered them.
 */
export class DayFileAppender {
  private readonly open = new Map<string, FileHandle>();

  /** Appends each file's lines and fsyncs every file touched; resolves when all are durable. */
  async append(linesByFile: ReadonlyMap<string, readonly string[]>): Promise<void> {
    for (const [file, lines] of linesByFile) {
      if (lines.length === 0) continue;
      const handle = await this.handleFor(file);
      await handle.appendFile(lines.map((l) => `${l}\n`).join(''));
      await handle.sync();
    }
  }

  /** Closes every open file. */
  async close(): Promise<void> {
    const handles = [...this.open.values()];
    this.open.clear();
    await Promise.allSettled(handles.map((h) => h.close()));
  }

  private async handleFor(file: string): Promise<FileHandle> {
    const existing = this.open.get(file);
    if (existing) {
      this.open.delete(file);
      this.open.set(file, existing);
      return existing;
    }
    while (this.open.size >= MAX_OPEN_FILES) {
      const [oldest, handle] = this.open.entries().next().value as [string, FileHandle];
      this.open.delete(oldest);
      await handle.close();
    }
    const dir = path.dirname(file);
    await mkdir(dir, { recursive: true });
    const handle = await open(file, 'a+');
    try {
      const { size } = await handle.stat();
      if (size === 0) {
        // A new file: make its name (and any new yyyy/mm folders) durable too.
        for (const d of [dir, path.dirname(dir), path.dirname(path.dirname(dir))]) await syncDir(d);
      } else {
        const last = Buffer.alloc(1);
        await handle.read(last, 0, 1, size - 1);
        if (last[0] !== 0x0a) await handle.appendFile('\n');
      }
    } catch (err) {
      await handle.close();
      throw err;
    }
    this.open.set(file, handle);
    return handle;
  }
}

/** Makes a new directory entry durable (the file's name, not just its bytes). */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
