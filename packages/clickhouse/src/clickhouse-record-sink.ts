/**
 * Writes received spans (pending-span markers included, as they are) and log records into the
 * exporter's tables, laid out as the Collector's clickhouseexporter writes them, so stores filled by
 * `stall-why collect` and by a Collector can be mixed. A store resolves only once ClickHouse has
 * acknowledged the insert (`wait_for_async_insert`), which is what lets the receiver answer 200.
 */
import type { RecordedLog, RecordedSpan } from '@stall-why/flight-record';
import { clickHouseError, type ClickHouseConnection } from './clickhouse-connection.js';
import { LOGS_TABLE, TRACES_TABLE } from './clickhouse-schema.js';
import { logRowOf, traceRowOf } from './exporter-rows.js';

export interface ClickHouseRecordSinkOptions {
  /** Rows per INSERT; a larger request is split. Default 10 000. */
  readonly batchRows?: number;
}

/** Default `batchRows`: 10 000 rows per INSERT (about 10 MB of JSON for agent spans). */
export const DEFAULT_BATCH_ROWS = 10_000;

/** Rows whose times are ISO-8601 with a zone: read in UTC whatever the server's time zone. */
const INSERT_SETTINGS = { date_time_input_format: 'best_effort', async_insert: 1, wait_for_async_insert: 1 } as const;

export class ClickHouseRecordSink {
  private readonly batchRows: number;
  private readonly counters = { spans: 0, logRecords: 0, inserts: 0 };

  constructor(private readonly connection: ClickHouseConnection, options: ClickHouseRecordSinkOptions = {}) {
    this.batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  }

  /** Inserts the spans into `otel_traces`; rejects with a ClickHouseError when ClickHouse does not take them. */
  async storeSpans(spans: readonly RecordedSpan[]): Promise<void> {
    await this.insert(TRACES_TABLE, spans.map(traceRowOf));
    this.counters.spans += spans.length;
  }

  /** Inserts the log records into `otel_logs`. */
  async storeLogs(logs: readonly RecordedLog[]): Promise<void> {
    await this.insert(LOGS_TABLE, logs.map(logRowOf));
    this.counters.logRecords += logs.length;
  }

  stats(): { spans: number; logRecords: number; inserts: number } {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  private async insert(table: string, rows: readonly object[]): Promise<void> {
    for (let i = 0; i < rows.length; i += this.batchRows) {
      try {
        await this.connection.client.insert({
          table: `${this.connection.database}.${table}`,
          values: rows.slice(i, i + this.batchRows),
          format: 'JSONEachRow',
          clickhouse_settings: INSERT_SETTINGS,
        });
      } catch (error) {
        throw clickHouseError(this.connection.address, error);
      }
      this.counters.inserts++;
    }
  }
}
