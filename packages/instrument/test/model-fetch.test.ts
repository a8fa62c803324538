import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ATTR_ERROR_TYPE, ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_RETRY_DELAY_MS, ATTR_RETRY_REASON,
  ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, ATTR_SOURCE, ATTR_UPSTREAM_ATTEMPT, ATTR_UPSTREAM_BYTES, ATTR_UPSTREAM_EVENTS,
  ATTR_URL_PATH, PHASE_UPSTREAM_ATTEMPT, PHASE_UPSTREAM_FIRST_BYTE, PHASE_UPSTREAM_FIRST_EVENT, PHASE_UPSTREAM_HEADERS,
  PHASE_UPSTREAM_REQUEST_SENT, PHASE_UPSTREAM_RETRY, PHASE_UPSTREAM_STREAM_END, PHASE_UPSTREAM_STREAM_ERROR, SOURCE_FETCH,
} from '@stall-why/conventions';
import { fetch as undiciFetch, Request as UndiciRequest } from 'undici';
import { instrumentFetch, tracedModelFetch, TurnTracer, type TurnHandle } from '@stall-why/instrument';
import { captureSpans, waitUntil, type SpanCapture } from './span-capture.js';

const EVENTS = [
  'event: response.created\ndata: {"type":"response.created","response":{"id":"resp_1"}}\n\n',
  'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"Hel"}\n\n',
  'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"lo"}\n\n',
  'event: response.completed\ndata: {"type":"response.completed","response":{"id":"resp_1"}}\n\n',
];
const BODY = EVENTS.join('');

let server: Server;
let base: string;
const hits = new Map<string, number>();
const seenHeaders: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const hit = (hits.get(path) ?? 0) + 1;
    hits.set(path, hit);
    seenHeaders.push(req.headers);
    req.resume();
    const sse = () => res.writeHead(200, { 'content-type': 'text/event-stream' });
    if (path === '/ok') {
      sse();
      // Events split across writes and mid-line, as a real network delivers them.
      res.write(BODY.slice(0, 30));
      setTimeout(() => res.end(BODY.slice(30)), 5);
    } else if (path === '/drop') {
      sse();
      res.write(EVENTS[0]);
      setTimeout(() => res.socket?.destroy(), 10);
    } else if (path === '/flaky') {
      if (hit === 1) return req.socket.destroy();
      if (hit === 2) return res.writeHead(503, { 'retry-after': '0' }).end('busy');
      sse();
      res.end(BODY);
    } else if (path === '/silent') {
      sse();
      res.flushHeaders();
    } else if (path === '/json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"a":1}');
    } else {
      res.writeHead(400).end('bad request');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function newTurn(capture: SpanCapture, turnId: string): TurnHandle {
  return new TurnTracer({ tracer: capture.provider.getTracer('fetch-test') }).startTurn({ threadId: 'th', turnId });
}

const names = (capture: SpanCapture) => capture.started.map((s) => s.name);
const secretHeaders = { authorization: 'Bearer sk-secret-1', cookie: 'sid=secret-2', 'x-api-key': 'secret-3', 'api-key': 'secret-4' };

describe('tracedModelFetch', () => {
  it('marks each milestone of a healthy SSE attempt and hands the body over unchanged', async () => {
    const capture = captureSpans();
    const turn = newTurn(capture, 'ok');
    const response = await tracedModelFetch(turn, `${base}/ok?key=secret-5`, { method: 'POST', headers: secretHeaders, body: '{"input":"a prompt"}' }, { model: 'gpt-fake' });
    expect(response.status).toBe(200);
    expect(response.url).toBe(`${base}/ok?key=secret-5`);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    // Headers are in; nothing of the body has been read yet.
    expect(names(capture)).toEqual(['stall_why.turn', PHASE_UPSTREAM_ATTEMPT, PHASE_UPSTREAM_REQUEST_SENT, PHASE_UPSTREAM_HEADERS]);
    expect(await response.text()).toBe(BODY);
    expect(names(capture).slice(4)).toEqual([PHASE_UPSTREAM_FIRST_BYTE, PHASE_UPSTREAM_FIRST_EVENT, PHASE_UPSTREAM_STREAM_END]);
    const attempt = capture.one(PHASE_UPSTREAM_ATTEMPT);
    expect(attempt.ended).toBe(true);
    const port = Number(new URL(base).port);
    expect(attempt.attributes).toMatchObject({
      [ATTR_SOURCE]: SOURCE_FETCH, [ATTR_UPSTREAM_ATTEMPT]: 1, [ATTR_HTTP_REQUEST_METHOD]: 'POST', [ATTR_SERVER_ADDRESS]: '127.0.0.1',
      [ATTR_SERVER_PORT]: port, [ATTR_URL_PATH]: '/ok', [ATTR_HTTP_RESPONSE_STATUS_CODE]: 200, 'gen_ai.request.model': 'gpt-fake',
      [ATTR_UPSTREAM_EVENTS]: 4, [ATTR_UPSTREAM_BYTES]: Buffer.byteLength(BODY),
    });
    expect(capture.one(PHASE_UPSTREAM_FIRST_EVENT).attributes[ATTR_SOURCE]).toBe(SOURCE_FETCH);
    // The secrets reached the server and nowhere else.
    expect(seenHeaders.at(-1)).toMatchObject(secretHeaders);
    const recorded = JSON.stringify(capture.started.map((s) => s.attributes));
    for (const secret of ['secret-1', 'secret-2', 'secret-3', 'secret-4', 'secret-5', 'a prompt', 'Hel']) expect(recorded).not.toContain(secret);
  });

  it('leaves an attempt open with request sent and headers while the backend is silent', async () => {
    const capture = captureSpans();
    const abort = new AbortController();
    const response = await tracedModelFetch(newTurn(capture, 'silent'), `${base}/silent`, { signal: abort.signal });
    const reading = response.text().catch((error: Error) => error.name);
    await new Promise((r) => setTimeout(r, 50));
    expect(capture.open().map((s) => s.name)).toEqual(['stall_why.turn', PHASE_UPSTREAM_ATTEMPT]);
    expect(names(capture)).not.toContain(PHASE_UPSTREAM_FIRST_BYTE);
    abort.abort();
    expect(await reading).toBe('AbortError');
    expect(capture.one(PHASE_UPSTREAM_ATTEMPT).attributes[ATTR_ERROR_TYPE]).toBe('AbortError');
  });

  it('ends an attempt whose connection drops mid-stream as an error, after its first event', async () => {
    const capture = captureSpans();
    const response = await tracedModelFetch(newTurn(capture, 'drop'), `${base}/drop`);
    await expect(response.text()).rejects.toThrow();
    const attempt = capture.one(PHASE_UPSTREAM_ATTEMPT);
    expect(attempt.ended).toBe(true);
    expect(attempt.status.code).toBe(2);
    expect(attempt.attributes[ATTR_ERROR_TYPE]).toBe('UND_ERR_SOCKET');
    expect(attempt.attributes[ATTR_UPSTREAM_EVENTS]).toBe(1);
    expect(names(capture)).toContain(PHASE_UPSTREAM_FIRST_EVENT);
    expect(capture.one(PHASE_UPSTREAM_STREAM_ERROR).attributes[ATTR_ERROR_TYPE]).toBe('UND_ERR_SOCKET');
  });

  it('retries a refused connection and a 503 with backoff, marking each retry with its reason', async () => {
    const capture = captureSpans();
    const response = await tracedModelFetch(newTurn(capture, 'flaky'), `${base}/flaky`, { method: 'POST', body: '{}' }, { retry: { maxRetries: 3, baseDelayMs: 5 } });
    expect(await response.text()).toBe(BODY);
    expect(hits.get('/flaky')).toBe(3);
    const attempts = capture.named(PHASE_UPSTREAM_ATTEMPT);
    expect(attempts.map((s) => s.attributes[ATTR_UPSTREAM_ATTEMPT])).toEqual([1, 2, 3]);
    expect(attempts.map((s) => s.attributes[ATTR_ERROR_TYPE])).toEqual(['UND_ERR_SOCKET', '503', undefined]);
    expect(attempts.every((s) => s.ended)).toBe(true);
    const retries = capture.named(PHASE_UPSTREAM_RETRY);
    expect(retries.map((s) => s.attributes[ATTR_RETRY_REASON])).toEqual(['connect_error', 'http_status']);
    expect(retries[0].attributes[ATTR_RETRY_DELAY_MS]).toBeGreaterThanOrEqual(2);
    // Retry-After: 0 wins over the backoff.
    expect(retries[1].attributes[ATTR_RETRY_DELAY_MS]).toBe(0);
  });

  it('gives up after maxRetries and passes the last failure on', async () => {
    const capture = captureSpans();
    const closed = createServer((req) => req.socket.destroy());
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/`;
    await expect(tracedModelFetch(newTurn(capture, 'gone'), url, undefined, { retry: { maxRetries: 1, baseDelayMs: 1 } })).rejects.toThrow('fetch failed');
    closed.close();
    expect(capture.named(PHASE_UPSTREAM_ATTEMPT)).toHaveLength(2);
    expect(capture.named(PHASE_UPSTREAM_RETRY)).toHaveLength(1);
  });

  it('observes a non-SSE body without counting events', async () => {
    const capture = captureSpans();
    const response = await tracedModelFetch(newTurn(capture, 'json'), `${base}/json`);
    expect(await response.json()).toEqual({ a: 1 });
    expect(names(capture)).not.toContain(PHASE_UPSTREAM_FIRST_EVENT);
    expect(capture.one(PHASE_UPSTREAM_ATTEMPT).attributes[ATTR_UPSTREAM_EVENTS]).toBe(0);
  });
});

describe('with undici', () => {
  it("traces undici's own fetch and Request the same way", async () => {
    const capture = captureSpans();
    const request = new UndiciRequest(`${base}/ok`, { method: 'POST', body: '{}' });
    const response = await tracedModelFetch(newTurn(capture, 'undici'), request as unknown as Request, undefined, { fetch: undiciFetch as unknown as typeof fetch, retry: true });
    expect(await response.text()).toBe(BODY);
    expect(capture.one(PHASE_UPSTREAM_ATTEMPT).attributes).toMatchObject({ [ATTR_URL_PATH]: '/ok', [ATTR_HTTP_REQUEST_METHOD]: 'POST', [ATTR_UPSTREAM_EVENTS]: 4 });
  });
});

describe('instrumentFetch', () => {
  it('traces calls made inside a turn and passes the others straight through', async () => {
    const capture = captureSpans();
    let current: TurnHandle | undefined;
    const modelFetch = instrumentFetch(fetch, { turn: () => current, requestOptions: (input) => ({ continuation: String(input).includes('continue') }) });
    expect(await (await modelFetch(`${base}/ok`)).text()).toBe(BODY);
    expect(capture.started).toHaveLength(0);
    current = newTurn(capture, 'wrapped');
    expect(await (await modelFetch(`${base}/ok?continue=1`)).text()).toBe(BODY);
    await waitUntil(() => capture.named(PHASE_UPSTREAM_STREAM_END).length === 1, 'stream end');
    expect(capture.one(PHASE_UPSTREAM_ATTEMPT).attributes['stall_why.upstream.continuation']).toBe(true);
  });
});
