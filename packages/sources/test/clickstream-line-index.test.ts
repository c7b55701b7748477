import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { LineIndex } from '@recomart/sources';

/** Feeds `text` through a LineIndex in chunks of `size` bytes; answers the index and what it passed on. */
async function index(text: string | Buffer, size: number, inspect?: (head: Buffer) => Error | undefined): Promise<{ index: LineIndex; out: Buffer }> {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  const li = new LineIndex(inspect);
  const parts: Buffer[] = [];
  await pipeline(
    Readable.from(chunks),
    li,
    new Writable({
      objectMode: true,
      write(chunk: Buffer, _e, cb) {
        parts.push(chunk);
        cb();
      },
    }),
  );
  return { index: li, out: Buffer.concat(parts) };
}

const TEXT = 'h1,h2\r\na,"b\r\nc"\r\n"x ""y""",z\r\nlast,row';

describe('LineIndex', () => {
  for (const size of [1, 2, 3, 7, 1000]) {
    it(`finds lines and original records whatever the chunking (${size}-byte chunks)`, async () => {
      const { index: li, out } = await index(`\ufeff${TEXT}`, size);
      expect(out.toString()).toBe(TEXT); // BOM stripped, bytes otherwise unchanged
      expect(li.bytes).toBe(Buffer.byteLength(TEXT));
      expect(li.lines).toBe(5);
      expect(li.quotedLineBreaks).toBe(1); // "b\r\nc" continues its row on line 3
      const starts = [0, 7, 17, 30];
      expect(starts.map((s) => li.lineAt(s))).toEqual([1, 2, 4, 5]);
      expect(starts.map((s) => li.recordAt(s))).toEqual(['h1,h2', 'a,"b\r\nc"', '"x ""y""",z', 'last,row']);
      expect(li.recordEnd(7)).toBe(17);
      expect(li.openQuoteFrom(7)).toBe(false);
    });
  }

  for (const size of [1, 2, 5, 1000]) {
    it(`tells blank lines and line ends inside quotes from the bytes (${size}-byte chunks)`, async () => {
      // header | blank | CR alone (blank) | "a… | (inside quotes) | …b" | x | a last CR alone (blank)
      const { index: li } = await index('h\n\n\r\n"a\n\nb"\nx\n\r', size);
      expect({ lines: li.lines, blank: li.blankLines, inQuotes: li.quotedLineBreaks }).toEqual({ lines: 8, blank: 3, inQuotes: 2 });
    });
  }

  it('counts a last line with or without its line ending', async () => {
    expect((await index('a\nb\n', 1)).index.lines).toBe(2);
    expect((await index('a\nb', 1)).index.lines).toBe(2);
    expect((await index('', 1)).index.lines).toBe(0);
  });

  it('sees a quote left open', async () => {
    const { index: li } = await index('a,b\n1,"2\n3,4\n', 3);
    expect(li.openQuoteFrom(4)).toBe(true);
    expect(li.recordAt(4)).toBe('1,"2\n3,4\n');
  });

  it('hands the first line over whole, and only then asks the inspector', async () => {
    const heads: string[] = [];
    await index('abc,def\r\n1,2\r\n', 1, (head) => {
      heads.push(head.toString());
      return undefined;
    });
    expect(heads).toEqual(['abc,def\r\n']);
  });

  it('fails the stream with the inspector\'s error', async () => {
    await expect(index('x\n', 1, () => new Error('nope'))).rejects.toThrow('nope');
  });

  it('forgets released bytes but keeps the slice still needed', async () => {
    const { index: li } = await index('aaaa\nbbbb\ncccc\n', 5);
    li.release(10);
    expect(li.recordAt(10)).toBe('cccc');
    expect(li.lineAt(10)).toBe(3);
  });
});
