/** Creates the exporter's schema, only when asked (`--create-schema`). */
import { bloomFilterSchema, textIndexSchema, TEXT_INDEX_VERSION } from './exporter-ddl.js';
import { clickHouseError, type ClickHouseConnection } from './clickhouse-connection.js';

/** The exporter's tables, named as it names them by default. */
export const TRACES_TABLE = 'otel_traces';
export const TRACE_ID_TS_TABLE = 'otel_traces_trace_id_ts';
export const LOGS_TABLE = 'otel_logs';

/** Creates the database (unless `default`, as the exporter skips it) and the exporter's tables, as the server's version calls for. */
export async function createExporterSchema(connection: ClickHouseConnection): Promise<void> {
  const { client, database } = connection;
  try {
    if (database !== 'default') await client.command({ query: `CREATE DATABASE IF NOT EXISTS \`${database}\`` });
    const statements = supportsTextIndexes(connection.version) ? textIndexSchema(database) : bloomFilterSchema(database);
    for (const query of statements) await client.command({ query });
  } catch (error) {
    throw clickHouseError(connection.address, error);
  }
}

/** Whether the server takes the text-index DDL (>= 26.2), as the exporter decides. */
export function supportsTextIndexes(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > TEXT_INDEX_VERSION[0] || (major === TEXT_INDEX_VERSION[0] && minor >= TEXT_INDEX_VERSION[1]);
}

/** Fails, in one line, when the exporter's traces table is not there (a wrong database, a schema never created). */
export async function assertExporterSchema(connection: ClickHouseConnection): Promise<void> {
  try {
    const result = await connection.client.query({
      query: 'SELECT name FROM system.tables WHERE database = {database:String} AND name = {table:String}',
      query_params: { database: connection.database, table: TRACES_TABLE },
      format: 'JSONEachRow',
    });
    // The trace-id lookup table is not read (see clickhouse-analysis.ts), so a store without it is judged.
    if ((await result.json<{ name: string }>()).length === 0) {
      const databases = await connection.client.query({ query: 'SELECT count() AS n FROM system.databases WHERE name = {database:String}', query_params: { database: connection.database }, format: 'JSONEachRow' });
      const [{ n } = { n: '0' }] = await databases.json<{ n: string }>();
      throw Object.assign(new Error(`missing ${TRACES_TABLE}`), { code: Number(n) === 0 ? '81' : '60' });
    }
  } catch (error) {
    throw clickHouseError(connection.address, error);
  }
}
