import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SOURCE,
  ATTR_THREAD_ID,
  ATTR_TURN_ID,
  ATTR_UPSTREAM_ATTEMPT,
  ATTR_UPSTREAM_CONTINUATION,
  ATTR_UPSTREAM_EVENTS,
  ATTR_URL_PATH,
  PHASE_CONTINUATION_REQUESTED,
  PHASE_UPSTREAM_ATTEMPT,
  PHASE_UPSTREAM_FIRST_EVENT,
  PHASE_UPSTREAM_HEADERS,
  PHASE_UPSTREAM_REQUEST_SENT,
  PHASE_UPSTREAM_RETRY,
  PHASE_UPSTREAM_STREAM_END,
  PHASE_UPSTREAM_STREAM_PROGRESS,
  PHASE_UPSTREAM_STREAM_ERROR,
  SOURCE_UPSTREAM_PROXY,
} from '@stall-why/conventions';
import { readFlightRecords, type RecordedSpan } from '@stall-why/flight-record';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './cli-runner.js';

// The upstream proxy of `stall-why record`, run by the built CLI around `cat` (which keeps it alive
// while the test talks to the proxy), in front of a real loopback origin.
const CLI = join(import.meta.dirname, '..', 'bin', 'stall-why.js');
const SECRET = 'sk-test-secret-must-not-be-recorded';
const BIG_DOWNLOAD = 8 * 1024 * 1024;

let origin: Server;
let originUrl: string;
let proxyPort: number;
let record: ChildProcessWithoutNullStreams;
let recordStderr = '';
let outDir: string;
const seenAuthorization: string[] = [];
const dropped = new Set<string>();
let sseRelease: () => void = () => undefined;
let silentRelease: () => void = () => undefined;
let slowStreamClosed: Promise<void>;
let markSlowStreamClosed: () => void = () => undefined;

function originHandler(req: IncomingMessage, res: ServerResponse): void {
  seenAuthorization.push(String(req.headers.authorization));
  const url = req.url ?? '';
  if (url === '/v1/echo') {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-origin': 'yes' });
    req.pipe(res);
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString();
    if (url === '/v1/big') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let sent = 0;
      const more = (): void => {
        while (sent < BIG_DOWNLOAD) {
          const piece = Buffer.alloc(100_003, sent % 251);
          sent += piece.length;
          if (!res.write(piece)) {
            res.once('drain', more);
            return;
          }
        }
        res.end();
      };
      more();
    } else if (url === '/v1/responses' && body.includes('"drop-before-headers"') && !dropped.has(body)) {
      // Dropped once; the retry of the same body is answered.
      dropped.add(body);
      req.socket.destroy();
    } else if (url === '/v1/responses' && body.includes('"hold-first-event"')) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: a\ndata: {"type":"a"}\n\n');
      sseRelease = () => res.end('event: b\ndata: {"type":"b"}\r\n\r\nevent: c\ndata: {"type":"c"}\n\n');
    } else if (url === '/v1/responses' && body.includes('"silent-after-headers"')) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-origin': 'silent' });
      res.flushHeaders();
      silentRelease = () => res.end('data: {"type":"response.completed"}\n\n');
    } else if (url === '/v1/responses' && body.includes('"split-completion"')) {
      // The completion event cut in two writes, then the stream stays open: the client hangs up after it.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"type":"response.comp');
      setTimeout(() => res.write('leted"}\n\n'), 80);
    } else if (url === '/v1/responses' && body.includes('"trickle"')) {
      // A long answer: an event every 250 ms for 7 s, then its completion.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let n = 0;
      const timer = setInterval(() => {
        if (++n < 28) res.write('data: {"type":"response.output_text.delta"}\n\n');
        else {
          clearInterval(timer);
          res.end('data: {"type":"response.completed"}\n\n');
        }
      }, 250);
      res.once('close', () => clearInterval(timer));
    } else if (url === '/v1/responses' && body.includes('"slow-forever"')) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"type":"x"}\n\n');
      const timer = setInterval(() => res.write(': keep-alive\n\n'), 100);
      res.once('close', () => {
        clearInterval(timer);
        markSlowStreamClosed();
      });
    } else {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('data: {"type":"response.completed"}\n\n');
    }
  });
}

/** Polls `check` until it holds; fails the test after 5 s saying what it waited for. */
async function until(check: () => Promise<boolean>, what = 'the aborted attempt in the recording'): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

function call(path: string, body: Buffer | string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxyPort, method: 'POST', path, headers: { authorization: `Bearer ${SECRET}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const turnHeaders = (turnId: string) => ({ 'thread-id': 'thread-A', 'x-codex-turn-metadata': JSON.stringify({ thread_id: 'thread-A', turn_id: turnId }) });
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  origin = createServer(originHandler);
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  proxyPort = await freePort();
  outDir = mkdtempSync(join(tmpdir(), 'stall-why-upstream-'));
  slowStreamClosed = new Promise((r) => (markSlowStreamClosed = r));
  record = spawn(process.execPath, [CLI, 'record', '--out', outDir, '--upstream', `127.0.0.1:${proxyPort}=${originUrl}`, '--', 'cat'], { stdio: 'pipe' });
  record.stderr.on('data', (c: Buffer) => (recordStderr += c));
  const deadline = Date.now() + 10_000;
  while (!recordStderr.includes('proxying')) {
    if (Date.now() > deadline) throw new Error(`record did not start: ${recordStderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
});

afterAll(async () => {
  record.kill('SIGKILL');
  await new Promise<void>((r) => origin.close(() => r()));
  origin.closeAllConnections();
  rmSync(outDir, { recursive: true, force: true });
});

describe('stall-why record --upstream', () => {
  it('passes a large request body and a large response through unchanged, credentials and headers included', async () => {
    const upload = randomBytes(6 * 1024 * 1024);
    const echoed = await call('/v1/echo', upload);
    expect(echoed.status).toBe(200);
    expect(echoed.headers['x-origin']).toBe('yes');
    expect(sha(echoed.body)).toBe(sha(upload));
    const big = await call('/v1/big', '{}');
    expect(big.body.length).toBe(BIG_DOWNLOAD + (100_003 - (BIG_DOWNLOAD % 100_003)) % 100_003);
    expect(big.body[100_003]).toBe(100_003 % 251);
    expect(seenAuthorization).toContain(`Bearer ${SECRET}`);
  });

  it('streams server-sent events without buffering them', async () => {
    const got = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: proxyPort, method: 'POST', path: '/v1/responses', headers: turnHeaders('turn-sse') }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
          // The origin holds the rest back until the first event has reached the client.
          if (text.includes('"a"')) sseRelease();
        });
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end('{"input":"hold-first-event"}');
    });
    expect(got).toBe('event: a\ndata: {"type":"a"}\n\nevent: b\ndata: {"type":"b"}\r\n\r\nevent: c\ndata: {"type":"c"}\n\n');
  });

  it('passes on the headers of a stream that stays silent after them, before any byte of its body', async () => {
    const got = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: proxyPort, method: 'POST', path: '/v1/responses', headers: turnHeaders('turn-silent') }, (res) => {
        // Only now may the origin send its body: the headers came through on their own.
        expect(res.headers['x-origin']).toBe('silent');
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(text));
        silentRelease();
      });
      req.on('error', reject);
      req.end('{"input":"silent-after-headers"}');
    });
    expect(got).toBe('data: {"type":"response.completed"}\n\n');
  });

  it('numbers a repeated request as a retry and marks the tool-result request as the continuation', async () => {
    const body = '{"input":[{"type":"message","content":"drop-before-headers"}]}';
    await expect(call('/v1/responses', body, turnHeaders('turn-retry'))).rejects.toThrow();
    expect((await call('/v1/responses', body, turnHeaders('turn-retry'))).status).toBe(200);
    const continuation = await call('/v1/responses', '{"input":[{"type":"function_call_output","call_id":"c1","output":"ok"}]}', turnHeaders('turn-retry'));
    expect(continuation.status).toBe(200);
  });

  it('finds a tool result and a completion event that arrive cut across chunks', async () => {
    expect((await call('/v1/responses', '{"input":"first request of the turn"}', turnHeaders('turn-split'))).status).toBe(200);
    // The marker `function_call_output` in three writes, the middle one shorter than the marker.
    const pieces = ['{"input":[{"type":"function_c', 'all_ou', 'tput","call_id":"c1","output":"ok"}]}'];
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: proxyPort, method: 'POST', path: '/v1/responses', headers: { ...turnHeaders('turn-split'), 'content-length': String(pieces.join('').length) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.setNoDelay(true);
      req.on('error', reject);
      const next = (i: number): void => {
        if (i === pieces.length) return void req.end();
        req.write(pieces[i]);
        setTimeout(() => next(i + 1), 80);
      };
      next(0);
    });
    expect(status).toBe(200);
    // The same bytes again in one chunk: the same fingerprint however the body was cut, so a resend.
    expect((await call('/v1/responses', pieces.join(''), turnHeaders('turn-split'))).status).toBe(200);
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: proxyPort, method: 'POST', path: '/v1/responses', headers: turnHeaders('turn-split-completion') }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c;
          if (!text.includes('leted"}')) return;
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
      req.once('error', reject);
      req.end('{"input":"split-completion"}');
    });
    const attemptsOf = async (turnId: string): Promise<RecordedSpan[]> => {
      const out: RecordedSpan[] = [];
      for await (const rec of readFlightRecords(outDir)) {
        if (rec.type === 'end' && rec.span.name === PHASE_UPSTREAM_ATTEMPT && rec.span.attributes[ATTR_TURN_ID] === turnId) out.push(rec.span);
      }
      return out.sort((a, b) => a.startTimeMs - b.startTimeMs);
    };
    await until(async () => (await attemptsOf('turn-split')).length === 3 && (await attemptsOf('turn-split-completion')).length === 1, 'the attempts of the split requests');
    expect((await attemptsOf('turn-split')).map((a) => [a.attributes[ATTR_UPSTREAM_ATTEMPT], a.attributes[ATTR_UPSTREAM_CONTINUATION]]))
      .toEqual([[1, false], [1, true], [2, true]]);
    // Completed before the client hung up: a success, not a client abort.
    const [completed] = await attemptsOf('turn-split-completion');
    expect(completed.attributes['error.type']).toBeUndefined();
    expect(completed.status?.code).not.toBe(2);
  });

  it('notes every few seconds that a long stream\'s events still come, so a long answer is not read as silence', { timeout: 20_000 }, async () => {
    const answer = await call('/v1/responses', '{"input":"trickle"}', turnHeaders('turn-trickle'));
    expect(answer.body.toString()).toContain('response.completed');
    const spans: RecordedSpan[] = [];
    await until(async () => {
      spans.length = 0;
      for await (const rec of readFlightRecords(outDir)) if (rec.type === 'end' && rec.span.attributes[ATTR_TURN_ID] === 'turn-trickle') spans.push(rec.span);
      return spans.some((s) => s.name === PHASE_UPSTREAM_ATTEMPT);
    }, 'the trickling attempt');
    const attempt = spans.find((s) => s.name === PHASE_UPSTREAM_ATTEMPT)!;
    const progress = spans.filter((s) => s.name === PHASE_UPSTREAM_STREAM_PROGRESS).sort((a, b) => a.startTimeMs - b.startTimeMs);
    // 7 s of events, a point every 3 s at most: one or two (the timer's phase is the proxy's), each under the attempt, counts rising.
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(progress.length).toBeLessThanOrEqual(3);
    for (const p of progress) {
      expect(p.parentSpanId).toBe(attempt.spanId);
      expect(p.startTimeMs).toBeGreaterThan(attempt.startTimeMs);
      expect(p.startTimeMs).toBeLessThanOrEqual(attempt.endTimeMs!);
    }
    const counts = progress.map((p) => p.attributes[ATTR_UPSTREAM_EVENTS] as number);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(counts[0]).toBeGreaterThan(1);
  });

  it('aborts the upstream request when the client goes away', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: proxyPort, method: 'POST', path: '/v1/responses', headers: turnHeaders('turn-abort') }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
      req.once('error', reject);
      req.end('{"input":"slow-forever"}');
    });
    await slowStreamClosed;
    // The proxy records the abort only once it is sure the server did not simply exit (a grace of a
    // few hundred milliseconds): wait for it in the recording before the proxy is shut down.
    await until(async () => {
      for await (const rec of readFlightRecords(outDir)) {
        if (rec.type === 'end' && rec.span.name === PHASE_UPSTREAM_ATTEMPT && rec.span.attributes[ATTR_TURN_ID] === 'turn-abort') return true;
      }
      return false;
    });
  });

  it('answers 502 when the origin cannot be reached', async () => {
    const deadPort = await freePort();
    const deadProxyPort = await freePort();
    const dead = spawn(process.execPath, [CLI, 'record', '--out', join(outDir, 'dead'), '--upstream', `127.0.0.1:${deadProxyPort}=http://127.0.0.1:${deadPort}`, '--', 'cat'], { stdio: 'pipe' });
    let err = '';
    dead.stderr.on('data', (c: Buffer) => (err += c));
    while (!err.includes('proxying')) await new Promise((r) => setTimeout(r, 50));
    const saved = proxyPort;
    proxyPort = deadProxyPort;
    try {
      const reply = await call('/v1/responses', '{}');
      expect(reply.status).toBe(502);
      expect(reply.body.toString()).toContain('ECONNREFUSED');
    } finally {
      proxyPort = saved;
      dead.stdin.end();
    }
  });

  it('recorded every attempt with its milestones, and no credential', async () => {
    record.stdin.end();
    const code = await new Promise<number | null>((r) => record.once('close', (c) => r(c)));
    expect(code).toBe(0);
    const ended: RecordedSpan[] = [];
    for await (const rec of readFlightRecords(outDir)) if (rec.type === 'end') ended.push(rec.span);
    const attempts = ended.filter((s) => s.name === PHASE_UPSTREAM_ATTEMPT);
    const children = (a: RecordedSpan) => ended.filter((s) => s.parentSpanId === a.spanId).map((s) => s.name);

    const sse = attempts.find((a) => a.attributes[ATTR_TURN_ID] === 'turn-sse')!;
    expect(sse.attributes[ATTR_THREAD_ID]).toBe('thread-A');
    expect(sse.attributes[ATTR_SOURCE]).toBe(SOURCE_UPSTREAM_PROXY);
    expect(sse.attributes[ATTR_URL_PATH]).toBe('/v1/responses');
    expect(sse.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE]).toBe(200);
    // (A progress point may fall between its events, if the proxy's timer ticks then.)
    expect(children(sse).filter((n) => n !== PHASE_UPSTREAM_STREAM_PROGRESS)).toEqual([PHASE_UPSTREAM_REQUEST_SENT, PHASE_UPSTREAM_HEADERS, 'stall_why.upstream.first_byte', PHASE_UPSTREAM_FIRST_EVENT, PHASE_UPSTREAM_STREAM_END]);
    const end = ended.find((s) => s.parentSpanId === sse.spanId && s.name === PHASE_UPSTREAM_STREAM_END)!;
    expect(end.attributes[ATTR_UPSTREAM_EVENTS]).toBe(3);

    const retried = attempts.filter((a) => a.attributes[ATTR_TURN_ID] === 'turn-retry').sort((a, b) => a.startTimeMs - b.startTimeMs);
    expect(retried.map((a) => [a.attributes[ATTR_UPSTREAM_ATTEMPT], a.attributes[ATTR_HTTP_REQUEST_RESEND_COUNT], a.attributes[ATTR_UPSTREAM_CONTINUATION]]))
      .toEqual([[1, 0, false], [2, 1, false], [1, 0, true]]);
    expect(children(retried[0])).toContain(PHASE_UPSTREAM_STREAM_ERROR);
    expect(ended.some((s) => s.name === PHASE_UPSTREAM_RETRY && s.attributes[ATTR_TURN_ID] === 'turn-retry' && s.attributes['stall_why.retry.reason'] === 'connect_error')).toBe(true);
    expect(ended.filter((s) => s.name === PHASE_CONTINUATION_REQUESTED && s.attributes[ATTR_TURN_ID] === 'turn-retry')).toHaveLength(1);

    const aborted = attempts.find((a) => a.attributes[ATTR_TURN_ID] === 'turn-abort')!;
    expect(aborted.attributes['error.type']).toBe('client_aborted');

    for (const file of readdirSync(outDir, { recursive: true, withFileTypes: true })) {
      if (file.isFile()) expect(readFileSync(join(file.parentPath, file.name)).includes(SECRET)).toBe(false);
    }
  });
});
