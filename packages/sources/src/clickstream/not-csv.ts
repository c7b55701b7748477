const LF = 10;
const CR = 13;

/**
 * Looks at the first bytes of a file's text for signs that it is not CSV at
 * all, before any parsing.
 * @param gzipped whether these bytes came out of gunzip already.
 * @returns what is wrong (`binary data (a NUL byte at byte 17)`), or undefined.
 */
export function sniffNotCsv(head: Buffer, gzipped: boolean): string | undefined {
  if (head[0] === 0x1f && head[1] === 0x8b) {
    return gzipped ? 'gzip data inside the gzip data (compressed twice)' : 'gzip data in a file whose name does not end in .gz';
  }
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) return 'UTF-16 text';
  const nul = head.indexOf(0);
  if (nul !== -1) return `binary data (a NUL byte at byte ${nul})`;
  const lf = head.indexOf(LF);
  const cr = head.indexOf(CR);
  if (cr !== -1 && (lf === -1 || cr < lf) && cr + 1 < head.length && head[cr + 1] !== LF) return 'lines that end in CR alone';
  return undefined;
}
