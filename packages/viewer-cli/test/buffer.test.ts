import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { decodeOtlpTraceRequest, FlightRecorderProcessor } from '@stall-why/instrument';

const CLI = resolve(import.meta.dirname, '../bin/stall-why.js');
const roots: string[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

/**
 * A recorder directory with three ended spans and one still open, as a running process (or one that
 * died without shutting down) leaves it: a recorder shut down with a span open would add its stop record.
 */
async function recordSome(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'sw-buffer-'));
  roots.push(root);
  const directory = join(root, 'flight');
  const recorder = new FlightRecorderProcessor({ directory });
  const provider = new BasicTracerProvider({ spanProcessors: [recorder] });
  const tracer = provider.getTracer('t');
  const open = tracer.startSpan('stuck-turn', { startTime: 1_700_000_000_000 });
  for (let i = 0; i < 3; i++) tracer.startSpan(`phase-${i}`, { startTime: 1_700_000_001_000 + i }).end(1_700_000_002_000 + i);
  await recorder.forceFlush();
  void open; // left open on purpose: the recorder shows it as open
  return directory;
}

/** The test's own OTLP/HTTP receiver: answers `status`, keeps the span names it decoded. */
async function receiver(status: number): Promise<{ url: string; names: string[] }> {
  const names: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (status === 200) names.push(...decodeOtlpTraceRequest(Buffer.concat(chunks), req.headers['content-type'] ?? '').spans.map((s) => s.name));
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, names };
}

describe('stall-why buffer', () => {
  it('--json prints one object with the documented keys and their values', async () => {
    const dir = await recordSome();
    const r = await run(['buffer', dir, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const stats = JSON.parse(r.stdout);
    const bytes = readdirSync(dir).filter((n) => n.endsWith('.swfr')).reduce((s, n) => s + statSync(join(dir, n)).size, 0);
    expect(stats).toMatchObject({
      spans: 4, openSpans: 1, bytes, segments: 1, corruptRecords: 0, uploadBacklog: 3,
      oldestMs: 1_700_000_000_000, newestMs: 1_700_000_002_002, startRecords: 1, endRecords: 3, writerPids: [process.pid],
    });
    expect(Object.keys(stats)).toEqual(expect.arrayContaining(['spans', 'openSpans', 'bytes', 'segments', 'corruptRecords', 'uploadBacklog', 'oldestMs', 'newestMs']));
  });

  it('counts a flipped byte as a corrupt record and leaves that span out', async () => {
    const dir = await recordSome();
    const [name] = readdirSync(dir).filter((n) => n.endsWith('.swfr'));
    const path = join(dir, name);
    const bytes = Buffer.alloc(statSync(path).size);
    const fd = openSync(path, 'r+');
    readSync(fd, bytes, 0, bytes.length, 0);
    const at = bytes.indexOf('phase-1') + 2;
    writeSync(fd, Buffer.from([bytes[at] ^ 0x20]), 0, 1, at);
    closeSync(fd);
    const stats = JSON.parse((await run(['buffer', dir, '--json'])).stdout);
    expect(stats).toMatchObject({ spans: 3, corruptRecords: 1, uploadBacklog: 2 });
  });

  it('prints a summary for people', async () => {
    const dir = await recordSome();
    const r = await run(['buffer', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('spans     4 (1 open)');
    expect(r.stdout).toContain('backlog   3 ended spans not yet uploaded');
    expect(r.stdout).toContain('oldest    2023-11-14T22:13:20.000Z');
  });

  it('--replay uploads the backlog to an OTLP/HTTP endpoint, once', async () => {
    const dir = await recordSome();
    const otlp = await receiver(200);
    const r = await run(['buffer', dir, '--replay', otlp.url, '--json']);
    expect(r.code).toBe(0);
    expect(otlp.names.sort()).toEqual(['phase-0', 'phase-1', 'phase-2']);
    expect(JSON.parse(r.stdout)).toMatchObject({ uploadBacklog: 0, replay: { uploadedSpans: 3, caughtUp: true, permanentFailures: 0 } });
    const again = await run(['buffer', dir, '--replay', otlp.url, '--json']);
    expect(JSON.parse(again.stdout).replay.uploadedSpans).toBe(0);
    expect(otlp.names).toHaveLength(3);
  });

  it('--replay reports a refused batch (400) and an unreachable endpoint with exit 2', async () => {
    const dir = await recordSome();
    const refusing = await receiver(400);
    const refused = await run(['buffer', dir, '--replay', refusing.url, '--json']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/refused 3 spans for good \(HTTP 400/);
    expect(JSON.parse(refused.stdout)).toMatchObject({ uploadBacklog: 0, spans: 4, replay: { permanentFailures: 1, droppedSpans: 3 } });

    const dir2 = await recordSome();
    const closed = await receiver(200);
    await new Promise((r) => servers.pop()!.close(r));
    const down = await run(['buffer', dir2, '--replay', closed.url, '--max-retries', '0', '--timeout', '300']);
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/^stall-why: could not upload to .*ECONNREFUSED|retryable/);
    expect(down.stdout).toContain('backlog   3 ended spans');
  });

  it('--replay to a refused port says what it does and gives up after --timeout', async () => {
    const dir = await recordSome();
    const closed = await receiver(200);
    await new Promise((r) => servers.pop()!.close(r));
    const started = Date.now();
    const down = await run(['buffer', dir, '--replay', closed.url, '--timeout', '4s', '--export-timeout', '300', '--max-retries', '100']);
    const tookMs = Date.now() - started;
    expect(down.code).toBe(2);
    expect(tookMs).toBeLessThan(12_000);
    const lines = down.stderr.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toMatch(/^stall-why: could not upload to http:\/\/127\.0\.0\.1:\d+\/v1\/traces \(.*ECONNREFUSED.*\); trying again in \S+ \(failure 1; giving up after 4\.0s without an upload, --timeout\)$/);
    expect(lines.at(-1)).toMatch(/^stall-why: could not upload to .*; the rest stays in the backlog$/);
    expect(down.stdout).toContain('backlog   3 ended spans');
    const help = await run(['buffer', '--help']);
    expect(help.stdout).toMatch(/--timeout <duration>\s+--replay gives up when nothing could be uploaded for\s+this long \(default 30s\)\n/);
  });

  it('gives one line and exit 2 for a missing path, a file, or a directory without segments', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sw-buffer-'));
    roots.push(root);
    writeFileSync(join(root, 'notes.txt'), 'hello');
    mkdirSync(join(root, 'empty'));
    for (const [path, message] of [
      [join(root, 'missing'), 'no such directory'],
      [join(root, 'notes.txt'), 'not a directory'],
      [join(root, 'empty'), 'not a flight-recorder directory'],
    ]) {
      const r = await run(['buffer', path]);
      expect(r.code).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0].startsWith(`stall-why: ${path}: ${message}`)).toBe(true);
      expect(r.stdout).toBe('');
    }
  });
});
