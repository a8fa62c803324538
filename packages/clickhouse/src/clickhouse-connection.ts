/**
 * Opens a ClickHouse address with the official `@clickhouse/client`: over HTTP(S) for a server, or
 * in this process through chdb's `createChdbConnection` for `chdb:<dir>`. chdb (~550 MB) is not a
 * dependency: it is loaded only when a `chdb:` address is used, and its absence is said in one line.
 * Every failure becomes a ClickHouseError: one line naming the address without credentials.
 */
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import type { ClickHouseAddress } from './clickhouse-address.js';

/** The chdb release this package is tested with (installed by .ci/run's ClickHouse step). */
export const CHDB_VERSION = '3.4.0';

export interface ConnectOptions {
  /** A request (query, insert, DDL) that takes longer fails. Default 30 000 ms. */
  readonly requestTimeoutMs?: number;
}

/** Default `requestTimeoutMs`: 30 s, so an unreachable or stalled server never hangs the CLI. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** A ClickHouse failure, said in one line that names the address (never its credentials). */
export class ClickHouseError extends Error {
  constructor(readonly shown: string, readonly reason: string) {
    super(`${shown}: ${reason}`);
  }
}

/** An open connection: the client, the database, and the server's version. */
export interface ClickHouseConnection {
  readonly client: ClickHouseClient;
  readonly address: ClickHouseAddress;
  readonly database: string;
  /** `SELECT version()`, e.g. `26.7.2.1`. */
  readonly version: string;
  close(): Promise<void>;
}

/** Opens the address and asks its version, so an unreachable server or a locked directory fails here, in one line. */
export async function connectClickHouse(address: ClickHouseAddress, options: ConnectOptions = {}): Promise<ClickHouseConnection> {
  const client = address.kind === 'server' ? serverClient(address, options) : await embeddedClient(address);
  try {
    const result = await client.query({ query: 'SELECT version() AS version', format: 'JSONEachRow' });
    const [row] = await result.json<{ version: string }>();
    return { client, address, database: address.database, version: row?.version ?? '', close: () => client.close() };
  } catch (error) {
    await client.close().catch(() => undefined);
    throw clickHouseError(address, error);
  }
}

function serverClient(address: Extract<ClickHouseAddress, { kind: 'server' }>, options: ConnectOptions): ClickHouseClient {
  return createClient({
    url: address.url,
    username: address.username,
    password: address.password,
    request_timeout: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    application: 'stall-why',
    // Its own error log prints the request and a stack; stall-why says what failed in one line instead.
    log: { level: ClickHouseLogLevel.OFF },
    // The exporter's default: the server batches many small inserts into one part.
    clickhouse_settings: { async_insert: 1, wait_for_async_insert: 1 },
  });
}

interface ChdbConnectionModule {
  createChdbConnection(options: { path: string }): unknown;
}

async function embeddedClient(address: Extract<ClickHouseAddress, { kind: 'embedded' }>): Promise<ClickHouseClient> {
  let chdb: ChdbConnectionModule;
  // A variable, not a literal: chdb is not a dependency, so the compiler must not look for it.
  const specifier = 'chdb/connection';
  try {
    chdb = (await import(specifier)) as ChdbConnectionModule;
  } catch {
    throw new ClickHouseError(address.shown, `embedded ClickHouse is not installed: run \`npm install chdb@${CHDB_VERSION}\` (about 550 MB) where stall-why is installed, or use a clickhouse:// server`);
  }
  try {
    // `connection` is the hook chdb documents for @clickhouse/client >= 1.23; its types are chdb's own.
    return createClient({ connection: chdb.createChdbConnection({ path: address.directory }), log: { level: ClickHouseLogLevel.OFF } } as Parameters<typeof createClient>[0]);
  } catch (error) {
    throw clickHouseError(address, error);
  }
}

/** ClickHouse error codes stall-why names in words. */
const REASONS: Readonly<Record<string, (address: ClickHouseAddress) => string>> = {
  // UNKNOWN_DATABASE
  '81': (a) => `no database '${a.database}' (create the exporter's schema: stall-why collect --clickhouse <url> --create-schema, or the Collector's create_schema: true)`,
  // UNKNOWN_TABLE
  '60': (a) => `the exporter's tables are missing in database '${a.database}' (create them: stall-why collect --clickhouse <url> --create-schema, or the Collector's create_schema: true)`,
  // CANNOT_OPEN_FILE / lock held by another process (chdb's "Cannot lock file …/status")
  '76': () => 'the directory is in use by another process (one process owns a chdb directory at a time: stop the stall-why collect that writes it, then judge it)',
  // AUTHENTICATION_FAILED, REQUIRED_PASSWORD
  '516': () => 'authentication failed (user and password from the URL, or CLICKHOUSE_USER / CLICKHOUSE_PASSWORD)',
  '194': () => 'a password is required (in the URL, or CLICKHOUSE_PASSWORD)',
};

/** Network failures, by errno code. */
const NETWORK_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused (is ClickHouse listening there?)',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'host name lookup failed',
  ECONNRESET: 'connection reset by the server',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
};

/** Any failure as a ClickHouseError naming the address. */
export function clickHouseError(address: ClickHouseAddress, error: unknown): ClickHouseError {
  if (error instanceof ClickHouseError) return error;
  const e = error as { code?: unknown; message?: unknown; cause?: { code?: unknown } };
  const code = typeof e.code === 'string' ? e.code : typeof e.code === 'number' ? String(e.code) : undefined;
  const message = typeof e.message === 'string' ? e.message : String(error);
  // chdb 3.4 reports a directory locked by another process only as "Failed to create connection" (the engine prints Code 76 itself).
  const locked = address.kind === 'embedded' && /Failed to create connection/.test(message) ? '76' : undefined;
  const chCode = locked ?? (code && /^\d+$/.test(code) ? code : /Code: (\d+)/.exec(message)?.[1]);
  if (chCode && REASONS[chCode]) return new ClickHouseError(address.shown, REASONS[chCode](address));
  const errno = typeof e.cause?.code === 'string' ? e.cause.code : code;
  if (errno && NETWORK_REASONS[errno]) return new ClickHouseError(address.shown, NETWORK_REASONS[errno]);
  if (/timeout/i.test(message)) return new ClickHouseError(address.shown, `no answer in time (${message.split('\n')[0]})`);
  return new ClickHouseError(address.shown, firstLine(message));
}

/** The first line of a server message, without a stack trace or a query echo. */
function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/\s*\(version [^)]*\)\s*$/, '').slice(0, 300);
}
