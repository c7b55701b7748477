/**
 * The `rel="next"` target of an RFC 8288 `Link` header, resolved against the
 * URL of the response that carried it; undefined when there is none.
 */
export function nextLink(header: string | null | undefined, base: string): string | undefined {
  if (!header) return undefined;
  // link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param ); values are comma-separated,
  // and a comma may also appear inside <…> or a quoted string, so scan rather than split.
  const re = /<([^>]*)>((?:\s*;\s*[^;,=\s]+\s*(?:=\s*(?:"[^"]*"|[^;,\s]*))?)*)/g;
  for (const m of header.matchAll(re)) {
    const target = m[1] ?? '';
    const params = m[2] ?? '';
    for (const p of params.matchAll(/;\s*([^;,=\s]+)\s*(?:=\s*(?:"([^"]*)"|([^;,\s]*)))?/g)) {
      if ((p[1] ?? '').toLowerCase() !== 'rel') continue;
      const rels = (p[2] ?? p[3] ?? '').toLowerCase().split(/\s+/);
      if (rels.includes('next')) return new URL(target, base).href;
    }
  }
  return undefined;
}
