import {
  context as otelContext,
  diag,
  isSpanContextValid,
  trace,
  SpanStatusCode,
  type AttributeValue,
  type Attributes,
  type Context,
  type Span,
  type TimeInput,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HYDRATION_TRIGGER,
  ATTR_PHASE_KIND,
  ATTR_PROCESS_EXIT_CODE,
  ATTR_PROCESS_PID,
  ATTR_PROCESS_SIGNAL,
  ATTR_RENDERER_ID,
  ATTR_RETRY_ATTEMPT,
  ATTR_RETRY_DELAY_MS,
  ATTR_RETRY_MAX,
  ATTR_RETRY_REASON,
  ATTR_RETRY_WILL_RETRY,
  ATTR_SOURCE,
  ATTR_THREAD_ID,
  ATTR_TURN_ERROR,
  ATTR_TURN_ID,
  ATTR_TURN_STATUS,
  ATTR_UPSTREAM_ATTEMPT,
  ATTR_UPSTREAM_CONTINUATION,
  ATTR_WRITER_STOP_REASON,
  PHASE_CANCEL,
  PHASE_KIND_POINT,
  PHASE_KIND_SPAN,
  PHASE_RENDERER_ATTACHED,
  PHASE_RENDERER_DETACHED,
  PHASE_THREAD_HYDRATION,
  PHASE_TURN,
  PHASE_TURN_ACCEPTED,
  PHASE_UPSTREAM_ATTEMPT,
  PHASE_UPSTREAM_FIRST_BYTE,
  PHASE_UPSTREAM_FIRST_EVENT,
  PHASE_UPSTREAM_HEADERS,
  PHASE_UPSTREAM_REQUEST_SENT,
  PHASE_UPSTREAM_RETRY,
  PHASE_UPSTREAM_STREAM_END,
  PHASE_UPSTREAM_STREAM_ERROR,
  PHASE_UPSTREAM_STREAM_PROGRESS,
  PHASE_WRITER_STOPPED,
  SOURCE_API,
  TURN_END_STATUS_FAILED,
  type RetryReason,
  type TurnEndStatus,
  type WriterStopReason,
} from '@stall-why/conventions';
import { limitAttributes, putLimitedAttribute, resolveAttributeLimits, type AttributeLimits } from './attribute-limits.js';

/** Attributes as adapters pass them: `undefined` values are dropped. */
export type PhaseAttributes = Readonly<Record<string, AttributeValue | undefined | null>>;

export interface TurnTracerOptions {
  /** The tracer to emit with. Default: `tracerProvider`'s tracer for `@stall-why/instrument`. */
  readonly tracer?: Tracer;
  /** The provider whose tracer to emit with, when no `tracer` is given. Default: the global one (`trace.setGlobalTracerProvider`, `NodeSDK.start()`). */
  readonly tracerProvider?: TracerProvider;
  /** Value of `stall_why.source` on every span. Default `api`. */
  readonly source?: string;
  /** Attribute bounds. Default: 1 KiB strings, 64 array items (see `DEFAULT_ATTRIBUTE_LIMITS`). */
  readonly limits?: Partial<AttributeLimits>;
}

export interface PhaseOptions {
  readonly attributes?: PhaseAttributes;
  /** When the phase happened, if not now (an observer replaying timestamps it was given). */
  readonly time?: TimeInput;
}

export interface StartTurnOptions extends PhaseOptions {
  readonly threadId?: string;
  readonly turnId?: string;
  /** Parent context for the turn span. Default: the active context (e.g. an HTTP server span). */
  readonly parentContext?: Context;
}

export interface EndTurnOptions {
  readonly time?: TimeInput;
  /** A short error description for failed turns (capped like every attribute). */
  readonly error?: string;
  readonly attributes?: PhaseAttributes;
}

const TRACER_NAME = '@stall-why/instrument';

/** The code of the process warning emitted when turns go to no tracer provider. */
export const WARNING_NO_TRACER_PROVIDER = 'STALL_WHY_NO_TRACER_PROVIDER';

let warnedNoTracerProvider = false;

/**
 * Says once per process that turns are recorded nowhere. A no-op tracer's span without a parent
 * has no valid context; a span an SDK's sampler dropped has one, and is not warned about. Both a
 * process warning and `diag`: `diag` alone prints nothing until a logger is set, and the person
 * this is for has set up nothing yet.
 */
function warnIfRecordedNowhere(span: Span): void {
  if (warnedNoTracerProvider || span.isRecording() || isSpanContextValid(span.spanContext())) return;
  warnedNoTracerProvider = true;
  const message = 'stall-why: turn spans go nowhere: no OpenTelemetry tracer provider is registered. Register one ' +
    '(trace.setGlobalTracerProvider(provider), or NodeSDK.start()) before the first request, or pass { tracerProvider } to the middleware or TurnTracer.';
  diag.warn(message);
  process.emitWarning(message, { code: WARNING_NO_TRACER_PROVIDER });
}

/**
 * Emits stall-why phase spans. One TurnTracer serves a whole app-server; each turn gets a
 * `TurnHandle`. Point phases are zero-duration spans ended at once, so a span processor sees them
 * immediately (and a flight recorder writes them) even while the turn is stuck.
 *
 * Never throws into the host: the OpenTelemetry API is no-throw, and the only work done here is
 * attribute bounding.
 */
export class TurnTracer {
  readonly tracer: Tracer;
  readonly source: string;
  readonly limits: AttributeLimits;

  constructor(options: TurnTracerOptions = {}) {
    this.tracer = options.tracer ?? (options.tracerProvider ?? trace.getTracerProvider()).getTracer(TRACER_NAME);
    this.source = options.source ?? SOURCE_API;
    this.limits = resolveAttributeLimits(options.limits);
  }

  /** Starts a turn: opens its `stall_why.turn` span. Mark `accepted()` on the handle when the server accepts it. */
  startTurn(options: StartTurnOptions = {}): TurnHandle {
    const ids = { threadId: options.threadId, turnId: options.turnId };
    const span = this.tracer.startSpan(
      PHASE_TURN,
      { startTime: options.time, attributes: this.attributes(PHASE_KIND_SPAN, ids, options.attributes) },
      options.parentContext ?? otelContext.active(),
    );
    warnIfRecordedNowhere(span);
    return new TurnHandle(this, span, ids);
  }

  /** Opens a thread hydration phase (loading or resuming history); it may come before any turn. */
  startHydration(options: PhaseOptions & { threadId?: string; trigger?: string; parentContext?: Context } = {}): PhaseHandle {
    return this.startPhase(PHASE_THREAD_HYDRATION, { threadId: options.threadId }, {
      ...options,
      attributes: { [ATTR_HYDRATION_TRIGGER]: options.trigger, ...options.attributes },
    }, options.parentContext);
  }

  /** Marks a renderer (a client that displays the thread) as attached. */
  rendererAttached(rendererId: string, options: PhaseOptions & { threadId?: string; turnId?: string } = {}): void {
    this.point(PHASE_RENDERER_ATTACHED, { threadId: options.threadId, turnId: options.turnId }, {
      time: options.time,
      attributes: { [ATTR_RENDERER_ID]: rendererId, ...options.attributes },
    });
  }

  /** Marks a renderer as detached (its connection closed, its stdin hit EOF, ...). */
  rendererDetached(rendererId: string, options: PhaseOptions & { threadId?: string; turnId?: string } = {}): void {
    this.point(PHASE_RENDERER_DETACHED, { threadId: options.threadId, turnId: options.turnId }, {
      time: options.time,
      attributes: { [ATTR_RENDERER_ID]: rendererId, ...options.attributes },
    });
  }

  /**
   * Marks that what writes this recording stopped (the wrapped server exited, the process is
   * shutting down): turns still open then are abandoned, not stuck for ever. Belongs to no thread.
   */
  writerStopped(reason: WriterStopReason, options: PhaseOptions & { exitCode?: number | null; signal?: string | null; pid?: number } = {}): void {
    const attributes: Record<string, AttributeValue | undefined | null> = { [ATTR_WRITER_STOP_REASON]: reason, ...options.attributes };
    if (typeof options.exitCode === 'number') attributes[ATTR_PROCESS_EXIT_CODE] = options.exitCode;
    if (typeof options.signal === 'string') attributes[ATTR_PROCESS_SIGNAL] = options.signal;
    if (typeof options.pid === 'number') attributes[ATTR_PROCESS_PID] = options.pid;
    this.point(PHASE_WRITER_STOPPED, {}, { ...options, attributes });
  }

  /** Emits a point phase: a zero-duration span, ended at once. */
  point(name: string, ids: PhaseIds, options: PhaseOptions = {}, parent?: Context): void {
    const attributes = this.attributes(PHASE_KIND_POINT, ids, options.attributes);
    const time = options.time ?? Date.now();
    this.tracer.startSpan(name, { startTime: time, attributes }, parent ?? otelContext.active()).end(time);
  }

  /** Opens a duration phase. */
  startPhase(name: string, ids: PhaseIds, options: PhaseOptions = {}, parent?: Context): PhaseHandle {
    const attributes = this.attributes(PHASE_KIND_SPAN, ids, options.attributes);
    const span = this.tracer.startSpan(name, { startTime: options.time, attributes }, parent ?? otelContext.active());
    return new PhaseHandle(this, span, ids);
  }

  /** Bounds attributes with this tracer's limits. */
  limit(attributes: PhaseAttributes | undefined): Attributes {
    return limitAttributes(attributes, this.limits);
  }

  /**
   * `limitAttributes({ kind, source, thread id, turn id, ...extra })` without building the merged
   * object first (every span's attributes pass here): the same keys in the same order, each of the
   * four with `extra`'s value when `extra` has it, then `extra`'s others.
   */
  private attributes(kind: string, ids: PhaseIds, extra: PhaseAttributes | undefined): Attributes {
    const out: Attributes = {};
    const limits = this.limits;
    putLimitedAttribute(out, ATTR_PHASE_KIND, extraOr(extra, ATTR_PHASE_KIND, kind), limits);
    putLimitedAttribute(out, ATTR_SOURCE, extraOr(extra, ATTR_SOURCE, this.source), limits);
    putLimitedAttribute(out, ATTR_THREAD_ID, extraOr(extra, ATTR_THREAD_ID, ids.threadId), limits);
    putLimitedAttribute(out, ATTR_TURN_ID, extraOr(extra, ATTR_TURN_ID, ids.turnId), limits);
    if (extra === undefined) return out;
    // for-in with an own-property check: Object.keys's keys in its order, without the array.
    for (const key in extra) {
      if (!Object.hasOwn(extra, key) || PHASE_BASE_KEYS.has(key)) continue;
      putLimitedAttribute(out, key, extra[key], limits);
    }
    return out;
  }
}

/** `extra[key]` when `extra` has that key (even as undefined, as a spread would), else `value`. */
function extraOr(extra: PhaseAttributes | undefined, key: string, value: AttributeValue | undefined | null): AttributeValue | undefined | null {
  return extra !== undefined && Object.hasOwn(extra, key) ? extra[key] : value;
}

/** The attributes every phase span starts with, in this order (see `TurnTracer.attributes`). */
const PHASE_BASE_KEYS: ReadonlySet<string> = new Set([ATTR_PHASE_KIND, ATTR_SOURCE, ATTR_THREAD_ID, ATTR_TURN_ID]);

export interface PhaseIds {
  readonly threadId?: string;
  readonly turnId?: string;
}

/**
 * An open duration phase. `end()` closes it; ending twice is a no-op.
 *
 * `source`, when given, overrides the tracer's `stall_why.source` on this phase's child phases:
 * an upstream attempt opened by the fetch adapter inside a turn that the HTTP middleware opened
 * says `fetch`, not `http`.
 */
export class PhaseHandle {
  private ended = false;
  private phaseIds: PhaseIds;
  private contextOver: Context | undefined;
  private spanContext: Context | undefined;

  constructor(
    protected readonly tracer: TurnTracer,
    readonly span: Span,
    ids: PhaseIds,
    readonly source?: string,
  ) {
    this.phaseIds = ids;
  }

  /** The thread and turn this phase belongs to; child phases inherit them. */
  get ids(): PhaseIds {
    return this.phaseIds;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /**
   * Names the thread or turn once it is known. A protocol observer opens a turn when the client
   * asks for it, before the server has named it (Codex answers `turn/start` with the id); phases
   * opened after this carry the id, and so does the span itself when it ends.
   */
  identify(ids: PhaseIds): this {
    this.phaseIds = {
      threadId: ids.threadId ?? this.phaseIds.threadId,
      turnId: ids.turnId ?? this.phaseIds.turnId,
    };
    return this.setAttributes({ [ATTR_THREAD_ID]: ids.threadId, [ATTR_TURN_ID]: ids.turnId });
  }

  /** The context whose active span is this phase: pass it as parent to child phases. */
  get context(): Context {
    // Contexts are immutable: the one made over the same active context is the same, so it is
    // made once per active context, not once per child phase and again for `context.with`.
    const active = otelContext.active();
    if (this.contextOver !== active || this.spanContext === undefined) {
      this.contextOver = active;
      this.spanContext = trace.setSpan(active, this.span);
    }
    return this.spanContext;
  }

  setAttributes(attributes: PhaseAttributes): this {
    if (!this.ended) this.span.setAttributes(this.tracer.limit(attributes));
    return this;
  }

  /** Emits a point phase as a child of this phase. */
  mark(name: string, options: PhaseOptions = {}): this {
    this.tracer.point(name, this.ids, this.withSource(options), this.context);
    return this;
  }

  /** Opens a child duration phase. */
  startPhase(name: string, options: PhaseOptions = {}): PhaseHandle {
    const child = this.tracer.startPhase(name, this.ids, this.withSource(options), this.context);
    return this.source === undefined ? child : new PhaseHandle(this.tracer, child.span, this.ids, this.source);
  }

  protected withSource(options: PhaseOptions): PhaseOptions {
    if (this.source === undefined) return options;
    return { ...options, attributes: { [ATTR_SOURCE]: this.source, ...options.attributes } };
  }

  end(options: PhaseOptions = {}): void {
    if (this.ended) return;
    this.ended = true;
    if (options.attributes) this.span.setAttributes(this.tracer.limit(options.attributes));
    this.span.end(options.time);
  }

  /** Ends the phase as an error: `error.type` set, status ERROR. */
  fail(errorType: string, options: PhaseOptions = {}): void {
    if (this.ended) return;
    this.span.setStatus({ code: SpanStatusCode.ERROR, message: errorType });
    this.end({ ...options, attributes: { [ATTR_ERROR_TYPE]: errorType, ...options.attributes } });
  }
}

export interface StartAttemptOptions extends PhaseOptions {
  /** 1-based attempt number within the logical request. Default: the turn's next number (1, 2, ...). */
  readonly attempt?: number;
  /** Whether this request is the post-tool continuation. */
  readonly continuation?: boolean;
  /** `stall_why.source` of the attempt and its milestones. Default: the tracer's source. */
  readonly source?: string;
}

export interface RetryOptions extends PhaseOptions {
  /** Why the request is retried: one of `RETRY_REASON_*`. */
  readonly reason: RetryReason;
  /** Retry number (1 for the first retry). */
  readonly attempt?: number;
  /** Most retries that will be made. */
  readonly max?: number;
  /** Delay before the next attempt, in milliseconds. */
  readonly delayMs?: number;
  /** Whether another attempt follows. Default true. */
  readonly willRetry?: boolean;
  /** `error.type` of the failure that caused the retry. */
  readonly errorType?: string;
  /** `stall_why.source` of the point phase. Default: the tracer's source. */
  readonly source?: string;
}

/**
 * One attempt at a model request. Its milestones (request sent, headers, first byte, first event,
 * end or error) are point phases under the attempt span, each emitted once.
 */
export class UpstreamAttempt extends PhaseHandle {
  private readonly seen = new Set<string>();

  private once(name: string, options: PhaseOptions): this {
    if (this.isEnded || this.seen.has(name)) return this;
    this.seen.add(name);
    return this.mark(name, options);
  }

  requestSent(options: PhaseOptions = {}): this {
    return this.once(PHASE_UPSTREAM_REQUEST_SENT, options);
  }
  headers(statusCode: number, options: PhaseOptions = {}): this {
    this.setAttributes({ [ATTR_HTTP_RESPONSE_STATUS_CODE]: statusCode });
    return this.once(PHASE_UPSTREAM_HEADERS, { ...options, attributes: { [ATTR_HTTP_RESPONSE_STATUS_CODE]: statusCode, ...options.attributes } });
  }
  firstByte(options: PhaseOptions = {}): this {
    return this.once(PHASE_UPSTREAM_FIRST_BYTE, options);
  }
  firstEvent(options: PhaseOptions = {}): this {
    return this.once(PHASE_UPSTREAM_FIRST_EVENT, options);
  }
  /**
   * Events are still arriving on the open stream (the counts so far in `attributes`): call it at
   * most every few seconds while they flow, so a long answer is not read as a stream gone silent.
   */
  streamProgress(options: PhaseOptions = {}): this {
    return this.isEnded ? this : this.mark(PHASE_UPSTREAM_STREAM_PROGRESS, options);
  }
  /** The stream ended normally; ends the attempt. */
  streamEnd(options: PhaseOptions = {}): void {
    this.once(PHASE_UPSTREAM_STREAM_END, options);
    this.end({ time: options.time, attributes: options.attributes });
  }
  /** The stream broke or the request failed; ends the attempt as an error. */
  streamError(errorType: string, options: PhaseOptions = {}): void {
    this.once(PHASE_UPSTREAM_STREAM_ERROR, { ...options, attributes: { [ATTR_ERROR_TYPE]: errorType, ...options.attributes } });
    this.fail(errorType, { time: options.time, attributes: options.attributes });
  }
}

/** A turn in progress. End it exactly once with its terminal status. */
export class TurnHandle extends PhaseHandle {
  private attempts = 0;

  get threadId(): string | undefined {
    return this.ids.threadId;
  }
  get turnId(): string | undefined {
    return this.ids.turnId;
  }

  /** The app-server accepted the user's request. */
  accepted(options: PhaseOptions = {}): this {
    return this.mark(PHASE_TURN_ACCEPTED, options);
  }

  /** Opens one upstream model-request attempt (numbered automatically unless `attempt` is given). */
  startAttempt(options: StartAttemptOptions = {}): UpstreamAttempt {
    const attempt = options.attempt ?? ++this.attempts;
    this.attempts = Math.max(this.attempts, attempt);
    const attributes = {
      [ATTR_UPSTREAM_ATTEMPT]: attempt,
      [ATTR_HTTP_REQUEST_RESEND_COUNT]: attempt - 1,
      [ATTR_UPSTREAM_CONTINUATION]: options.continuation,
      ...options.attributes,
    };
    const source = options.source ?? this.source;
    const child = this.startPhase(PHASE_UPSTREAM_ATTEMPT, {
      ...options,
      attributes: source === undefined ? attributes : { [ATTR_SOURCE]: source, ...attributes },
    });
    return new UpstreamAttempt(this.tracer, child.span, this.ids, source);
  }

  /** Marks a retry or reconnect of an upstream request (`stall_why.upstream.retry`). */
  retry(options: RetryOptions): this {
    const attributes = {
      ...(options.source === undefined ? {} : { [ATTR_SOURCE]: options.source }),
      [ATTR_RETRY_REASON]: options.reason,
      [ATTR_RETRY_ATTEMPT]: options.attempt,
      [ATTR_RETRY_MAX]: options.max,
      [ATTR_RETRY_DELAY_MS]: options.delayMs,
      [ATTR_RETRY_WILL_RETRY]: options.willRetry ?? true,
      [ATTR_ERROR_TYPE]: options.errorType,
      ...options.attributes,
    };
    return this.mark(PHASE_UPSTREAM_RETRY, { time: options.time, attributes });
  }

  /** Opens a stop/cancel phase; end it with `stall_why.cancel.result`. */
  startCancel(options: PhaseOptions = {}): PhaseHandle {
    return this.startPhase(PHASE_CANCEL, options);
  }

  /** Ends the turn with its terminal status. */
  endTurn(status: TurnEndStatus, options: EndTurnOptions = {}): void {
    if (this.isEnded) return;
    const attributes = { [ATTR_TURN_STATUS]: status, [ATTR_TURN_ERROR]: options.error, ...options.attributes };
    if (status === TURN_END_STATUS_FAILED) {
      this.fail(options.error ? 'turn_failed' : 'unknown', { time: options.time, attributes });
    } else {
      this.end({ time: options.time, attributes });
    }
  }
}
