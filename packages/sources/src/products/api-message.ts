const MAX_MESSAGE = 200;

/**
 * The API's own explanation in an error body, on one line: `error`,
 * `message`, `error.message`, `detail` or `title` of a JSON body, else the
 * start of the text. Empty when the body says nothing.
 */
export function apiMessage(body: Uint8Array): string {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8').trim();
  if (text === '') return '';
  let found: unknown;
  try {
    const json: unknown = JSON.parse(text);
    if (typeof json === 'string') found = json;
    else if (json && typeof json === 'object') {
      const o = json as Record<string, unknown>;
      const nested = o.error && typeof o.error === 'object' ? (o.error as Record<string, unknown>).message : undefined;
      found = [o.error, o.message, nested, o.detail, o.title].find((v) => typeof v === 'string' && v !== '');
    }
  } catch {
    found = text.replace(/<[^>]*>/g, ' ');
  }
  const line = (typeof found === 'string' ? found : text).replace(/\s+/g, ' ').trim();
  return line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE - 3)}...` : line;
}
