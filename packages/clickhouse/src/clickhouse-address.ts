/**
 * Where a ClickHouse source or sink is: `clickhouse://[user[:password]@]host[:8123]/<database>`,
 * `clickhouses://…` (TLS, default port 8443; `?secure=1` does the same), or `chdb:<dir>` (embedded
 * ClickHouse in this process). Credentials come from the URL or CLICKHOUSE_USER / CLICKHOUSE_PASSWORD
 * and are kept out of `shown`, the form every message prints.
 */

/** The exporter's default database (`database` unset in the Collector config) for a server. */
export const DEFAULT_SERVER_DATABASE = 'default';
/** The database an embedded store uses unless `?database=` says otherwise: the one the README's Collector config names. */
export const DEFAULT_EMBEDDED_DATABASE = 'otel';

export interface ServerAddress {
  readonly kind: 'server';
  /** `http(s)://host:port`, no credentials. */
  readonly url: string;
  readonly database: string;
  readonly username?: string;
  readonly password?: string;
  /** The address as messages print it: no credentials. */
  readonly shown: string;
}

export interface EmbeddedAddress {
  readonly kind: 'embedded';
  /** The chdb data directory. */
  readonly directory: string;
  readonly database: string;
  readonly shown: string;
}

export type ClickHouseAddress = ServerAddress | EmbeddedAddress;

/** Thrown for an address that is not a ClickHouse URL stall-why reads; the message is one line naming it without credentials. */
export class ClickHouseAddressError extends Error {}

const SERVER_PROTOCOLS: Readonly<Record<string, { scheme: 'http' | 'https'; port: string }>> = {
  'clickhouse:': { scheme: 'http', port: '8123' },
  'clickhouses:': { scheme: 'https', port: '8443' },
};

/** Whether a command-line input names a ClickHouse source rather than a file. */
export function isClickHouseAddress(input: string): boolean {
  return /^(clickhouses?:\/\/|chdb:)/i.test(input);
}

/** Parses a ClickHouse address; `env` supplies CLICKHOUSE_USER / CLICKHOUSE_PASSWORD when the URL has none. */
export function parseClickHouseAddress(input: string, env: NodeJS.ProcessEnv = process.env): ClickHouseAddress {
  if (/^chdb:/i.test(input)) return embeddedAddress(input);
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new ClickHouseAddressError(`${withoutCredentials(input)}: not a URL (expected clickhouse://[user[:password]@]host:8123/<database> or chdb:<dir>)`);
  }
  const protocol = SERVER_PROTOCOLS[url.protocol.toLowerCase()];
  if (!protocol || !url.hostname) throw new ClickHouseAddressError(`${withoutCredentials(input)}: expected clickhouse://[user[:password]@]host:8123/<database>, clickhouses://… or chdb:<dir>`);
  const secure = protocol.scheme === 'https' || url.searchParams.get('secure') === '1' || url.searchParams.get('secure') === 'true';
  const scheme = secure ? 'https' : 'http';
  const port = url.port || (secure ? SERVER_PROTOCOLS['clickhouses:']!.port : protocol.port);
  const database = databaseOf(url.pathname, input) ?? DEFAULT_SERVER_DATABASE;
  const username = url.username ? decodeURIComponent(url.username) : env.CLICKHOUSE_USER || undefined;
  const password = url.password ? decodeURIComponent(url.password) : env.CLICKHOUSE_PASSWORD || undefined;
  const shown = `${secure ? 'clickhouses' : 'clickhouse'}://${url.hostname}:${port}/${database}`;
  return { kind: 'server', url: `${scheme}://${url.hostname}:${port}`, database, username, password, shown };
}

function embeddedAddress(input: string): EmbeddedAddress {
  const rest = input.slice('chdb:'.length);
  const [directory, query] = rest.split('?', 2) as [string, string | undefined];
  if (directory === '') throw new ClickHouseAddressError(`${input}: expected chdb:<directory>, e.g. chdb:./store`);
  const database = new URLSearchParams(query ?? '').get('database') ?? DEFAULT_EMBEDDED_DATABASE;
  assertIdentifier(database, input);
  return { kind: 'embedded', directory, database, shown: `chdb:${directory}${database === DEFAULT_EMBEDDED_DATABASE ? '' : `?database=${database}`}` };
}

function databaseOf(pathname: string, input: string): string | undefined {
  const name = decodeURIComponent(pathname.replace(/^\/+|\/+$/g, ''));
  if (name === '') return undefined;
  assertIdentifier(name, input);
  return name;
}

/** Database names are spliced into SQL as identifiers, so only plain ones are accepted. */
function assertIdentifier(name: string, input: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ClickHouseAddressError(`${withoutCredentials(input)}: database name '${name}' is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)`);
}

/** The input with any `user:password@` taken out, for messages about an address that did not parse. */
export function withoutCredentials(input: string): string {
  return input.replace(/^([a-z]+:\/\/)[^@/]*@/i, '$1');
}
