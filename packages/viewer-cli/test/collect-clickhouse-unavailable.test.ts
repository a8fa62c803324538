/**
 * `collect --clickhouse` while ClickHouse refuses the insert: the sender is answered 503 with
 * Retry-After (so it keeps the batch), and 200 with the same batch once ClickHouse takes it. The
 * ClickHouse is a loopback HTTP server answering what @clickhouse/client 1.23 asks (the version, the
 * exporter's tables, then the inserts), with a server error as ClickHouse 26.7 sends one.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startCollectWith } from './collect-runner.js';

interface SeenInsert {
  readonly query: string;
  readonly body: string;
}

/** A ClickHouse HTTP endpoint with the exporter's tables that fails inserts while `refusing`. */
class FakeClickHouse {
  refusing = true;
  readonly inserts: SeenInsert[] = [];

  private constructor(private readonly server: Server, readonly url: string) {}

  static async start(): Promise<FakeClickHouse> {
    let fake: FakeClickHouse | undefined;
    const server = createServer((req, res) => {
      void readBody(req).then((body) => fake!.answer(new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? body, body, res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake = new FakeClickHouse(server, `clickhouse://127.0.0.1:${(server.address() as AddressInfo).port}/otel`);
    return fake;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private answer(query: string, body: string, res: import('node:http').ServerResponse): void {
    const rows = (...lines: object[]) => res.writeHead(200, { 'content-type': 'text/plain; charset=UTF-8', 'x-clickhouse-format': 'JSONEachRow' }).end(lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
    if (/version\(\)/.test(query)) return rows({ version: '26.7.2.1' });
    if (/system\.tables/.test(query)) return rows({ name: 'otel_traces' }, { name: 'otel_traces_trace_id_ts' });
    if (/^INSERT INTO/i.test(query)) {
      this.inserts.push({ query, body });
      if (!this.refusing) return void res.writeHead(200).end();
      res.writeHead(500, { 'x-clickhouse-exception-code': '241' }).end('Code: 241. DB::Exception: (total) memory limit exceeded: would use 3.52 GiB. (MEMORY_LIMIT_EXCEEDED) (version 26.7.2.1)\n');
      return;
    }
    res.writeHead(400).end(`Code: 62. DB::Exception: unexpected query in this test: ${query.slice(0, 80)}\n`);
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const SPAN_ID = '00f067aa0ba902b7';
const request = JSON.stringify({
  resourceSpans: [{
    resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }] },
    scopeSpans: [{
      spans: [{
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: SPAN_ID, name: 'stall_why.turn', kind: 1,
        startTimeUnixNano: '1795582187855000000', endTimeUnixNano: '1795582188026000000',
        attributes: [{ key: 'stall_why.turn.id', value: { stringValue: 'turn-1' } }],
      }],
    }],
  }],
});

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

describe('collect --clickhouse while ClickHouse refuses inserts', () => {
  it('answers 503 with Retry-After, then 200 for the same batch once ClickHouse takes it, and counts the 503', async () => {
    const clickhouse = await FakeClickHouse.start();
    const { child, url } = await startCollectWith(['--clickhouse', clickhouse.url, '--port', '0']);
    const exited = new Promise<{ stderr: string }>((resolve) => {
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', () => resolve({ stderr }));
    });
    cleanup = async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await clickhouse.close();
    };
    const post = () => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: request });

    const refused = await post();
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.text()).toContain('cannot store the records; retry later');
    expect(clickhouse.inserts).toHaveLength(1);
    expect(clickhouse.inserts[0]!.query).toMatch(/^INSERT INTO otel\.otel_traces/);

    clickhouse.refusing = false;
    const taken = await post();
    expect(taken.status).toBe(200);
    expect(clickhouse.inserts).toHaveLength(2);
    const row = JSON.parse(clickhouse.inserts[1]!.body.trim()) as { SpanId: string; ServiceName: string; SpanName: string };
    expect(row).toMatchObject({ SpanId: SPAN_ID, ServiceName: 'checkout', SpanName: 'stall_why.turn' });

    child.kill('SIGTERM');
    const { stderr } = await exited;
    expect(stderr).toContain('1 spans and 0 log records in 2 requests; 0 bad, 1 answered 503');
  });
});
