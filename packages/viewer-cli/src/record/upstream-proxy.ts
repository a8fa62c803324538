import { createHash, type Hash } from 'node:crypto';
import { Agent as HttpAgent, createServer, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { diag } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_RETRY_ATTEMPT,
  ATTR_RETRY_DELAY_MS,
  ATTR_RETRY_REASON,
  ATTR_RETRY_WILL_RETRY,
  ATTR_UPSTREAM_ATTEMPT,
  ATTR_UPSTREAM_CONTINUATION,
  PHASE_UPSTREAM_RETRY,
  RETRY_REASON_CONNECT_ERROR,
  RETRY_REASON_HTTP_STATUS,
  RETRY_REASON_STREAM_DISCONNECTED,
  RETRY_REASON_UNKNOWN,
  type RetryReason,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_SOURCE,
  ATTR_UPSTREAM_BYTES,
  ATTR_UPSTREAM_EVENTS,
  ATTR_URL_PATH,
  PHASE_CONTINUATION_REQUESTED,
  PHASE_UPSTREAM_ATTEMPT,
  SOURCE_UPSTREAM_PROXY,
} from '@stall-why/conventions';
import { parseRetryAfterMs, UpstreamAttempt, type PhaseAttributes, type TurnHandle, type TurnTracer } from '@stall-why/instrument';
import { AttemptLedger } from './attempt-ledger.js';
import { BytePatternWatch } from './byte-pattern-watch.js';
import { SseEventCounter } from './sse-event-counter.js';
import type { UpstreamRoute } from './upstream-route.js';

/** A turn the JSON-RPC observer knows to be running (the shape of `CodexJsonRpcObserver.activeTurns()`). */
export interface ActiveTurn {
  readonly threadId: string;
  readonly turnId: string;
  readonly turn: TurnHandle;
  /** When the turn's last tool call completed, if one did. */
  readonly lastToolCompletedAtMs?: number;
}

export interface UpstreamProxyOptions {
  readonly route: UpstreamRoute;
  /** Emits attempts that belong to no known turn, and the continuation points. */
  readonly tracer: TurnTracer;
  /** The turns running right now. Default: none (attempts are attributed from request headers only). */
  readonly activeTurns?: () => readonly ActiveTurn[];
  /** Clock, epoch ms (fractional). Default `performance.timeOrigin + performance.now()`. */
  readonly now?: () => number;
}

/** What one proxied request has seen; the attempt is opened once its body has been forwarded. */
interface Exchange {
  readonly startMs: number;
  readonly path: string;
  readonly method: string;
  readonly threadId?: string;
  readonly turnId?: string;
  readonly hash: Hash;
  readonly toolResult: BytePatternWatch;
  attempt?: UpstreamAttempt;
  /** Milestones that happened before the attempt was opened (a response racing the request body). */
  readonly early: Array<(attempt: UpstreamAttempt) => void>;
  readonly sse: SseEventCounter;
  /** The response stream sent its format's completion event: after it, whoever hangs up first, the attempt succeeded. */
  readonly completion: BytePatternWatch;
  bytes: number;
  headersAt?: number;
  /** The client closed its side first: what the origin does next is our own abort's echo. */
  clientGone: boolean;
  /** Ledger key, set when the attempt opens. */
  turnKey?: string;
  settled: boolean;
}

/** How long a client abort waits to be sure the server did not simply exit (see `forward`). */
const CLIENT_ABORT_GRACE_MS = 300;
/** A tool result in a model request: OpenAI Responses, Anthropic Messages, Gemini `generateContent`. */
const TOOL_RESULT_MARKERS = ['function_call_output', 'custom_tool_call_output', '"tool_result"', '"functionResponse"'].map((m) => Buffer.from(m));
/**
 * The event that completes a response stream: OpenAI Responses `response.completed` (and
 * `response.incomplete`, a complete answer cut by a limit), Anthropic Messages `message_stop`, a
 * Gemini chunk with its `finishReason`. codex-acp 0.16 (Codex 0.137) closes its connection right
 * after `response.completed`, before the origin's own end of stream.
 */
const COMPLETION_MARKERS = ['response.completed', 'response.incomplete', 'message_stop', '"finishReason"'].map((m) => Buffer.from(m));
/** Headers of one hop that a proxy must not forward (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-authorization', 'proxy-authenticate']);
/** Codex 0.169 names the turn of each model request in these headers. */
const THREAD_ID_HEADER = 'thread-id';
const TURN_METADATA_HEADER = 'x-codex-turn-metadata';
const TURN_ID_IN_METADATA = /"turn_id"\s*:\s*"([^"]{1,200})"/;

/**
 * A reverse HTTP proxy in front of a model API: forwards every request to the origin with its path
 * unchanged and streams the response back as it comes (no buffering), while recording one
 * `stall_why.upstream.attempt` per request with its milestones: request sent, headers, first byte,
 * first SSE event, stream end or error. Bodies and headers are never recorded (credentials pass
 * through untouched); the request body is only fingerprinted (SHA-1) to tell a retry of the same
 * request from a new one, and scanned for a tool result (`function_call_output`, `tool_result`,
 * `functionResponse`) to tell the post-tool continuation. The response is scanned for its format's
 * completion event (OpenAI Responses, Anthropic Messages, Gemini SSE): a stream that completed is a
 * success whoever hangs up first.
 */
export class UpstreamProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly ledger = new AttemptLedger();
  private readonly now: () => number;
  private readonly agent: HttpAgent;
  private readonly isHttps: boolean;
  private closing = false;

  constructor(private readonly options: UpstreamProxyOptions) {
    this.now = options.now ?? (() => performance.timeOrigin + performance.now());
    this.isHttps = options.route.origin.protocol === 'https:';
    this.agent = this.isHttps ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  }

  /** Starts listening; resolves with the bound address (the port, when the route asked for 0). */
  async listen(): Promise<AddressInfo> {
    const server = createServer({ noDelay: true }, (req, res) => this.forward(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.route.listenPort, this.options.route.listenHost, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return server.address() as AddressInfo;
  }

  /** Stops listening and cuts the connections still open. Attempts still in flight stay open. */
  async close(): Promise<void> {
    this.closing = true;
    for (const socket of this.sockets) socket.destroy();
    this.agent.destroy();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const origin = this.options.route.origin;
    const path = req.url ?? '/';
    const exchange: Exchange = {
      startMs: this.now(),
      path: path.split('?', 1)[0],
      method: req.method ?? 'GET',
      threadId: headerText(req.headers[THREAD_ID_HEADER]),
      turnId: turnIdFromMetadata(headerText(req.headers[TURN_METADATA_HEADER])),
      hash: createHash('sha1'),
      toolResult: new BytePatternWatch(TOOL_RESULT_MARKERS),
      early: [],
      sse: new SseEventCounter(),
      completion: new BytePatternWatch(COMPLETION_MARKERS),
      bytes: 0,
      settled: false,
      clientGone: false,
    };
    const request = this.isHttps ? httpsRequest : httpRequest;
    const upstream = request({
      protocol: origin.protocol,
      hostname: origin.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: origin.port || undefined,
      method: req.method,
      path,
      headers: forwardedHeaders(req, origin.host),
      agent: this.agent,
    });

    req.on('data', (chunk: Buffer) => {
      exchange.hash.update(chunk);
      exchange.toolResult.push(chunk);
    });
    req.once('end', () => this.open(exchange));
    req.pipe(upstream);

    upstream.once('response', (upstreamRes) => this.relayResponse(exchange, upstreamRes, res));
    upstream.once('error', (error: NodeJS.ErrnoException) => {
      if (exchange.clientGone) return;
      const reason = exchange.headersAt === undefined ? RETRY_REASON_CONNECT_ERROR : RETRY_REASON_STREAM_DISCONNECTED;
      this.milestone(exchange, (a) => this.settle(exchange, () => this.fail(exchange, a, error.code ?? error.name, reason)));
      if (res.headersSent) {
        res.destroy();
      } else if (error.code === 'ECONNREFUSED' || error.code === 'ENOTFOUND' || error.code === 'EHOSTUNREACH') {
        res.writeHead(502, { 'content-type': 'text/plain' }).end(`stall-why record: upstream ${origin.origin} unreachable (${error.code})\n`);
      } else {
        // The origin cut the connection before answering: do the same to the client, so it sees
        // the fault the origin made (Codex retries such requests silently).
        req.socket.destroy();
      }
    });
    res.once('close', () => {
      if (res.writableFinished) return;
      // The client went away: nobody will read the rest, so stop asking the origin for it.
      exchange.clientGone = true;
      upstream.destroy();
      const at = this.now();
      if (exchange.completion.seen) {
        this.milestone(exchange, (a) => this.settle(exchange, () => this.succeed(exchange, a, at)));
        return;
      }
      // A server that exits drops its connections too; that is not a client abort, and the attempt
      // must stay open like the stuck turn it belongs to. So the abort is recorded only if the proxy
      // is still running a moment later (record closes it as soon as the server has exited).
      setTimeout(() => {
        if (this.closing) return;
        this.milestone(exchange, (a) => this.settle(exchange, () => this.fail(exchange, a, 'client_aborted', RETRY_REASON_UNKNOWN, at)));
      }, CLIENT_ABORT_GRACE_MS).unref();
    });
  }

  private relayResponse(exchange: Exchange, upstreamRes: IncomingMessage, res: ServerResponse): void {
    const status = upstreamRes.statusCode ?? 0;
    const at = this.now();
    exchange.headersAt = at;
    // An error answer's Retry-After is what the server will wait before it asks again: worth keeping (a number, no header text).
    const retryAfterMs = status >= 400 ? parseRetryAfterMs(headerText(upstreamRes.headers['retry-after'])) : undefined;
    const delay = retryAfterMs !== undefined ? { [ATTR_RETRY_DELAY_MS]: Math.round(retryAfterMs) } : undefined;
    this.milestone(exchange, (a) => a.headers(status, this.at(at, delay)));
    res.writeHead(status, upstreamRes.statusMessage, forwardedRawHeaders(upstreamRes.rawHeaders));
    // A stream that stays silent after its headers must look like that downstream, so the headers
    // are sent by the end of this turn of the event loop whatever follows; but not on their own
    // first: the body's first bytes usually came in the same packet, and they go in the same write
    // (a send of its own per answer was a tenth of record's CPU in bench/upstream-proxy.mjs).
    setImmediate(sendHeadersOfSilentStream, res, exchange);
    upstreamRes.on('data', (chunk: Buffer) => {
      const time = this.now();
      if (exchange.bytes === 0) this.milestone(exchange, (a) => a.firstByte(this.at(time)));
      exchange.bytes += chunk.length;
      exchange.completion.push(chunk);
      if (exchange.sse.events === 0 && exchange.sse.push(chunk) > 0) {
        this.milestone(exchange, (a) => a.firstEvent(this.at(time)));
      } else if (exchange.sse.events > 0) {
        exchange.sse.push(chunk);
      }
    });
    upstreamRes.pipe(res);
    upstreamRes.once('close', () => {
      if (exchange.clientGone) return;
      const time = this.now();
      if (upstreamRes.complete && status >= 400) {
        this.milestone(exchange, (a) => this.settle(exchange, () => {
          this.ledger.settled(exchange.turnKey ?? '', RETRY_REASON_HTTP_STATUS);
          a.streamEnd(this.at(time, this.volume(exchange)));
        }));
      } else if (upstreamRes.complete || exchange.completion.seen) {
        this.milestone(exchange, (a) => this.settle(exchange, () => this.succeed(exchange, a, time)));
      } else {
        this.milestone(exchange, (a) => this.settle(exchange, () => this.fail(exchange, a, 'ECONNRESET', RETRY_REASON_STREAM_DISCONNECTED, time)));
        res.destroy();
      }
    });
  }

  /** The request body has been forwarded: the attempt opens, attributed to its turn. */
  private open(exchange: Exchange): void {
    const sentAt = this.now();
    try {
      const active = this.options.activeTurns?.() ?? [];
      const owner = pickTurn(active, exchange.threadId, exchange.turnId);
      const threadId = owner?.threadId || exchange.threadId;
      const turnId = owner?.turnId || exchange.turnId;
      exchange.turnKey = `${threadId ?? ''}/${turnId ?? ''}`;
      const place = this.ledger.place(exchange.turnKey, exchange.hash.digest('hex'));
      const continuation = exchange.toolResult.seen && (owner?.lastToolCompletedAtMs !== undefined || place.logicalRequest > 1);
      const attributes: PhaseAttributes = {
        [ATTR_SOURCE]: SOURCE_UPSTREAM_PROXY,
        [ATTR_HTTP_REQUEST_METHOD]: exchange.method,
        [ATTR_SERVER_ADDRESS]: this.options.route.origin.hostname,
        [ATTR_SERVER_PORT]: originPort(this.options.route.origin),
        [ATTR_URL_PATH]: exchange.path,
      };
      if (continuation && place.attempt === 1) {
        this.options.tracer.point(PHASE_CONTINUATION_REQUESTED, { threadId, turnId }, {
          time: sentAt,
          attributes: { [ATTR_SOURCE]: SOURCE_UPSTREAM_PROXY },
        }, owner?.turn.context);
      }
      if (place.attempt > 1) {
        this.options.tracer.point(PHASE_UPSTREAM_RETRY, { threadId, turnId }, {
          time: exchange.startMs,
          attributes: {
            [ATTR_RETRY_REASON]: place.previousFailure ?? RETRY_REASON_UNKNOWN,
            [ATTR_RETRY_ATTEMPT]: place.attempt - 1,
            [ATTR_RETRY_WILL_RETRY]: true,
          },
        }, owner?.turn.context);
      }
      // Built here rather than with `owner.turn.startAttempt`: the ids come from Codex's own request
      // headers, which name the turn even when the observer has not matched it yet.
      const attempt = this.openAttempt(place.attempt, continuation, exchange.startMs, attributes, { threadId, turnId }, owner);
      attempt.requestSent(this.at(sentAt));
      exchange.attempt = attempt;
      for (const replay of exchange.early.splice(0)) replay(attempt);
    } catch (error) {
      diag.warn(`stall-why record: could not record an upstream attempt: ${(error as Error).message}`);
    }
  }

  private openAttempt(attempt: number, continuation: boolean, time: number, extra: PhaseAttributes, ids: { threadId?: string; turnId?: string }, owner: ActiveTurn | undefined): UpstreamAttempt {
    const tracer = this.options.tracer;
    const phase = tracer.startPhase(PHASE_UPSTREAM_ATTEMPT, ids, {
      time,
      attributes: { [ATTR_UPSTREAM_ATTEMPT]: attempt, [ATTR_HTTP_REQUEST_RESEND_COUNT]: attempt - 1, [ATTR_UPSTREAM_CONTINUATION]: continuation, ...extra },
    }, owner?.turn.context);
    return new UpstreamAttempt(tracer, phase.span, ids, SOURCE_UPSTREAM_PROXY);
  }

  private succeed(exchange: Exchange, attempt: UpstreamAttempt, time: number): void {
    this.ledger.settled(exchange.turnKey ?? '');
    attempt.streamEnd(this.at(time, this.volume(exchange)));
  }

  private fail(exchange: Exchange, attempt: UpstreamAttempt, errorType: string, reason: RetryReason, time = this.now()): void {
    this.ledger.settled(exchange.turnKey ?? '', reason);
    attempt.streamError(errorType, this.at(time, this.volume(exchange)));
  }

  private milestone(exchange: Exchange, apply: (attempt: UpstreamAttempt) => void): void {
    if (exchange.attempt) apply(exchange.attempt);
    else exchange.early.push(apply);
  }

  /** Ends the attempt once: the first of stream end, stream error or client abort wins. */
  private settle(exchange: Exchange, end: () => void): void {
    if (exchange.settled) return;
    exchange.settled = true;
    end();
  }

  private at(time: number = this.now(), attributes?: PhaseAttributes): { time: number; attributes: PhaseAttributes } {
    return { time, attributes: { [ATTR_SOURCE]: SOURCE_UPSTREAM_PROXY, ...attributes } };
  }

  private volume(exchange: Exchange): PhaseAttributes {
    return { [ATTR_UPSTREAM_EVENTS]: exchange.sse.events, [ATTR_UPSTREAM_BYTES]: exchange.bytes };
  }
}

/** Sends the headers of a response whose body has not begun (its first chunk carries them otherwise). */
function sendHeadersOfSilentStream(res: ServerResponse, exchange: Exchange): void {
  if (exchange.bytes === 0 && !res.writableEnded && !res.destroyed) res.flushHeaders();
}

function pickTurn(active: readonly ActiveTurn[], threadId: string | undefined, turnId: string | undefined): ActiveTurn | undefined {
  if (turnId) {
    const byTurn = active.find((t) => t.turnId === turnId);
    if (byTurn) return byTurn;
  }
  if (threadId) {
    const byThread = active.filter((t) => t.threadId === threadId);
    if (byThread.length > 0) return byThread[byThread.length - 1];
    if (turnId) return undefined;
  }
  return !turnId && !threadId && active.length === 1 ? active[0] : undefined;
}

function headerText(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return text ? text.slice(0, 200) : undefined;
}

function turnIdFromMetadata(metadata: string | undefined): string | undefined {
  return metadata ? TURN_ID_IN_METADATA.exec(metadata)?.[1] : undefined;
}

function forwardedHeaders(req: IncomingMessage, host: string): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
  }
  headers.host = host;
  return headers;
}

function forwardedRawHeaders(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!HOP_BY_HOP.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1]);
  }
  return out;
}

function originPort(origin: URL): number {
  return origin.port ? Number(origin.port) : origin.protocol === 'https:' ? 443 : 80;
}
