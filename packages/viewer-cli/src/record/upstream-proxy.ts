import { Agent as HttpAgent, createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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
  PROGRESS_EVERY_MS,
  SOURCE_UPSTREAM_PROXY,
} from '@stall-why/conventions';
import { parseRetryAfterMs, UpstreamAttempt, type PhaseAttributes, type TurnHandle, type TurnTracer } from '@stall-why/instrument';
import { AttemptLedger } from './attempt-ledger.js';
import { forwardedHeaders, forwardedRawHeaders, headerText, originPort } from './forwarded-headers.js';
import { BodyFingerprint } from './body-fingerprint.js';
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


/** How an attempt ended, kept until it is recorded. */
interface AttemptEnd {
  readonly time: number;
  /** The origin answered >= 400 and sent the whole answer. */
  readonly httpError?: boolean;
  /** The attempt failed: how, and what a retry of it would give as its reason. */
  readonly failure?: { readonly errorType: string; readonly reason: RetryReason };
}

/**
 * The milestones of an attempt, as bits: each is noted (`seen`) when it happens, with its time on
 * the exchange, and recorded (`recorded`) once, later, in this order.
 */
const enum Milestone {
  Headers = 1,
  FirstByte = 2,
  FirstEvent = 4,
  End = 8,
}
const MILESTONE_ORDER: readonly Milestone[] = [Milestone.Headers, Milestone.FirstByte, Milestone.FirstEvent, Milestone.End];
/** A queued step that is not a milestone: the request body was forwarded, the attempt opens. */
const OPEN_ATTEMPT = 0;
type RecordingStep = Milestone | typeof OPEN_ATTEMPT;

/** What one proxied request has seen; the attempt is opened once its body has been forwarded. */
interface Exchange {
  readonly startMs: number;
  readonly path: string;
  readonly method: string;
  readonly threadId?: string;
  readonly turnId?: string;
  readonly fingerprint: BodyFingerprint;
  readonly toolResult: BytePatternWatch;
  readonly response: ServerResponse;
  attempt?: UpstreamAttempt;
  readonly sse: SseEventCounter;
  /** The response stream sent its format's completion event: after it, whoever hangs up first, the attempt succeeded. */
  readonly completion: BytePatternWatch;
  bytes: number;
  /** When the request body had been forwarded. */
  sentAt?: number;
  status?: number;
  headersAt?: number;
  retryAfterMs?: number;
  firstByteAt?: number;
  firstEventAt?: number;
  /** The first of stream end, stream error or client abort: it ends the attempt. */
  end?: AttemptEnd;
  /** Milestones that happened, and those already recorded (`Milestone` bits). */
  seen: number;
  recorded: number;
  /** The client closed its side first: what the origin does next is our own abort's echo. */
  clientGone: boolean;
  /** Ledger key, set when the attempt opens. */
  turnKey?: string;
  /** Events counted when its last progress point was recorded. */
  progressEvents: number;
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
  /** Recording steps waiting for the end of this turn of the event loop (see `recordLater`), in order. */
  private queuedExchanges: Exchange[] = [];
  private queuedSteps: RecordingStep[] = [];
  private recordScheduled = false;
  /** Open attempts whose first event was recorded: each progress tick looks at them (see `noteProgress`). */
  private readonly streaming = new Set<Exchange>();
  private progressTimer: NodeJS.Timeout | undefined;

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
    clearInterval(this.progressTimer);
    this.recordQueued();
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
      fingerprint: new BodyFingerprint(),
      toolResult: new BytePatternWatch(TOOL_RESULT_MARKERS),
      response: res,
      sse: new SseEventCounter(),
      completion: new BytePatternWatch(COMPLETION_MARKERS),
      bytes: 0,
      seen: 0,
      recorded: 0,
      clientGone: false,
      progressEvents: 0,
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

    // Piped first: the body's end reaches the origin before the attempt is noted.
    req.pipe(upstream);
    req.on('data', (chunk: Buffer) => {
      exchange.fingerprint.push(chunk);
      exchange.toolResult.push(chunk);
    });
    req.once('end', () => {
      exchange.sentAt = this.now();
      this.recordLater(exchange, OPEN_ATTEMPT);
    });

    upstream.once('response', (upstreamRes) => this.relayResponse(exchange, upstreamRes, res));
    upstream.once('error', (error: NodeJS.ErrnoException) => {
      if (exchange.clientGone) return;
      const reason = exchange.headersAt === undefined ? RETRY_REASON_CONNECT_ERROR : RETRY_REASON_STREAM_DISCONNECTED;
      this.ended(exchange, { time: this.now(), failure: { errorType: error.code ?? error.name, reason } });
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
      const time = this.now();
      if (exchange.completion.seen) {
        this.ended(exchange, { time });
        return;
      }
      // A server that exits drops its connections too; that is not a client abort, and the attempt
      // must stay open like the stuck turn it belongs to. So the abort is recorded only if the proxy
      // is still running a moment later (record closes it as soon as the server has exited).
      setTimeout(() => {
        if (this.closing) return;
        this.ended(exchange, { time, failure: { errorType: 'client_aborted', reason: RETRY_REASON_UNKNOWN } });
      }, CLIENT_ABORT_GRACE_MS).unref();
    });
  }

  private relayResponse(exchange: Exchange, upstreamRes: IncomingMessage, res: ServerResponse): void {
    const status = upstreamRes.statusCode ?? 0;
    exchange.headersAt = this.now();
    exchange.status = status;
    // An error answer's Retry-After is what the server will wait before it asks again: worth keeping (a number, no header text).
    if (status >= 400) exchange.retryAfterMs = parseRetryAfterMs(headerText(upstreamRes.headers['retry-after']));
    res.writeHead(status, upstreamRes.statusMessage, forwardedRawHeaders(upstreamRes.rawHeaders));
    this.happened(exchange, Milestone.Headers);
    // Piped first: each chunk is on its way to the client before it is scanned.
    upstreamRes.pipe(res);
    upstreamRes.on('data', (chunk: Buffer) => {
      // The clock is read only while a milestone may be in this chunk.
      const time = exchange.firstEventAt === undefined ? this.now() : 0;
      if (exchange.bytes === 0) {
        exchange.firstByteAt = time;
        this.happened(exchange, Milestone.FirstByte);
      }
      exchange.bytes += chunk.length;
      exchange.completion.push(chunk);
      if (exchange.sse.push(chunk) > 0 && exchange.firstEventAt === undefined) {
        exchange.firstEventAt = time;
        this.happened(exchange, Milestone.FirstEvent);
      }
    });
    upstreamRes.once('close', () => {
      if (exchange.clientGone) return;
      const time = this.now();
      if (upstreamRes.complete && status >= 400) {
        this.ended(exchange, { time, httpError: true });
      } else if (upstreamRes.complete || exchange.completion.seen) {
        this.ended(exchange, { time });
      } else {
        this.ended(exchange, { time, failure: { errorType: 'ECONNRESET', reason: RETRY_REASON_STREAM_DISCONNECTED } });
        res.destroy();
      }
    });
  }

  /** Notes a milestone, to be recorded once the bytes of this turn of the event loop are on their way. */
  private happened(exchange: Exchange, milestone: Milestone): void {
    exchange.seen |= milestone;
    this.recordLater(exchange, milestone);
  }

  /** Notes how the attempt ended; the first of stream end, stream error or client abort wins. */
  private ended(exchange: Exchange, end: AttemptEnd): void {
    if (exchange.end) return;
    exchange.end = end;
    this.happened(exchange, Milestone.End);
  }

  /**
   * Queues a step of the recording. Recording (spans, attributes, the recorder's encoding) runs
   * after the I/O callbacks of this turn of the event loop, so the bytes that the proxy forwards in
   * them are written first: done inline, it sat between a request's body and its forwarding, and
   * between each response chunk and its write.
   */
  private recordLater(exchange: Exchange, step: RecordingStep): void {
    this.queuedExchanges.push(exchange);
    this.queuedSteps.push(step);
    if (this.recordScheduled) return;
    this.recordScheduled = true;
    setImmediate(this.recordQueuedNow);
  }

  /** One function per proxy, not a closure per turn of the event loop. */
  private readonly recordQueuedNow = (): void => this.recordQueued();

  /** Records the queued steps in the order they happened. */
  private recordQueued(): void {
    this.recordScheduled = false;
    const exchanges = this.queuedExchanges;
    const steps = this.queuedSteps;
    this.queuedExchanges = [];
    this.queuedSteps = [];
    for (let i = 0; i < exchanges.length; i++) {
      const exchange = exchanges[i];
      const step = steps[i];
      // A stream that stays silent after its headers must look like that downstream: its headers
      // are sent by now whatever follows; but not on their own first, since the body's first bytes
      // usually come in the same packet and go in the same write (a send of its own per answer was
      // a tenth of record's CPU in bench/upstream-proxy.mjs).
      if (step === Milestone.Headers) sendHeadersOfSilentStream(exchange);
      if (step === OPEN_ATTEMPT) this.open(exchange);
      else if (exchange.attempt) this.record(exchange, step);
    }
  }

  /** The request body has been forwarded: the attempt opens, attributed to its turn. */
  private open(exchange: Exchange): void {
    const sentAt = exchange.sentAt ?? this.now();
    try {
      const active = this.options.activeTurns?.() ?? [];
      const owner = pickTurn(active, exchange.threadId, exchange.turnId);
      const threadId = owner?.threadId || exchange.threadId;
      const turnId = owner?.turnId || exchange.turnId;
      exchange.turnKey = `${threadId ?? ''}/${turnId ?? ''}`;
      const place = this.ledger.place(exchange.turnKey, exchange.fingerprint.digest());
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
    } catch (error) {
      diag.warn(`stall-why record: could not record an upstream attempt: ${(error as Error).message}`);
      return;
    }
    // Milestones that came before the body was forwarded (a response racing the request body).
    for (const milestone of MILESTONE_ORDER) if (exchange.seen & milestone) this.record(exchange, milestone);
  }

  /** Records a milestone of an open attempt, once. */
  private record(exchange: Exchange, milestone: Milestone): void {
    if (exchange.recorded & milestone) return;
    exchange.recorded |= milestone;
    const attempt = exchange.attempt!;
    try {
      switch (milestone) {
        case Milestone.Headers: {
          const delay = exchange.retryAfterMs !== undefined ? { [ATTR_RETRY_DELAY_MS]: Math.round(exchange.retryAfterMs) } : undefined;
          attempt.headers(exchange.status ?? 0, this.at(exchange.headersAt, delay));
          break;
        }
        case Milestone.FirstByte:
          attempt.firstByte(this.at(exchange.firstByteAt));
          break;
        case Milestone.FirstEvent:
          attempt.firstEvent(this.at(exchange.firstEventAt));
          if (exchange.end === undefined) this.followProgress(exchange);
          break;
        case Milestone.End:
          this.recordEnd(exchange, attempt, exchange.end!);
          break;
      }
    } catch (error) {
      diag.warn(`stall-why record: could not record an upstream milestone: ${(error as Error).message}`);
    }
  }

  /**
   * Follows an open stream: a timer, not a clock read per chunk (the proxy reads the clock only while
   * a milestone may be in a chunk), so a progress point says events came since the last tick.
   */
  private followProgress(exchange: Exchange): void {
    exchange.progressEvents = exchange.sse.events;
    this.streaming.add(exchange);
    this.progressTimer ??= setInterval(this.noteProgress, PROGRESS_EVERY_MS).unref();
  }

  /** One function per proxy: records a progress point for each open stream that received events since the last tick. */
  private readonly noteProgress = (): void => {
    const time = this.now();
    for (const exchange of this.streaming) {
      if (exchange.end !== undefined || exchange.attempt === undefined) {
        this.streaming.delete(exchange);
        continue;
      }
      if (exchange.sse.events === exchange.progressEvents) continue;
      exchange.progressEvents = exchange.sse.events;
      try {
        exchange.attempt.streamProgress(this.at(time, this.volume(exchange)));
      } catch (error) {
        diag.warn(`stall-why record: could not record upstream progress: ${(error as Error).message}`);
      }
    }
  };

  private recordEnd(exchange: Exchange, attempt: UpstreamAttempt, end: AttemptEnd): void {
    this.streaming.delete(exchange);
    const attributes = this.at(end.time, this.volume(exchange));
    if (end.failure) {
      this.ledger.settled(exchange.turnKey ?? '', end.failure.reason);
      attempt.streamError(end.failure.errorType, attributes);
    } else {
      this.ledger.settled(exchange.turnKey ?? '', end.httpError ? RETRY_REASON_HTTP_STATUS : undefined);
      attempt.streamEnd(attributes);
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

  private at(time: number = this.now(), attributes?: PhaseAttributes): { time: number; attributes: PhaseAttributes } {
    return { time, attributes: { [ATTR_SOURCE]: SOURCE_UPSTREAM_PROXY, ...attributes } };
  }

  private volume(exchange: Exchange): PhaseAttributes {
    return { [ATTR_UPSTREAM_EVENTS]: exchange.sse.events, [ATTR_UPSTREAM_BYTES]: exchange.bytes };
  }
}

/** Sends the headers of a response whose body has not begun (its first chunk carries them otherwise). */
function sendHeadersOfSilentStream(exchange: Exchange): void {
  const res = exchange.response;
  if (exchange.bytes === 0 && !res.writableEnded && !res.destroyed) res.flushHeaders();
}

/** The running turn a model request belongs to: the one Codex names, else its thread's latest, else the only one running. */
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

/** The turn id in Codex's `x-codex-turn-metadata` header (JSON, read by pattern: never parsed whole). */
function turnIdFromMetadata(metadata: string | undefined): string | undefined {
  return metadata ? TURN_ID_IN_METADATA.exec(metadata)?.[1] : undefined;
}
