/**
 * ClickHouse sources that cannot be read fail in one line naming the URL without its credentials,
 * exit code 2, no stack trace and no hang. No ClickHouse needed (the chdb suite is *.chdb.ts).
 */
import { describe, expect, it } from 'vitest';
import { parseClickHouseAddress } from '@stall-why/clickhouse';
import { runCli } from './cli-runner.js';

describe('ClickHouse inputs that cannot be read', () => {
  it('an unreachable server: one line naming the URL without the password, exit 2', async () => {
    const result = await runCli(['clickhouse://stall:s3cret@127.0.0.1:1/otel']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('stall-why: clickhouse://127.0.0.1:1/otel: connection refused (is ClickHouse listening there?)\n');
  });

  it('a bad URL and a database name that is not an identifier: one line, exit 2', async () => {
    const bad = await runCli(['clickhouse://']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    const db = await runCli(['clickhouse://u:pw@127.0.0.1:1/a;drop']);
    expect(db.code).toBe(2);
    expect(db.stderr).toBe("stall-why: clickhouse://127.0.0.1:1/a;drop: database name 'a;drop' is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)\n");
  });

  it('watch on a ClickHouse source it cannot open: one line naming it without credentials, exit 2', async () => {
    const result = await runCli(['watch', 'clickhouse://u:secret@127.0.0.1:1/otel']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('stall-why: clickhouse://127.0.0.1:1/otel: connection refused (is ClickHouse listening there?)\n');
  });

  it('collect --clickhouse to an unreachable server does not start: one line, exit 2', async () => {
    const result = await runCli(['collect', '--clickhouse', 'clickhouses://u:pw@127.0.0.1:1/otel', '--port', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('stall-why: clickhouses://127.0.0.1:1/otel: connection refused (is ClickHouse listening there?)\n');
  });
});

describe('parseClickHouseAddress', () => {
  it('takes credentials from the URL or the environment, TLS from clickhouses:// or ?secure=1, and never shows them', () => {
    expect(parseClickHouseAddress('clickhouse://ch:8123/otel', { CLICKHOUSE_USER: 'u', CLICKHOUSE_PASSWORD: 'p' })).toEqual({
      kind: 'server', url: 'http://ch:8123', database: 'otel', username: 'u', password: 'p', shown: 'clickhouse://ch:8123/otel',
    });
    expect(parseClickHouseAddress('clickhouse://a%40b:p%2Fw@ch/otel?secure=1', {})).toEqual({
      kind: 'server', url: 'https://ch:8443', database: 'otel', username: 'a@b', password: 'p/w', shown: 'clickhouses://ch:8443/otel',
    });
    expect(parseClickHouseAddress('clickhouses://ch', {})).toMatchObject({ url: 'https://ch:8443', database: 'default' });
    expect(parseClickHouseAddress('chdb:./store', {})).toEqual({ kind: 'embedded', directory: './store', database: 'otel', shown: 'chdb:./store' });
  });
});
