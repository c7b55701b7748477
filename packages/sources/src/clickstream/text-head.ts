const LF = 10;
const BOM = [0xef, 0xbb, 0xbf] as const;
/** The start of the stream is held back until its first line ending, or this many bytes. */
const HEAD_LIMIT = 1 << 20;

/** Checks the first bytes of a stream; returns an error to fail it, or undefined. */
export type HeadInspector = (head: Buffer) => Error | undefined;

/**
 * The start of a clickstream text: held back until its first line is whole
 * (csv-parser decides between LF, CRLF and CR line endings on the header line
 * and reads a CR at the very end of a chunk as a CR-only file), a UTF-8 BOM
 * stripped, then shown to the inspector before anything is parsed.
 */
export class TextHead {
  private held: Buffer | undefined = Buffer.alloc(0);

  constructor(private readonly inspect?: HeadInspector) {}

  /**
   * The text to pass on for `chunk`: the chunk itself once the head is
   * through, the whole head (BOM stripped) when it completes, or undefined
   * while it is still held.
   * @throws the inspector's error.
   */
  take(chunk: Buffer): Buffer | undefined {
    if (this.held === undefined) return chunk;
    const head = this.held.length === 0 ? chunk : Buffer.concat([this.held, chunk]);
    if (head.indexOf(LF) === -1 && head.length < HEAD_LIMIT) {
      this.held = head;
      return undefined;
    }
    return this.release(head);
  }

  /**
   * At the end of the stream: a head still held (a text without a line
   * ending), or undefined.
   * @throws the inspector's error.
   */
  finish(): Buffer | undefined {
    const head = this.held;
    if (head === undefined || head.length === 0) return undefined;
    return this.release(head);
  }

  private release(head: Buffer): Buffer {
    this.held = undefined;
    const body = head[0] === BOM[0] && head[1] === BOM[1] && head[2] === BOM[2] ? head.subarray(BOM.length) : head;
    const err = this.inspect?.(body);
    if (err) throw err;
    return body;
  }
}
