/** One `--upstream <host:port>=<origin>` mapping: where the proxy listens and where it forwards. */
export interface UpstreamRoute {
  /** Host to listen on. Default loopback (`127.0.0.1`) when the spec gives only a port. */
  readonly listenHost: string;
  /** Port to listen on; 0 picks a free one. */
  readonly listenPort: number;
  /** The model API's origin (`http:` or `https:`, no path); request paths are forwarded unchanged. */
  readonly origin: URL;
}

/**
 * Parses `127.0.0.1:8080=http://api.example:443`, `8080=https://api.openai.com` or
 * `[::1]:8080=...`. Throws an Error with a one-line message on a bad spec (the CLI turns it into
 * a usage error).
 */
export function parseUpstreamRoute(spec: string): UpstreamRoute {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new Error(`--upstream ${JSON.stringify(spec)}: expected <host:port>=<origin>, e.g. 127.0.0.1:8080=https://api.openai.com`);
  const listen = spec.slice(0, eq);
  const originText = spec.slice(eq + 1);
  let origin: URL;
  try {
    origin = new URL(originText);
  } catch {
    throw new Error(`--upstream ${JSON.stringify(spec)}: ${JSON.stringify(originText)} is not a URL`);
  }
  if (origin.protocol !== 'http:' && origin.protocol !== 'https:') {
    throw new Error(`--upstream ${JSON.stringify(spec)}: the origin must be http: or https:, not ${origin.protocol}`);
  }
  if (origin.pathname !== '/' || origin.search !== '') {
    throw new Error(`--upstream ${JSON.stringify(spec)}: give the origin without a path (${origin.origin}); request paths are forwarded unchanged`);
  }
  const colon = listen.lastIndexOf(':');
  const host = colon === -1 ? '127.0.0.1' : listen.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const portText = colon === -1 ? listen : listen.slice(colon + 1);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535 || host === '') {
    throw new Error(`--upstream ${JSON.stringify(spec)}: ${JSON.stringify(listen)} is not <host>:<port>`);
  }
  return { listenHost: host, listenPort: port, origin };
}
