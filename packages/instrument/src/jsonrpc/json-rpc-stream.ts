import { diag } from '@opentelemetry/api';
import { MethodHeadMatcher, responseAtHead } from './line-head.js';

/** Which way a message went between the client (a renderer) and the server (an app-server, an ACP agent). */
export type JsonRpcDirection = 'client->server' | 'server->client';

export type JsonRpcFields = Record<string, unknown>;
export type JsonRpcId = string | number;

/** The bounds every JSON-RPC observer takes, with the same defaults. */
export interface JsonRpcBounds {
  /**
   * Longest line parsed, in bytes (UTF-16 units for strings). A longer line is counted as malformed
   * and only its head is read, so a huge answer still resolves its request. Default 64 MiB.
   */
  readonly maxLineBytes?: number;
  /** Most unanswered requests remembered per direction; beyond it the oldest is forgotten. Default 4096. */
  readonly maxPendingRequests?: number;
  /** Most turns tracked at once; beyond it the oldest is forgotten (its span stays open). Default 1024. */
  readonly maxTrackedTurns?: number;
  /** Most distinct unknown method names counted by name; the rest count under `(other)`. Default 256. */
  readonly maxUnknownMethodNames?: number;
}

export interface JsonRpcStreamStats {
  /** Messages observed (deltas included), malformed lines excluded. */
  readonly messages: number;
  /** Lines that were not a JSON-RPC message: not JSON, cut in half, too long, not an object. */
  readonly malformed: number;
  /** Messages whose method the observer does not know. */
  readonly unknownMethods: number;
  /** `unknownMethods` by method name (bounded by `maxUnknownMethodNames`). */
  readonly unknownByMethod: ReadonlyMap<string, number>;
  /** Streaming delta notifications. */
  readonly deltas: number;
}

/** What a protocol module says about a request or notification it was shown. */
export const JSONRPC_UNKNOWN = Symbol('unknown method');
export const JSONRPC_DELTA = Symbol('delta');
export type JsonRpcVerdict<Pending> = Pending | typeof JSONRPC_UNKNOWN | typeof JSONRPC_DELTA | undefined;

/** One protocol's mapping of its methods onto phases; the stream does the framing and bookkeeping. */
export interface JsonRpcProtocol<Pending> {
  /**
   * A request (`id` set) or notification. Returns what to remember until the request's answer (or
   * undefined for nothing), `JSONRPC_UNKNOWN` for a method the protocol does not define, or
   * `JSONRPC_DELTA` for a streamed delta.
   */
  onMessage(direction: JsonRpcDirection, method: string, id: JsonRpcId | undefined, params: JsonRpcFields, message: JsonRpcFields, time: number): JsonRpcVerdict<Pending>;
  /** The answer (`result` or `error`) to a request remembered from `onMessage`. */
  onAnswer(request: Pending, message: JsonRpcFields, time: number): void;
  /**
   * A delta line, parsed: at most one per `DELTA_SAMPLE_MS` of the stream (deltas are otherwise
   * counted, never parsed), so an item still being written can say so.
   */
  onDeltaSample?(params: JsonRpcFields, time: number): void;
}

/** How often a delta line is parsed for `onDeltaSample`: with a few items streaming at once, each is seen every few seconds. */
export const DELTA_SAMPLE_MS = 1_000;

export interface JsonRpcStreamOptions extends JsonRpcBounds {
  /** Clock for messages that carry no time of their own. Default `Date.now`. */
  readonly now?: () => number;
  /** Named once in the `diag.warn` of an internal error. */
  readonly observerName: string;
  /** Notification lines counted as deltas from their first bytes, never parsed (`{"method":"…",` heads). */
  readonly deltaHeads?: Iterable<string>;
}

const OTHER_UNKNOWN = '(other)';

export const isFields = (value: unknown): value is JsonRpcFields => value !== null && typeof value === 'object' && !Array.isArray(value);
export const fieldsOf = (value: unknown): JsonRpcFields => (isFields(value) ? value : {});
export const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
export const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
export const isRequestId = (value: unknown): value is JsonRpcId => typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));

/** Inserts into a bounded map: when full, the oldest entry is forgotten first. */
export function boundedSet<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  if (!map.has(key) && map.size >= max) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, value);
}

/** A JSON-RPC error as a low-cardinality `error.type`: `jsonrpc.<code>`. */
export function rpcErrorType(error: unknown): string {
  const code = fieldsOf(error).code;
  return typeof code === 'number' || typeof code === 'string' ? `jsonrpc.${String(code).slice(0, 32)}` : 'jsonrpc.error';
}

/**
 * The protocol-independent half of a JSON-RPC observer: line framing (with a byte-level fast path
 * for delta lines), the line-size bound, request/answer correlation per direction with a bound on
 * unanswered requests, counting of malformed lines and unknown methods, and the promise never to
 * throw into the host. A protocol module (`JsonRpcProtocol`) says what each method means.
 */
export class JsonRpcStream<Pending> {
  readonly maxPending: number;
  readonly maxTurns: number;
  private readonly maxLineBytes: number;
  private readonly maxUnknownNames: number;
  private readonly now: () => number;
  private readonly deltaLine: MethodHeadMatcher | undefined;
  /** Unanswered requests, by the direction they were sent in. */
  private readonly fromClient = new Map<JsonRpcId, Pending>();
  private readonly fromServer = new Map<JsonRpcId, Pending>();
  private readonly unknownCounts = new Map<string, number>();
  private counts = { messages: 0, malformed: 0, unknownMethods: 0, deltas: 0 };
  private isClosed = false;
  private warned = false;
  private lastDeltaSample = -Infinity;

  constructor(
    private readonly protocol: JsonRpcProtocol<Pending>,
    private readonly options: JsonRpcStreamOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.maxLineBytes = options.maxLineBytes ?? 64 * 1024 * 1024;
    this.maxPending = options.maxPendingRequests ?? 4096;
    this.maxTurns = options.maxTrackedTurns ?? 1024;
    this.maxUnknownNames = options.maxUnknownMethodNames ?? 256;
    this.deltaLine = options.deltaHeads ? new MethodHeadMatcher(options.deltaHeads) : undefined;
  }

  get stats(): JsonRpcStreamStats {
    return { ...this.counts, unknownByMethod: this.unknownCounts };
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Unknown methods plus malformed lines so far: what a turn span that ends reports. */
  get unreadMessages(): number {
    return this.counts.unknownMethods + this.counts.malformed;
  }

  clock(timeMs: number | undefined): number {
    return timeMs ?? this.now();
  }

  /** One line of the stream (one JSON object, with or without its newline). Never throws. */
  observeLine(direction: JsonRpcDirection, line: string | Uint8Array, timeMs?: number): void {
    if (this.isClosed) return;
    try {
      this.readLine(direction, line, timeMs);
    } catch (error) {
      this.internalError(error);
    }
  }

  private readLine(direction: JsonRpcDirection, line: string | Uint8Array, timeMs: number | undefined): void {
    const text = typeof line === 'string' || Buffer.isBuffer(line) ? line : Buffer.from(line.buffer, line.byteOffset, line.byteLength);
    if (text.length === 0) return;
    if (this.deltaLine?.matches(text)) {
      this.counts.messages++;
      this.counts.deltas++;
      if (this.protocol.onDeltaSample) this.sampleDelta(text, timeMs);
      return;
    }
    if (text.length > this.maxLineBytes) {
      this.observeOversized(direction, text, timeMs);
      return;
    }
    const source = typeof text === 'string' ? text : text.toString('utf8');
    let message: unknown;
    try {
      message = JSON.parse(source);
    } catch {
      // A blank line (a bare newline between messages) is framing, not a malformed message.
      if (source.trim().length > 0) this.noteMalformed();
      return;
    }
    this.observeMessage(direction, message, timeMs);
  }

  /** Whether a delta at `time` is the one to hand to the protocol: one per `DELTA_SAMPLE_MS` of the stream's time. */
  private deltaSampleDue(time: number): boolean {
    if (time - this.lastDeltaSample < DELTA_SAMPLE_MS) return false;
    this.lastDeltaSample = time;
    return true;
  }

  /** Parses a delta line for the protocol, when one is due. */
  private sampleDelta(text: string | Buffer, timeMs: number | undefined): void {
    const time = this.clock(timeMs);
    if (text.length > this.maxLineBytes || !this.deltaSampleDue(time)) return;
    let message: unknown;
    try {
      message = JSON.parse(typeof text === 'string' ? text : text.toString('utf8'));
    } catch {
      return;
    }
    if (isFields(message)) this.protocol.onDeltaSample!(fieldsOf(message.params), time);
  }

  /** One already parsed message. Never throws. */
  observeMessage(direction: JsonRpcDirection, message: unknown, timeMs?: number): void {
    if (this.isClosed) return;
    if (!isFields(message)) {
      this.noteMalformed();
      return;
    }
    try {
      this.dispatch(direction, message, this.clock(timeMs));
    } catch (error) {
      this.internalError(error);
    }
  }

  /** Counts a line that could not be read (a half line at EOF, a message in an impossible shape). */
  noteMalformed(): void {
    if (!this.isClosed) this.counts.malformed++;
  }

  /** Counts a delta recognised after parsing. */
  noteDelta(): void {
    this.counts.deltas++;
  }

  /** Counts a message of a method (or a kind within one) the protocol does not define. */
  countUnknown(method: string): void {
    this.counts.unknownMethods++;
    const key = this.unknownCounts.has(method) || this.unknownCounts.size < this.maxUnknownNames ? method.slice(0, 200) : OTHER_UNKNOWN;
    this.unknownCounts.set(key, (this.unknownCounts.get(key) ?? 0) + 1);
  }

  /** Forgets an unanswered request (e.g. the server withdrew it) and returns what was remembered. */
  takePending(sentIn: JsonRpcDirection, id: JsonRpcId): Pending | undefined {
    const map = sentIn === 'client->server' ? this.fromClient : this.fromServer;
    const request = map.get(id);
    map.delete(id);
    return request;
  }

  /** Releases the pending requests; later calls are ignored. */
  close(): void {
    this.isClosed = true;
    this.fromClient.clear();
    this.fromServer.clear();
  }

  /** A bug in a protocol module must not take the proxied session down: counted like a line that could not be read, said once. */
  private internalError(error: unknown): void {
    this.counts.malformed++;
    if (this.warned) return;
    this.warned = true;
    diag.warn(`stall-why: the ${this.options.observerName} skipped a message it could not handle: ${String(error)}`);
  }

  private dispatch(direction: JsonRpcDirection, message: JsonRpcFields, time: number): void {
    const method = str(message.method);
    const id = message.id;
    if (method === undefined) {
      if (isRequestId(id) && ('result' in message || 'error' in message)) {
        this.counts.messages++;
        this.answer(direction, id, message, time);
      } else {
        this.counts.malformed++;
      }
      return;
    }
    this.counts.messages++;
    const requestId = isRequestId(id) ? id : undefined;
    const verdict = this.protocol.onMessage(direction, method, requestId, fieldsOf(message.params), message, time);
    if (verdict === JSONRPC_UNKNOWN) this.countUnknown(method);
    else if (verdict === JSONRPC_DELTA) {
      this.counts.deltas++;
      // Parsed already (a message handed over whole, or a delta head the line matcher did not know).
      if (this.protocol.onDeltaSample && this.deltaSampleDue(time)) this.protocol.onDeltaSample(fieldsOf(message.params), time);
    }
    else if (verdict !== undefined && requestId !== undefined) {
      boundedSet(direction === 'client->server' ? this.fromClient : this.fromServer, requestId, verdict, this.maxPending);
    }
  }

  /** An answer travels the other way from its request. */
  private answer(direction: JsonRpcDirection, id: JsonRpcId, message: JsonRpcFields, time: number): void {
    const request = this.takePending(direction === 'server->client' ? 'client->server' : 'server->client', id);
    if (request !== undefined) this.protocol.onAnswer(request, message, time);
  }

  /** A line too long to parse: counted as malformed, but if it answers a request, the request is resolved. */
  private observeOversized(direction: JsonRpcDirection, line: string | Buffer, timeMs: number | undefined): void {
    this.counts.malformed++;
    const head = responseAtHead(line);
    if (!head) return;
    const answer = head.isError ? { error: { code: 'oversized' } } : { result: undefined };
    this.answer(direction, head.id, answer, this.clock(timeMs));
  }
}
