import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace, type TracerProvider } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { APPROVAL_DECISION_APPROVED, APPROVAL_DECISION_DENIED, ATTR_SERVICE_NAME, SOURCE_API, SOURCE_HTTP } from '@stall-why/conventions';
import { getTurn, instrumentHttpHandler, TurnTracer } from '@stall-why/instrument';
import { ApprovalDesk } from './approval-desk.js';
import { runTurn } from './example-turn.js';
import { startFakeModelUpstream } from './fake-model-upstream.js';
import { StallGate } from './stall-gate.js';
import type { StallName } from './stalls.js';
import { ThreadHistory } from './thread-history.js';

/** Default length of a stall: long enough to see, short enough to wait for. */
export const DEFAULT_STALL_MS = 3000;
/** `service.name` of the example's spans when it makes its own tracer provider. */
export const EXAMPLE_SERVICE_NAME = 'stall-why-example-app-server';
/** Request header a client may use to choose the turn id. */
export const TURN_ID_HEADER = 'x-turn-id';

export interface ExampleAppServerOptions {
  /** Which stall to show. Default `none`. */
  readonly stall?: StallName;
  /** How long the stall lasts before the example moves on. Default 3000 ms. */
  readonly stallMs?: number;
  /** Where spans go: a provider of yours. Default: `spanProcessors` if given, else the global provider. */
  readonly tracerProvider?: TracerProvider;
  /** Where spans go: processors for a provider the example makes (and shuts down on `close()`). */
  readonly spanProcessors?: SpanProcessor[];
  /** Backoff between upstream retries. Default `stallMs / 4` (at least 10 ms), so retries fill about one stall. */
  readonly retryDelayMs?: number;
}

export interface ExampleAppServer {
  /** Base URL of the app-server: `POST {url}/threads/{threadId}/turns`, `POST {url}/approvals/{id}`. */
  readonly url: string;
  /** Base URL of the fake model upstream it started. */
  readonly upstreamUrl: string;
  readonly stall: StallName;
  /** Settles when the scenario reaches its stall (the upstream goes quiet, the tool hangs, ...). */
  readonly stallReached: Promise<void>;
  /** Ends the stall now instead of after `stallMs`. */
  releaseStall(): void;
  /** Settles when no turn is running on the server (the backend may outlive its client). */
  idle(): Promise<void>;
  /** Stops both servers, ends any stall, and flushes and shuts down a provider the example made. */
  close(): Promise<void>;
}

const TURN_PATH = /^\/threads\/([^/]+)\/turns\/?$/;
const APPROVAL_PATH = /^\/approvals\/([^/]+)\/?$/;

/**
 * Starts the example app-server and its fake model upstream on loopback (ports chosen by the
 * system). The server is wrapped by the node:http middleware of @stall-why/instrument; its model
 * calls go through `tracedModelFetch`; its inner stages are TurnTracer phases.
 */
export async function startExampleAppServer(options: ExampleAppServerOptions = {}): Promise<ExampleAppServer> {
  const stall = options.stall ?? 'none';
  const stallMs = options.stallMs ?? DEFAULT_STALL_MS;
  const ownProvider = options.tracerProvider ? undefined : options.spanProcessors
    ? new BasicTracerProvider({ resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: EXAMPLE_SERVICE_NAME }), spanProcessors: options.spanProcessors })
    : undefined;
  const tracer = (options.tracerProvider ?? ownProvider ?? trace.getTracerProvider()).getTracer('@stall-why/examples');
  const gate = new StallGate(stallMs);
  const upstream = await startFakeModelUpstream(stall, gate);
  const history = new ThreadHistory();
  const approvals = new ApprovalDesk();
  const appTracer = new TurnTracer({ tracer, source: SOURCE_API });
  const running = new Set<Promise<unknown>>();

  const handleTurn = async (req: IncomingMessage, res: ServerResponse, threadId: string): Promise<void> => {
    const turn = getTurn(req)!;
    const body = await readBody(req);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (event: string, data: unknown): void => {
      if (!res.destroyed && !res.writableEnded) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    await runTurn({
      turn, turnTracer: appTracer, threadId, stall, gate, history, approvals, send,
      upstreamUrl: upstream.url, maxStreamRetries: 3, retryDelayMs: options.retryDelayMs ?? Math.max(10, Math.round(stallMs / 4)), firstsMarked: new Set(),
    }, typeof body.input === 'string' ? body.input : 'Count the words in README.md');
    res.end();
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const turnMatch = req.method === 'POST' ? TURN_PATH.exec(path) : null;
    const approvalMatch = req.method === 'POST' ? APPROVAL_PATH.exec(path) : null;
    if (turnMatch) {
      const work = handleTurn(req, res, decodeURIComponent(turnMatch[1])).catch(() => { if (!res.writableEnded) res.end(); });
      running.add(work);
      void work.finally(() => running.delete(work));
    } else if (approvalMatch) {
      void readBody(req).then((body) => {
        const decision = body.decision === APPROVAL_DECISION_DENIED ? APPROVAL_DECISION_DENIED : APPROVAL_DECISION_APPROVED;
        res.writeHead(approvals.answer(decodeURIComponent(approvalMatch[1]), decision) ? 204 : 404).end();
      });
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  };

  const server = createServer(instrumentHttpHandler(handler, {
    turnTracer: new TurnTracer({ tracer, source: SOURCE_HTTP }),
    resolveTurn: (req) => {
      const match = req.method === 'POST' ? TURN_PATH.exec(new URL(req.url ?? '/', 'http://localhost').pathname) : null;
      if (!match) return undefined;
      const turnId = req.headers[TURN_ID_HEADER];
      return { threadId: decodeURIComponent(match[1]), turnId: typeof turnId === 'string' && turnId ? turnId : `turn-${randomUUID()}` };
    },
  }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const idle = async (): Promise<void> => {
    while (running.size > 0) await Promise.allSettled([...running]);
  };
  return {
    url: `http://127.0.0.1:${port}`,
    upstreamUrl: upstream.url,
    stall,
    stallReached: gate.reached,
    releaseStall: () => gate.release(),
    idle,
    async close() {
      gate.release();
      await idle();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await upstream.close();
      await ownProvider?.shutdown();
    },
  };
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
