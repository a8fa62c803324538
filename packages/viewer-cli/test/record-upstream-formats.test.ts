import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ATTR_ERROR_TYPE, ATTR_RETRY_DELAY_MS, ATTR_UPSTREAM_EVENTS, PHASE_UPSTREAM_ATTEMPT, PHASE_UPSTREAM_FIRST_EVENT,
  PHASE_UPSTREAM_HEADERS, PHASE_UPSTREAM_STREAM_END, PHASE_UPSTREAM_STREAM_ERROR,
} from '@stall-why/conventions';
import { readFlightRecords, type RecordedSpan } from '@stall-why/flight-record';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, freePort, runCli } from './cli-runner.js';

// The upstream proxy of `stall-why record` in front of an origin speaking the three SSE formats ACP
// agents use, with a fake ACP agent that hangs up right after the completion event (codex-acp 0.16
// does so after `response.completed`): a completed stream is a success, whoever hangs up first.
const AGENT = join(import.meta.dirname, 'fixtures', 'fake-acp-agent.mjs');

/** Each format's stream, as the research fakes sent it; the origin then keeps the connection open. */
const STREAMS: Record<string, string> = {
  '/v1/responses': ['response.created', 'response.output_text.delta', 'response.completed']
    .map((type) => `event: ${type}\ndata: {"type":"${type}"}\n\n`).join(''),
  '/v1/messages': ['message_start', 'content_block_delta', 'message_delta', 'message_stop']
    .map((type) => `event: ${type}\ndata: {"type":"${type}"}\n\n`).join(''),
  '/v1beta/models/gemini-3.8-flash:streamGenerateContent': 'data: {"candidates":[{"content":{"parts":[{"text":"Hi"}]}}]}\r\n\r\n'
    + 'data: {"candidates":[{"content":{"parts":[{"text":"."}]},"finishReason":"STOP"}]}\r\n\r\n',
};

let origin: Server;
let originUrl: string;
const dirs: string[] = [];

function originHandler(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '').split('?')[0]!;
  req.resume();
  req.on('end', () => {
    if (path === '/v1/overloaded') {
      res.writeHead(529, { 'retry-after': '3', 'content-type': 'application/json' }).end('{"type":"error"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    // Half the stream, a pause, then the rest: the events arrive as they would from a model.
    const stream = STREAMS[path] ?? '';
    res.write(stream.slice(0, 20));
    setTimeout(() => res.write(stream.slice(20)), 30);
    // Never ended: only the client's hang-up closes it.
  });
}

/** One ACP session through record, its one prompt calling the model at `path` through the proxy. */
async function recordModelTurn(path: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'stall-why-formats-'));
  dirs.push(dir);
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, 'record', '--out', dir, '--upstream', `127.0.0.1:${port}=${originUrl}`, '--', process.execPath, AGENT], {
    stdio: 'pipe', env: { ...process.env, FAKE_ACP_MODEL_URL: `http://127.0.0.1:${port}${path}` },
  });
  let stdout = '';
  let stderr = '';
  const line = (m: object) => child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...m })}\n`);
  child.stdout.on('data', (c: Buffer) => (stdout += c));
  child.stderr.on('data', (c: Buffer) => (stderr += c));
  // The agent asks the model as soon as it is prompted: only once the proxy listens.
  for (const until = Date.now() + 15_000; !stderr.includes('proxying');) {
    if (Date.now() > until) throw new Error(`record did not start its proxy: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  line({ id: 0, method: 'initialize', params: { protocolVersion: 1, clientCapabilities: {} } });
  line({ id: 1, method: 'session/new', params: { cwd: '/tmp', mcpServers: [] } });
  line({ id: 2, method: 'session/prompt', params: { sessionId: 'sess-1', prompt: [{ type: 'text', text: 'MODEL' }] } });
  const deadline = Date.now() + 10_000;
  while (!stdout.includes('"id":2,')) {
    if (Date.now() > deadline) throw new Error(`no answer: ${stdout}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  // The proxy books a client abort only after a grace period; wait past it before the agent exits.
  await new Promise((r) => setTimeout(r, 600));
  child.stdin.end();
  await new Promise((r) => child.once('close', r));
  return dir;
}

async function endedSpans(dir: string): Promise<RecordedSpan[]> {
  const ended: RecordedSpan[] = [];
  for await (const rec of readFlightRecords(dir)) if (rec.type === 'end') ended.push(rec.span);
  return ended;
}

beforeAll(async () => {
  origin = createServer(originHandler);
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
});

afterAll(async () => {
  origin.closeAllConnections();
  await new Promise<void>((r) => origin.close(() => r()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('record --upstream reads the SSE of OpenAI Responses, Anthropic Messages and Gemini', () => {
  for (const path of Object.keys(STREAMS)) {
    it(`${path}: the agent hangs up after the completion event, and the turn is healthy, not transport_retry`, async () => {
      const dir = await recordModelTurn(path);
      const ended = await endedSpans(dir);
      const attempts = ended.filter((s) => s.name === PHASE_UPSTREAM_ATTEMPT);
      expect(attempts).toHaveLength(1);
      expect(attempts[0]!.attributes[ATTR_ERROR_TYPE]).toBeUndefined();
      const children = ended.filter((s) => s.parentSpanId === attempts[0]!.spanId);
      const names = children.map((s) => s.name);
      expect(names).toContain(PHASE_UPSTREAM_HEADERS);
      expect(names).toContain(PHASE_UPSTREAM_FIRST_EVENT);
      expect(names).not.toContain(PHASE_UPSTREAM_STREAM_ERROR);
      const end = children.find((s) => s.name === PHASE_UPSTREAM_STREAM_END)!;
      expect(end.attributes[ATTR_UPSTREAM_EVENTS]).toBe(path.includes('gemini') ? 2 : path === '/v1/messages' ? 4 : 3);

      const judged = await runCli([dir, '--json']);
      const report = JSON.parse(judged.stdout) as { turns: Array<{ verdict: string; status: string }> };
      expect(report.turns.map((t) => [t.status, t.verdict])).toEqual([['completed', 'healthy']]);
      expect(judged.code).toBe(0);
    });
  }

  it('keeps an error answer\'s Retry-After on its headers', async () => {
    const dir = await recordModelTurn('/v1/overloaded');
    const ended = await endedSpans(dir);
    const headers = ended.find((s) => s.name === PHASE_UPSTREAM_HEADERS)!;
    expect(headers.attributes[ATTR_RETRY_DELAY_MS]).toBe(3000);
  }, 20_000);
});
