import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A fake OpenAI Responses API on loopback that a test scripts request by request: each POST to
 * `/v1/responses` takes the next queued reply (or the default one); other POSTs get `200 {}`. Replies are the Server-Sent
 * Event streams Codex 0.169 accepts (see /work/shared/research/codex-app-server.md), or faults:
 * silence before or after headers, a connection dropped mid-stream.
 */

export interface RecordedRequest {
  readonly index: number;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  readonly atMs: number;
}

export type Reply = (res: ServerResponse, request: RecordedRequest) => void;

export class FakeResponsesApi {
  /** The model requests (POST /v1/responses), in order. */
  readonly requests: RecordedRequest[] = [];
  /**
   * Everything else Codex sent to its base URL. With its OTel export on, 0.169 POSTs
   * /v1/analytics/codex/turn-costs once at startup (test/corpus/codex-otel/README.md): it is
   * answered `200 {}` and takes no scripted reply.
   */
  readonly otherRequests: RecordedRequest[] = [];
  private readonly queue: Reply[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly waiters: Array<() => void> = [];
  private server: Server | undefined;
  private responseCounter = 0;

  /**
   * `isModelRequest` says which requests take the queued replies (other model APIs than OpenAI's
   * Responses: test/e2e/fake-model-formats.ts); `otherReply` answers the rest (default: a POST gets
   * `200 {}`, anything else 404).
   */
  constructor(
    private readonly defaultReply: Reply = textReply('ok'),
    private readonly isModelRequest: (method: string, path: string) => boolean = (method, path) => method === 'POST' && path === '/v1/responses',
    private readonly otherReply?: Reply,
  ) {}

  /** Queues replies for the next requests, in order. */
  enqueue(...replies: Reply[]): this {
    this.queue.push(...replies);
    return this;
  }

  async listen(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves once `count` model requests have arrived (their bodies read). */
  async waitForRequests(count: number, timeoutMs = 60_000): Promise<RecordedRequest[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.requests.length < count) {
      if (Date.now() > deadline) throw new Error(`fake API: ${this.requests.length} of ${count} requests after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200).unref();
      });
    }
    return this.requests.slice(0, count);
  }

  nextResponseId(): string {
    return `resp_${++this.responseCounter}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      const model = this.isModelRequest(req.method ?? '', path);
      const seen = model ? this.requests : this.otherRequests;
      const request: RecordedRequest = { index: seen.length, path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), atMs: Date.now() };
      seen.push(request);
      if (!model) {
        if (this.otherReply) this.otherReply(res, request);
        else if (req.method === 'POST') res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        else res.writeHead(404).end();
        return;
      }
      for (const w of this.waiters.splice(0)) w();
      const reply = this.queue.shift() ?? this.defaultReply;
      reply(res, request);
    });
  }
}

// --- SSE building blocks -------------------------------------------------------------------

export function sseEvent(data: { type: string } & Record<string, unknown>): string {
  return `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

function startStream(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
}

const usage = { input_tokens: 10, input_tokens_details: { cached_tokens: 0 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 15 };

/** The events of an assistant message, from created to completed. */
export function messageEvents(text: string, id = 'resp_msg'): string[] {
  const msgId = `msg_${id}`;
  return [
    sseEvent({ type: 'response.created', response: { id } }),
    sseEvent({ type: 'response.output_item.added', output_index: 0, item: { type: 'message', role: 'assistant', id: msgId, content: [] } }),
    sseEvent({ type: 'response.output_text.delta', output_index: 0, content_index: 0, item_id: msgId, delta: text }),
    sseEvent({ type: 'response.output_item.done', output_index: 0, item: { type: 'message', role: 'assistant', id: msgId, content: [{ type: 'output_text', text, annotations: [] }] } }),
    sseEvent({ type: 'response.completed', response: { id, usage } }),
  ];
}

/** The events of a function call item, from created to completed. */
export function functionCallEvents(callId: string, name: string, args: Record<string, unknown>, id = 'resp_fc'): string[] {
  const item = { type: 'function_call', id: `fc_${callId}`, call_id: callId, name, arguments: JSON.stringify(args) };
  return [
    sseEvent({ type: 'response.created', response: { id } }),
    sseEvent({ type: 'response.output_item.added', output_index: 0, item }),
    sseEvent({ type: 'response.output_item.done', output_index: 0, item }),
    sseEvent({ type: 'response.completed', response: { id, usage } }),
  ];
}

// --- Replies -------------------------------------------------------------------------------

/** A healthy streamed assistant message. */
export function textReply(text: string): Reply {
  return (res, request) => {
    startStream(res);
    res.end(messageEvents(text, `resp_${request.index + 1}`).join(''));
  };
}

/** A healthy streamed function call (the server runs the tool, then sends the continuation). */
export function functionCallReply(callId: string, name: string, args: Record<string, unknown>): Reply {
  return (res, request) => {
    startStream(res);
    res.end(functionCallEvents(callId, name, args, `resp_${request.index + 1}`).join(''));
  };
}

/** Headers are sent, then nothing: the body never starts. */
export function silentAfterHeadersReply(): Reply {
  return (res) => startStream(res);
}

/** The request is read and never answered: no headers. */
export function silentBeforeHeadersReply(): Reply {
  return () => undefined;
}

/** Headers and the first events, then the connection is cut (no response.completed). */
export function dropMidStreamReply(): Reply {
  return (res, request) => {
    startStream(res);
    const events = messageEvents('partial', `resp_${request.index + 1}`);
    res.write(events.slice(0, 2).join(''), () => setTimeout(() => res.socket?.destroy(), 20));
  };
}

/** Headers and the first events at once, the rest after `delayMs` (a turn still streaming). */
export function slowTextReply(text: string, delayMs: number): Reply {
  return (res, request) => {
    startStream(res);
    const events = messageEvents(text, `resp_${request.index + 1}`);
    res.write(events.slice(0, 3).join(''));
    const timer = setTimeout(() => res.end(events.slice(3).join('')), delayMs);
    res.once('close', () => clearTimeout(timer));
  };
}

/** A long answer that streams: a text delta every `everyMs`, `count` of them, then the item and the response complete. */
export function tricklingTextReply(count: number, everyMs: number): Reply {
  return (res, request) => {
    startStream(res);
    const id = `resp_${request.index + 1}`;
    const [created, added, , done, completed] = messageEvents('word ', id);
    res.write(created! + added!);
    let sent = 0;
    const timer = setInterval(() => {
      if (sent++ < count) {
        res.write(sseEvent({ type: 'response.output_text.delta', output_index: 0, content_index: 0, item_id: `msg_${id}`, delta: 'word ' }));
        return;
      }
      clearInterval(timer);
      res.end(done! + completed!);
    }, everyMs);
    res.once('close', () => clearInterval(timer));
  };
}

/** Like `dropMidStreamReply`, but the stream hangs `delayMs` before it is cut: retries that take time. */
export function slowDropReply(delayMs: number): Reply {
  return (res, request) => {
    startStream(res);
    res.write(messageEvents('partial', `resp_${request.index + 1}`).slice(0, 2).join(''));
    const timer = setTimeout(() => res.socket?.destroy(), delayMs);
    res.once('close', () => clearTimeout(timer));
  };
}

/** An HTTP error status with a JSON error body (and extra headers such as Retry-After): Codex retries 429 and 5xx. */
export function statusReply(status: number, headers: Record<string, string> = {}): Reply {
  return (res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify({ error: { message: `fake API answered ${status}`, type: status === 429 ? 'rate_limit_exceeded' : 'server_error' } }));
  };
}

/** Headers, the first events and part of the text, then silence with the connection open: the model stalls mid-answer. */
export function stallMidStreamReply(): Reply {
  return (res, request) => {
    startStream(res);
    res.write(messageEvents('partial answer', `resp_${request.index + 1}`).slice(0, 3).join(''));
  };
}

/** A stream that ends with `response.failed` (the model refused the request). */
export function responseFailedReply(code = 'server_error', message = 'the fake model failed'): Reply {
  return (res, request) => {
    startStream(res);
    const id = `resp_${request.index + 1}`;
    res.end(sseEvent({ type: 'response.created', response: { id } }) + sseEvent({ type: 'response.failed', response: { id, error: { code, message } } }));
  };
}

/** Headers, then silence until `release` settles, then `body` (an SSE stream): a stall that ends. */
export function heldAfterHeadersReply(release: Promise<unknown>, body: (request: RecordedRequest) => string): Reply {
  return (res, request) => {
    startStream(res);
    void release.then(() => res.end(body(request)));
  };
}

/** No headers until `release` settles, then `body`: a stall before headers that ends. */
export function heldBeforeHeadersReply(release: Promise<unknown>, body: (request: RecordedRequest) => string): Reply {
  return (res, request) => void release.then(() => {
    startStream(res);
    res.end(body(request));
  });
}

/** A whole SSE stream at once. */
export function streamReply(body: (request: RecordedRequest) => string): Reply {
  return (res, request) => {
    startStream(res);
    res.end(body(request));
  };
}

/** The first `head` of a stream at once, the rest after `delayMs` (a turn still streaming). */
export function slowStreamReply(head: (request: RecordedRequest) => string, rest: string, delayMs: number): Reply {
  return (res, request) => {
    startStream(res);
    res.write(head(request));
    const timer = setTimeout(() => res.end(rest), delayMs);
    res.once('close', () => clearTimeout(timer));
  };
}

/** `statusReply` after `delayMs` before the status line: retries that take long enough to be seen live. */
export function slowStatusReply(status: number, delayMs: number): Reply {
  const reply = statusReply(status);
  return (res, request) => {
    const timer = setTimeout(() => reply(res, request), delayMs);
    res.once('close', () => clearTimeout(timer));
  };
}
