/** What a reverse proxy forwards of a request's and a response's headers, and where it sends them. */
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';

/** Headers of one hop that a proxy must not forward (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-authorization', 'proxy-authenticate']);

/** A header's first value, at most 200 characters (for ids and retry delays, never recorded whole). */
export function headerText(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return text ? text.slice(0, 200) : undefined;
}

/** The request's headers for the origin: hop-by-hop ones dropped, `host` the origin's. */
export function forwardedHeaders(req: IncomingMessage, host: string): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
  }
  headers.host = host;
  return headers;
}

/** The response's raw headers for the client (names and values in their order and case), hop-by-hop ones dropped. */
export function forwardedRawHeaders(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!HOP_BY_HOP.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1]);
  }
  return out;
}

/** The origin's port, its scheme's default when the URL names none. */
export function originPort(origin: URL): number {
  return origin.port ? Number(origin.port) : origin.protocol === 'https:' ? 443 : 80;
}
