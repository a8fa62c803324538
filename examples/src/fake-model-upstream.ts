import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { delay, type StallGate } from './stall-gate.js';
import { scenarioShape, type StallName } from './stalls.js';

/** Header the example app sends so the upstream can count attempts per turn. */
export const EXAMPLE_TURN_HEADER = 'x-example-turn-id';
/** The tool the fake model asks for. */
export const FAKE_TOOL_NAME = 'count_words';

export interface FakeModelUpstream {
  /** Base URL of the Responses-like API, e.g. `http://127.0.0.1:PORT/v1`. */
  readonly url: string;
  /** Requests received so far. */
  readonly requests: () => number;
  close(): Promise<void>;
}

interface ResponseItem {
  readonly type: string;
  readonly [key: string]: unknown;
}

/**
 * A tiny stand-in for the OpenAI Responses API on loopback: `POST /v1/responses` answers with an
 * SSE stream of `response.*` events (the shape Codex accepts, see docs/research). The first model
 * request of a turn meets the stall's fault; the reply asks for a tool when the scenario has one,
 * and a request that carries a `function_call_output` (the post-tool continuation) gets the answer.
 */
export async function startFakeModelUpstream(stall: StallName, gate: StallGate): Promise<FakeModelUpstream> {
  const shape = scenarioShape(stall);
  const hitsPerTurn = new Map<string, number>();
  let requests = 0;
  const server = createServer((req, res) => {
    void readJson(req).then(async (body) => {
      requests++;
      const turnKey = String(req.headers[EXAMPLE_TURN_HEADER] ?? '');
      const hit = (hitsPerTurn.get(turnKey) ?? 0) + 1;
      hitsPerTurn.set(turnKey, hit);
      const input = Array.isArray(body?.input) ? (body.input as ResponseItem[]) : [];
      const continuation = input.some((item) => item.type === 'function_call_output');
      if (!continuation && (await injectFault(stall, gate, hit, req, res))) return;
      const reply = continuation || !shape.tool ? answerItems(continuation) : toolCallItems();
      await streamReply(res, reply, stall === 'client-gone' ? gate : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests: () => requests,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** Applies the stall's fault to the first request(s) of a turn. True when the request was used up by the fault. */
async function injectFault(stall: StallName, gate: StallGate, hit: number, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  if (stall === 'backend-silent' && hit === 1) {
    sseHead(res);
    res.flushHeaders();
    await gate.hold();
  } else if (stall === 'backend-silent-before-headers' && hit === 1) {
    await gate.hold();
  } else if (stall === 'dropped-connections' && hit === 1) {
    gate.touch();
    req.socket.destroy();
    return true;
  } else if (stall === 'dropped-connections' && hit <= 3) {
    sseHead(res);
    write(res, 'response.created', { type: 'response.created', response: { id: `resp_drop_${hit}` } });
    await delay(10);
    res.socket?.destroy();
    return true;
  }
  return false;
}

function sseHead(res: ServerResponse): void {
  if (!res.headersSent) res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
}

function write(res: ServerResponse, event: string, data: unknown): void {
  if (res.destroyed || res.writableEnded) return;
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function answerItems(continuation: boolean): ResponseItem[] {
  const text = continuation ? 'The file has 42 words.' : 'Hello from the fake model.';
  return [
    { type: 'reasoning', id: 'rs_1', summary: [] },
    { type: 'message', role: 'assistant', id: 'msg_1', content: [{ type: 'output_text', text, annotations: [] }] },
  ];
}

function toolCallItems(): ResponseItem[] {
  return [
    { type: 'reasoning', id: 'rs_1', summary: [] },
    { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: FAKE_TOOL_NAME, arguments: JSON.stringify({ path: 'README.md' }) },
  ];
}

/** Streams `response.created`, each item (message text in a few deltas), `response.completed`. */
async function streamReply(res: ServerResponse, items: ResponseItem[], holdAfterFirstDelta?: StallGate): Promise<void> {
  sseHead(res);
  write(res, 'response.created', { type: 'response.created', response: { id: 'resp_1' } });
  let deltas = 0;
  for (const [index, item] of items.entries()) {
    const added = item.type === 'message' ? { ...item, content: [] } : item;
    write(res, 'response.output_item.added', { type: 'response.output_item.added', output_index: index, item: added });
    if (item.type === 'message') {
      const text = (item.content as Array<{ text: string }>)[0].text;
      for (const word of text.split(/(?<= )/)) {
        write(res, 'response.output_text.delta', { type: 'response.output_text.delta', output_index: index, content_index: 0, item_id: item.id, delta: word });
        if (deltas++ === 0 && holdAfterFirstDelta) await holdAfterFirstDelta.hold();
        await delay(2);
      }
    }
    write(res, 'response.output_item.done', { type: 'response.output_item.done', output_index: index, item });
  }
  const usage = { input_tokens: 10, input_tokens_details: { cached_tokens: 0 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 15 };
  write(res, 'response.completed', { type: 'response.completed', response: { id: 'resp_1', usage } });
  if (!res.destroyed) res.end();
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
