/**
 * A ClickHouse source judged again and again, each time as of the moment given: what `stall-why
 * watch clickhouse://…` draws and publishes as verdict metrics. The connection (for `chdb:`, the
 * engine) is opened once; each judgement runs the search over the window ending at its moment:
 * ended turns that failed or waited too long within `windowMs`, open turns from their markers.
 */
import type { Report, Thresholds } from '@stall-why/classifier';
import type { ClickHouseSource } from '@stall-why/clickhouse';

export interface ClickHouseJudgeOptions {
  readonly thresholds?: Partial<Thresholds>;
  /** Ended turns are searched among spans that started this long before each moment. */
  readonly windowMs: number;
}

export class ClickHouseJudge {
  private constructor(
    private readonly source: ClickHouseSource,
    private readonly options: ClickHouseJudgeOptions,
  ) {}

  /** Opens the source; rejects with a ClickHouseError or ClickHouseAddressError (one line) when it cannot. */
  static async open(url: string, options: ClickHouseJudgeOptions): Promise<ClickHouseJudge> {
    const { ClickHouseSource } = await import('@stall-why/clickhouse');
    return new ClickHouseJudge(await ClickHouseSource.open(url), options);
  }

  /** The address without credentials, for titles and messages. */
  get shown(): string {
    return this.source.shown;
  }

  async judge(now: number): Promise<Report> {
    return (await this.source.analyze({ now, sinceMs: this.options.windowMs, thresholds: this.options.thresholds })).report;
  }

  close(): Promise<void> {
    return this.source.close();
  }
}
