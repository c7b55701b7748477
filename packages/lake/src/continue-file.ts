import type { FileSink, WriteSession } from './types.js';

/** Resolves once `stream` drains, or closes (a failure then shows through its sink's `done`). */
export function drained(stream: FileSink['stream']): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

/**
 * A sink for `name` in `session`. With `fromKept`, the session's finished
 * file of that name (one a kept staging handed over) is continued: its bytes
 * are read back (checked against its sha256), the file is removed from the
 * session (`removeFile`) and the new sink starts with those bytes, so what is
 * appended after them lands in one file, as if it had never been closed.
 * The bytes are held in memory once: for files of bounded size (a segment,
 * an index, a request log).
 */
export async function continueFile(session: WriteSession, name: string, origin: string, fromKept: boolean): Promise<FileSink> {
  const before = fromKept ? await session.readFile(name) : undefined;
  if (fromKept) await session.removeFile(name);
  const sink = session.createFile(name, origin);
  if (before !== undefined && before.byteLength > 0 && !sink.stream.write(before)) await drained(sink.stream);
  return sink;
}
