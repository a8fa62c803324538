import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import express from 'express';
import Fastify from 'fastify';
import {
  ATTR_RENDERER_ID, ATTR_RENDERER_REASON, ATTR_SOURCE, ATTR_THREAD_ID, ATTR_TURN_ID, ATTR_TURN_STATUS, PHASE_COMPACTION,
  PHASE_RENDERER_ATTACHED, PHASE_RENDERER_DETACHED, PHASE_TURN, PHASE_TURN_ACCEPTED, SOURCE_HTTP,
} from '@stall-why/conventions';
import { getTurn, instrumentHttpHandler, stallWhyExpress, stallWhyFastify, turnStatusFromHttp, type HttpTurnOptions, type TurnHandle } from '@stall-why/instrument';
import { captureSpans, waitUntil, type SpanCapture } from './span-capture.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function options(capture: SpanCapture, extra: Partial<HttpTurnOptions> = {}): HttpTurnOptions {
  return {
    tracer: capture.provider.getTracer('http-test'),
    resolveTurn: (req) => (req.url?.startsWith('/health') ? undefined : { threadId: String(req.headers['x-thread-id']), turnId: String(req.headers['x-turn-id']) }),
    ...extra,
  };
}

const turnHeaders = (turnId: string) => ({ 'x-thread-id': 'th-1', 'x-turn-id': turnId });

function turnStatus(capture: SpanCapture, turnId: string) {
  const span = capture.named(PHASE_TURN).find((s) => s.attributes[ATTR_TURN_ID] === turnId);
  return span?.ended ? span.attributes[ATTR_TURN_STATUS] : span ? 'open' : 'missing';
}

/** Opens a streaming request, reads the first chunk, then drops the connection as a closed browser tab would. */
async function readFirstChunkThenLeave(url: string, turnId: string): Promise<string> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: turnHeaders(turnId), signal: abort.signal });
  const reader = response.body!.getReader();
  const { value } = await reader.read();
  abort.abort();
  return new TextDecoder().decode(value);
}

describe('status mapping', () => {
  it('maps 2xx/3xx to completed, 499 to interrupted, other 4xx and 5xx to failed', () => {
    expect([200, 204, 302, 499, 404, 500, 503].map(turnStatusFromHttp)).toEqual(['completed', 'completed', 'completed', 'interrupted', 'failed', 'failed', 'failed']);
  });
});

describe('node:http handler wrapper', () => {
  it('opens a turn at request start, exposes it to the handler and ends it with the response status', async () => {
    const capture = captureSpans();
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      getTurn(req)?.startPhase(PHASE_COMPACTION).end();
      res.statusCode = req.url === '/fail' ? 500 : req.url === '/stop' ? 499 : 200;
      res.end('ok');
    };
    const url = await listen(createServer(instrumentHttpHandler(handler, options(capture))));
    for (const [path, turnId] of [['/', 't-ok'], ['/fail', 't-fail'], ['/stop', 't-stop']]) {
      expect((await fetch(url + path, { headers: turnHeaders(turnId) })).status).toBeGreaterThan(0);
    }
    await fetch(`${url}/health`).then((r) => r.text());
    await waitUntil(() => capture.open().length === 0 && capture.named(PHASE_TURN).length === 3, 'three ended turns');
    expect(['t-ok', 't-fail', 't-stop'].map((id) => turnStatus(capture, id))).toEqual(['completed', 'failed', 'interrupted']);
    const turn = capture.named(PHASE_TURN)[0];
    expect(turn.attributes[ATTR_THREAD_ID]).toBe('th-1');
    expect(turn.attributes[ATTR_SOURCE]).toBe(SOURCE_HTTP);
    const accepted = capture.named(PHASE_TURN_ACCEPTED)[0];
    expect(accepted.parentSpanContext?.spanId).toBe(turn.spanContext().spanId);
    expect(capture.named(PHASE_COMPACTION)[0].parentSpanContext?.spanId).toBe(turn.spanContext().spanId);
    expect(String(capture.named(PHASE_RENDERER_ATTACHED)[0].attributes[ATTR_RENDERER_ID])).toMatch(/^127\.0\.0\.1:\d+$/);
    // The health check was not a turn.
    expect(capture.named(PHASE_TURN_ACCEPTED)).toHaveLength(3);
    expect(capture.named(PHASE_RENDERER_DETACHED)).toHaveLength(0);
  });

  it('marks the renderer detached when the client leaves mid-turn, keeps the turn open, and ends it when the backend finishes', async () => {
    const capture = captureSpans();
    let finishBackend!: () => void;
    const backendMayFinish = new Promise<void>((resolve) => { finishBackend = resolve; });
    const handler = async (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: working\n\n');
      await backendMayFinish;
      res.end('data: done\n\n');
    };
    const url = await listen(createServer(instrumentHttpHandler(handler, options(capture))));
    expect(await readFirstChunkThenLeave(url, 't-gone')).toBe('data: working\n\n');
    await waitUntil(() => capture.named(PHASE_RENDERER_DETACHED).length === 1, 'renderer detached');
    const detached = capture.one(PHASE_RENDERER_DETACHED);
    expect(detached.attributes[ATTR_RENDERER_REASON]).toBe('closed');
    expect(detached.attributes[ATTR_TURN_ID]).toBe('t-gone');
    expect(detached.attributes[ATTR_RENDERER_ID]).toBe(capture.one(PHASE_RENDERER_ATTACHED).attributes[ATTR_RENDERER_ID]);
    // The client is gone, the backend is not: the turn is still open.
    expect(turnStatus(capture, 't-gone')).toBe('open');
    finishBackend();
    await waitUntil(() => turnStatus(capture, 't-gone') !== 'open', 'turn end');
    expect(turnStatus(capture, 't-gone')).toBe('completed');
  });

  it('ends the turn at once with clientGoneStatus when the server aborts work on disconnect', async () => {
    const capture = captureSpans();
    const handler = (_req: IncomingMessage, res: ServerResponse) => { res.writeHead(200); res.write('x'); };
    const url = await listen(createServer(instrumentHttpHandler(handler, options(capture, { clientGoneStatus: 'interrupted' }))));
    await readFirstChunkThenLeave(url, 't-abort');
    await waitUntil(() => turnStatus(capture, 't-abort') !== 'open', 'turn end');
    expect(turnStatus(capture, 't-abort')).toBe('interrupted');
  });

  it('leaves a status the app set itself alone', async () => {
    const capture = captureSpans();
    const handler = (req: IncomingMessage, res: ServerResponse) => { getTurn(req)!.endTurn('failed', { error: 'model refused' }); res.end(); };
    const url = await listen(createServer(instrumentHttpHandler(handler, options(capture))));
    await fetch(url, { headers: turnHeaders('t-own') }).then((r) => r.text());
    await waitUntil(() => turnStatus(capture, 't-own') !== 'open', 'turn end');
    expect(turnStatus(capture, 't-own')).toBe('failed');
  });
});

describe('Express middleware', () => {
  it('puts the turn on res.locals and follows the response to its end', async () => {
    const capture = captureSpans();
    const app = express();
    app.use(stallWhyExpress(options(capture)));
    let seen: TurnHandle | undefined;
    app.get('/turn', (req, res) => {
      seen = res.locals.stallWhyTurn as TurnHandle;
      expect(getTurn(req)).toBe(seen);
      res.status(503).send('busy');
    });
    app.get('/stream', (_req, res) => { res.status(200).write('first'); });
    const url = await listen(createServer(app));
    expect((await fetch(`${url}/turn`, { headers: turnHeaders('e-1') })).status).toBe(503);
    expect(seen?.turnId).toBe('e-1');
    await waitUntil(() => turnStatus(capture, 'e-1') !== 'open', 'turn end');
    expect(turnStatus(capture, 'e-1')).toBe('failed');
    await readFirstChunkThenLeave(`${url}/stream`, 'e-2');
    await waitUntil(() => capture.named(PHASE_RENDERER_DETACHED).length === 1, 'renderer detached');
    expect(capture.one(PHASE_RENDERER_DETACHED).attributes[ATTR_TURN_ID]).toBe('e-2');
    expect(turnStatus(capture, 'e-2')).toBe('open');
  });
});

describe('Fastify plugin', () => {
  it('decorates the request with its turn, for routes registered outside the plugin too', async () => {
    const capture = captureSpans();
    const app = Fastify({ forceCloseConnections: true });
    closers.push(() => app.close());
    await app.register(stallWhyFastify, options(capture));
    let seen: TurnHandle | undefined;
    await app.register(async (child) => {
      child.get('/turn', async (request) => {
        seen = (request as unknown as { stallWhyTurn: TurnHandle }).stallWhyTurn;
        return { ok: true };
      });
    });
    app.get('/stream', (_request, reply) => {
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'text/event-stream' });
      reply.raw.write('data: one\n\n');
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    expect(await (await fetch(`${url}/turn`, { headers: turnHeaders('f-1') })).json()).toEqual({ ok: true });
    expect(seen?.turnId).toBe('f-1');
    await waitUntil(() => turnStatus(capture, 'f-1') !== 'open', 'turn end');
    expect(turnStatus(capture, 'f-1')).toBe('completed');
    expect(await readFirstChunkThenLeave(`${url}/stream`, 'f-2')).toBe('data: one\n\n');
    await waitUntil(() => capture.named(PHASE_RENDERER_DETACHED).length === 1, 'renderer detached');
    expect(turnStatus(capture, 'f-2')).toBe('open');
    const missing = await fetch(`${url}/nowhere`, { headers: turnHeaders('f-3') });
    expect(missing.status).toBe(404);
    await waitUntil(() => turnStatus(capture, 'f-3') !== 'open', 'turn end');
    expect(turnStatus(capture, 'f-3')).toBe('failed');
  });
});
