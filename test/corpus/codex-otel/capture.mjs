// Captures the real OpenTelemetry export of the Codex app-server 0.169 (the native binary from
// @openai/codex-linux-x64) for a set of turn scenarios, as test data for stall-why.
//
// Everything runs in a private network namespace with only loopback up (the script re-executes
// itself under `unshare --net --map-root-user`), so nothing can leave the machine. In there, per
// scenario, with a fresh CODEX_HOME:
//   - a fake OpenAI Responses API (node:http) answers POST /v1/responses with scripted SSE replies or
//     faults, and POST /v1/analytics/codex/turn-costs with 200 {};
//   - an OTLP/HTTP receiver (node:http) takes POST /v1/traces, /v1/logs, /v1/metrics (JSON, or
//     protobuf decoded with protobufjs; gunzipped if Content-Encoding: gzip) and appends each
//     request body as one JSON line to <scenario>.{traces,logs}.otlp.jsonl (and .metrics. for the two
//     scenarios that turn the metrics exporter on; raw protobuf bodies also go to .otlp.pb.b64);
//   - `codex app-server` is driven over stdio (JSON-RPC) the way a UI drives it.
// It writes <scenario>.timeline.json (wall-clock moments: requests sent, faults, API requests,
// notifications the client saw, each OTLP export that arrived, Codex's exit) and
// <scenario>.rollout.jsonl (Codex's rollout, strings over 300 chars cut).
//
//   node test/corpus/codex-otel/capture.mjs [scenario...]      (as root, or where unshare -rn works)
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { CODEX } from '../../codex-binary.mjs';
import { enterNetworkNamespace } from '../../network-namespace.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const REPO = join(here, '..', '..', '..');
const OUT = process.env.CAPTURE_OUT ?? here;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- 1. Isolation: re-run this script inside a network namespace with only loopback -----------
enterNetworkNamespace('capture');

// --- 2. OTLP protobuf decoding (protobufjs, a dependency of packages/instrument) ---------------
// The receiver's own messages (packages/instrument, built): traces, logs and the common ones.
const require = createRequire(join(REPO, 'packages/instrument/package.json'));
const protobuf = require('protobufjs');
const { OTLP_TRACE_MESSAGES } = await import(join(REPO, 'packages/instrument/dist/flight-recorder/otlp-trace-proto.js'));
const { OTLP_LOGS_MESSAGES } = await import(join(REPO, 'packages/instrument/dist/flight-recorder/otlp-logs-proto.js'));
// The fake API's WebSocket side (`transport: 'websocket'` scenarios): the `ws` package, a dev dependency.
const { WebSocketServer } = createRequire(join(REPO, 'package.json'))('ws');
const otlpRoot = protobuf.Root.fromJSON({ nested: { ...OTLP_TRACE_MESSAGES, ...OTLP_LOGS_MESSAGES } });
const HEX_ID = new Set(['traceId', 'spanId', 'parentSpanId']);
function hexIds(v) {
  if (Array.isArray(v)) return v.map(hexIds);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, HEX_ID.has(k) && typeof x === 'string' ? Buffer.from(x, 'base64').toString('hex') : hexIds(x)]));
  return v;
}
function decodeProtobuf(signal, bytes) {
  const type = otlpRoot.lookupType(signal === 'traces' ? 'ExportTraceServiceRequest' : 'ExportLogsServiceRequest');
  return hexIds(type.toObject(type.decode(bytes), { longs: String, bytes: String }));
}

// --- 3. The fake Responses API's replies ------------------------------------------------------
const usage = { input_tokens: 10, input_tokens_details: { cached_tokens: 0 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 15 };
const ev = (data) => `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
const startStream = (res) => { res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }); res.flushHeaders(); };
function messageEvents(text, id) {
  const msgId = `msg_${id}`;
  return [
    ev({ type: 'response.created', response: { id } }),
    ev({ type: 'response.output_item.added', output_index: 0, item: { type: 'message', role: 'assistant', id: msgId, content: [] } }),
    ev({ type: 'response.output_text.delta', output_index: 0, content_index: 0, item_id: msgId, delta: text }),
    ev({ type: 'response.output_item.done', output_index: 0, item: { type: 'message', role: 'assistant', id: msgId, content: [{ type: 'output_text', text, annotations: [] }] } }),
    ev({ type: 'response.completed', response: { id, usage } }),
  ];
}
function callEvents(callId, args, id) {
  const item = { type: 'function_call', id: `fc_${callId}`, call_id: callId, name: 'exec_command', arguments: JSON.stringify(args) };
  return [
    ev({ type: 'response.created', response: { id } }),
    ev({ type: 'response.output_item.added', output_index: 0, item }),
    ev({ type: 'response.output_item.done', output_index: 0, item }),
    ev({ type: 'response.completed', response: { id, usage } }),
  ];
}
// Each reply gets (res, ctx): ctx.mark(event, extra) adds to the timeline; ctx.index is the request's number.
const text = (msg) => (res, ctx) => { startStream(res); res.end(messageEvents(msg, `resp_${ctx.index + 1}`).join('')); ctx.mark('api.reply.completed', { reply: 'text' }); };
const toolCall = (args) => (res, ctx) => { startStream(res); res.end(callEvents(`call_${ctx.index + 1}`, args, `resp_${ctx.index + 1}`).join('')); ctx.mark('api.reply.completed', { reply: 'function_call', args }); };
const silentAfterHeaders = (res, ctx) => { startStream(res); ctx.mark('fault.began', { fault: 'headers sent (200 text/event-stream), then nothing' }); };
const silentBeforeHeaders = (res, ctx) => { ctx.mark('fault.began', { fault: 'request read, never answered (no headers)' }); };
const dropMidStream = (res, ctx) => {
  startStream(res);
  res.write(messageEvents('partial', `resp_${ctx.index + 1}`).slice(0, 2).join(''), () => setTimeout(() => { res.socket?.destroy(); ctx.mark('fault.began', { fault: 'connection cut after headers, response.created and output_item.added' }); }, 20));
};
const stallMidAnswer = (res, ctx) => {
  startStream(res);
  res.write(messageEvents('partial answer', `resp_${ctx.index + 1}`).slice(0, 3).join(''));
  ctx.mark('fault.began', { fault: 'headers, response.created, output_item.added, one text delta, then silence' });
};

/**
 * The same replies over the Responses API's WebSocket mode (Codex with `supports_websockets=true`):
 * each SSE event's `data` goes as one text message; a reply's headers are no-ops there (a WebSocket
 * request has no response headers of its own) and cutting the connection terminates the socket.
 */
function socketReply(ws) {
  const send = (text) => {
    for (const block of String(text ?? '').split('\n\n')) {
      const data = block.split('\n').find((l) => l.startsWith('data: '));
      if (data) ws.send(data.slice(6));
    }
  };
  return {
    writeHead() { return this; },
    flushHeaders() {},
    write(text, cb) { send(text); if (cb) setImmediate(cb); return true; },
    end(text) { send(text); },
    once(event, fn) { if (event === 'close') ws.once('close', fn); return this; },
    get socket() { return { destroy: () => ws.terminate() }; },
    get writableFinished() { return false; },
  };
}

// --- 4. Scenarios ----------------------------------------------------------------------------
// model: replies by request index (the last repeats when repeat); run(ctl): what the client does.
const HOLD = 25_000; // a stall is held this long (span/log batches flush meanwhile)
const AFTER = Number(process.env.CAPTURE_AFTER_MS ?? 12_000); // wait after the last client action, before SIGTERM, so batches are exported
const SCENARIOS = {
  healthy: { metrics: true, model: [text('hello from the fake model')], run: async (c) => { await c.turn(); await c.waitTurnCompleted(); } },
  healthy_binary: {
    about: 'healthy, with protocol="binary" for both exporters (protobuf decoded; raw bodies kept base64)',
    protocol: 'binary', model: [text('hello from the fake model')], run: async (c) => { await c.turn(); await c.waitTurnCompleted(); },
  },
  tool: {
    model: [toolCall({ cmd: 'echo hi' }), text('the command printed hi')],
    run: async (c) => { await c.turn(); await c.waitTurnCompleted(); },
  },
  stall_after_headers: {
    metrics: true, model: [silentAfterHeaders],
    run: async (c) => { await c.turn(); await c.waitFault(); await c.hold(HOLD); await c.interrupt(); await c.waitTurnCompleted(10_000); },
  },
  stall_before_headers: {
    model: [silentBeforeHeaders],
    run: async (c) => { await c.turn(); await c.waitFault(); await c.hold(HOLD); await c.interrupt(); await c.waitTurnCompleted(10_000); },
  },
  stream_drop_retries: {
    model: [dropMidStream], repeat: true, provider: { request_max_retries: 2, stream_max_retries: 2 },
    run: async (c) => { await c.turn(); await c.waitTurnCompleted(40_000); },
  },
  post_tool_continuation_stall: {
    model: [toolCall({ cmd: 'echo hi' }), silentAfterHeaders],
    run: async (c) => { await c.turn(); await c.waitFault(); await c.hold(HOLD); await c.interrupt(); await c.waitTurnCompleted(10_000); },
  },
  approval_pending: {
    model: [toolCall({ cmd: 'touch approved.txt', sandbox_permissions: 'require_escalated', justification: 'needs to write a file' })],
    config: { approval_policy: '"on-request"', sandbox_mode: '"read-only"' },
    run: async (c) => {
      await c.turn();
      await c.waitMethod('item/commandExecution/requestApproval', 15_000);
      c.mark('fault.began', { fault: 'approval request left unanswered by the client' });
      await c.hold(HOLD); await c.interrupt(); await c.waitTurnCompleted(10_000);
    },
  },
  interrupt: {
    model: [stallMidAnswer],
    run: async (c) => { await c.turn(); await c.waitMethod('item/agentMessage/delta', 15_000); await c.hold(3_000); await c.interrupt(); await c.waitTurnCompleted(10_000); },
  },
  compaction: {
    model: [text('hello from the fake model'), text('summary of the conversation so far')],
    run: async (c) => { await c.turn(); await c.waitTurnCompleted(); await c.hold(1_000); await c.compact(); await c.waitTurnCompleted(); },
  },
  tool_running: {
    model: [toolCall({ cmd: 'sleep 30', yield_time_ms: 30_000 }), text('slept')],
    run: async (c) => {
      await c.turn();
      await c.waitMethod('item/started', 15_000, (p) => p?.item?.type === 'commandExecution');
      c.mark('fault.began', { fault: 'tool running: sleep 30 with yield_time_ms 30000' });
      await c.hold(20_000); await c.interrupt(); await c.waitTurnCompleted(10_000);
    },
  },
  ws_healthy: {
    about: 'healthy over the Responses API WebSocket transport (provider supports_websockets=true)',
    transport: 'websocket', model: [text('hello from the fake model')], run: async (c) => { await c.turn(); await c.waitTurnCompleted(); },
  },
  ws_tool: {
    about: 'tool over the WebSocket transport',
    transport: 'websocket', model: [toolCall({ cmd: 'echo hi' }), text('the command printed hi')], run: async (c) => { await c.turn(); await c.waitTurnCompleted(); },
  },
  ws_stall: {
    about: 'the WebSocket request is read and never answered; interrupt after 25 s',
    transport: 'websocket', model: [silentBeforeHeaders],
    run: async (c) => { await c.turn(); await c.waitFault(); await c.hold(HOLD); await c.interrupt(); await c.waitTurnCompleted(10_000); },
  },
  ws_stall_mid_answer: {
    about: 'over the WebSocket: response.created, an item added, one text delta, then silence; interrupt after 25 s',
    transport: 'websocket', model: [stallMidAnswer],
    run: async (c) => { await c.turn(); await c.waitFault(); await c.hold(HOLD); await c.interrupt(); await c.waitTurnCompleted(10_000); },
  },
  ws_post_tool_continuation_stall: {
    about: 'over the WebSocket: the tool runs, the continuation is never answered; interrupt after 25 s',
    transport: 'websocket', model: [toolCall({ cmd: 'echo hi' }), silentBeforeHeaders],
    run: async (c) => { await c.turn(); await c.waitFault(); await c.hold(HOLD); await c.interrupt(); await c.waitTurnCompleted(10_000); },
  },
  ws_drop_retries: {
    about: 'over the WebSocket: the socket is cut after response.created and an item added, on every attempt',
    transport: 'websocket', model: [dropMidStream], repeat: true, provider: { request_max_retries: 2, stream_max_retries: 2 },
    run: async (c) => { await c.turn(); await c.waitTurnCompleted(40_000); },
  },
};

// --- 5. One run ------------------------------------------------------------------------------
const cut = (v, n = 300) => (typeof v === 'string' && v.length > n ? `${v.slice(0, 120)}…[${v.length} chars cut]` : Array.isArray(v) ? v.map((x) => cut(x, n)) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, cut(x, n)])) : v);
const attr = (kvs, key) => { const v = kvs?.find((a) => a.key === key)?.value; return v ? Object.values(v)[0] : undefined; };

async function capture(name, sc) {
  const home = mkdtempSync(join(tmpdir(), 'codex-otel-home-'));
  const work = mkdtempSync(join(tmpdir(), 'codex-otel-work-'));
  const timeline = [];
  let turnStartAt;
  const mark = (event, extra = {}) => {
    const atMs = Date.now();
    timeline.push({ atMs, sinceTurnStartMs: turnStartAt === undefined ? null : atMs - turnStartAt, event, ...extra });
  };
  const files = {};
  for (const s of ['traces', 'logs', 'metrics']) { files[s] = join(OUT, `${name}.${s}.otlp.jsonl`); rmSync(files[s], { force: true }); }
  const rawFile = (s) => join(OUT, `${name}.${s}.otlp.pb.b64`);
  for (const s of ['traces', 'logs', 'metrics']) rmSync(rawFile(s), { force: true });

  // OTLP receiver.
  const receiver = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const signal = (req.url ?? '').replace(/^\/v1\//, '');
      const ct = req.headers['content-type'] ?? '';
      const enc = req.headers['content-encoding'];
      let body = Buffer.concat(chunks);
      if (req.method !== 'POST' || !files[signal]) { mark('otlp.unexpected', { method: req.method, url: req.url }); res.writeHead(404).end(); return; }
      if (enc === 'gzip') body = gunzipSync(body);
      let json;
      if (ct.includes('json')) json = JSON.parse(body.toString('utf8'));
      else {
        appendFileSync(rawFile(signal), body.toString('base64') + '\n');
        json = signal === 'metrics' ? { undecoded: true, bytes: body.length } : decodeProtobuf(signal, body);
      }
      appendFileSync(files[signal], JSON.stringify(json) + '\n');
      const summary = { signal, contentType: ct, contentEncoding: enc ?? null, bytes: body.length };
      if (signal === 'traces') summary.spans = (json.resourceSpans ?? []).flatMap((r) => (r.scopeSpans ?? []).flatMap((s) => (s.spans ?? []).map((sp) => sp.name)));
      if (signal === 'logs') summary.events = (json.resourceLogs ?? []).flatMap((r) => (r.scopeLogs ?? []).flatMap((s) => (s.logRecords ?? []).map((l) => attr(l.attributes, 'event.name') ?? l.eventName ?? (typeof attr([{ key: 'b', value: l.body }], 'b') === 'string' ? attr([{ key: 'b', value: l.body }], 'b').slice(0, 60) : '?'))));
      if (signal === 'metrics') summary.metrics = (json.resourceMetrics ?? []).flatMap((r) => (r.scopeMetrics ?? []).flatMap((s) => (s.metrics ?? []).map((m) => m.name)));
      mark('otlp.export', summary);
      if (ct.includes('json')) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });

  // Fake Responses API.
  let modelRequests = 0;
  const api = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.method === 'POST' && req.url === '/v1/responses') {
        const index = modelRequests++;
        let parsed; try { parsed = JSON.parse(body); } catch { parsed = undefined; }
        const input = parsed?.input ?? [];
        mark('api.request', { index, path: req.url, bytes: body.length, inputItems: input.length, lastInputType: input.at(-1)?.type, lastInputRole: input.at(-1)?.role, hasTraceparent: 'traceparent' in req.headers, traceparent: req.headers.traceparent });
        res.once('close', () => mark('api.connection.closed', { index, finished: res.writableFinished }));
        const reply = index < sc.model.length ? sc.model[index] : sc.repeat ? sc.model.at(-1) : undefined;
        if (reply) reply(res, { index, mark });
        else { mark('api.no_reply_scripted', { index }); }
        return;
      }
      if (req.method === 'POST' && req.url === '/v1/analytics/codex/turn-costs') {
        let parsed; try { parsed = JSON.parse(body); } catch { parsed = body; }
        mark('api.analytics.turn_costs', { body: cut(parsed) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      mark('api.other_request', { method: req.method, path: req.url, bytes: body.length });
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not here"}}');
    });
  });
  // The WebSocket transport: one socket may carry several requests (`response.create` messages).
  const wss = new WebSocketServer({ noServer: true });
  api.on('upgrade', (req, socket, head) => {
    mark('api.ws.upgrade', { path: req.url, hasTraceparent: 'traceparent' in req.headers });
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('close', (code) => mark('api.ws.closed', { code }));
      ws.on('message', (data) => {
        let parsed; try { parsed = JSON.parse(String(data)); } catch { parsed = undefined; }
        if (parsed?.type !== 'response.create') { mark('api.ws.message', { type: parsed?.type, bytes: data.length }); return; }
        // A warm-up (`generate: false`) prepares the connection; it is answered, not counted as a model request.
        if (parsed.generate === false) {
          const id = `resp_warmup_${Date.now()}`;
          socketReply(ws).end([ev({ type: 'response.created', response: { id } }), ev({ type: 'response.completed', response: { id, usage } })].join(''));
          mark('api.ws.warmup');
          return;
        }
        const index = modelRequests++;
        const input = parsed.input ?? [];
        mark('api.request', { index, transport: 'websocket', bytes: data.length, inputItems: input.length, lastInputType: input.at(-1)?.type, lastInputRole: input.at(-1)?.role, previousResponseId: parsed.previous_response_id });
        const reply = index < sc.model.length ? sc.model[index] : sc.repeat ? sc.model.at(-1) : undefined;
        if (reply) reply(socketReply(ws), { index, mark });
        else mark('api.no_reply_scripted', { index });
      });
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  await new Promise((r) => api.listen(0, '127.0.0.1', r));
  const rport = receiver.address().port;
  const aport = api.address().port;
  const protocol = sc.protocol ?? 'json';
  const retries = sc.provider ?? { request_max_retries: 2, stream_max_retries: 3 };
  const config = {
    model_provider: '"fake"',
    'model_providers.fake': `{name="fake", base_url="http://127.0.0.1:${aport}/v1", wire_api="responses", env_key="FAKE_KEY", request_max_retries=${retries.request_max_retries}, stream_max_retries=${retries.stream_max_retries}${sc.transport === 'websocket' ? ', supports_websockets=true' : ''}}`,
    model: '"gpt-fake"',
    approval_policy: '"never"',
    sandbox_mode: '"danger-full-access"',
    check_for_update_on_startup: 'false',
    'feedback.enabled': 'false',
    'analytics.enabled': 'false', // (the turn-costs POST still happens: it is not governed by this)
    'otel.environment': '"test"',
    'otel.exporter': `{otlp-http={endpoint="http://127.0.0.1:${rport}/v1/logs",protocol="${protocol}"}}`,
    'otel.trace_exporter': `{otlp-http={endpoint="http://127.0.0.1:${rport}/v1/traces",protocol="${protocol}"}}`,
    // Metrics are exported only at shutdown (~600 KB of histograms), so they are kept for two scenarios only.
    'otel.metrics_exporter': sc.metrics ? `{otlp-http={endpoint="http://127.0.0.1:${rport}/v1/metrics",protocol="json"}}` : '"none"',
    ...sc.config,
    ...(process.env.CAPTURE_EXTRA_CONFIG ? JSON.parse(process.env.CAPTURE_EXTRA_CONFIG) : {}), // experiments only
  };
  const args = ['app-server', ...Object.entries(config).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  const shownArgs = args.map((a) => a.replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT'));
  const child = spawn(CODEX, args, { cwd: work, env: { ...process.env, CODEX_HOME: home, FAKE_KEY: 'sk-fake' }, stdio: ['pipe', 'pipe', 'pipe'] });
  mark('codex.spawned', { pid: child.pid });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((r) => child.once('exit', (code, signal) => { mark('codex.exited', { code, signal }); r({ code, signal }); }));

  // JSON-RPC client.
  let nextId = 0;
  const pending = new Map();
  const seen = []; // server messages, for waiters
  const waiters = new Set();
  let threadId; let turnId;
  const send = (method, params) => { const id = ++nextId; mark('client.request', { id, method, params: cut(params, 200) }); child.stdin.write(JSON.stringify({ id, method, params }) + '\n'); return new Promise((r) => pending.set(id, r)); };
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i); buf = buf.slice(i + 1);
      let msg; try { msg = JSON.parse(line); } catch { continue; }
      if (msg.method) {
        const p = msg.params ?? {};
        const brief = { method: msg.method, ...(msg.id !== undefined ? { id: msg.id, serverRequest: true } : {}) };
        if (p.turn) brief.turn = { id: p.turn.id, status: p.turn.status, error: p.turn.error ?? undefined };
        if (p.item) brief.item = { type: p.item.type, id: p.item.id, status: p.item.status };
        if (p.error) brief.error = cut(p.error, 200);
        if (p.willRetry !== undefined) brief.willRetry = p.willRetry;
        if (p.status) brief.status = p.status;
        if (p.delta !== undefined) brief.delta = cut(p.delta, 80);
        if (msg.id !== undefined) brief.params = cut(p, 200);
        mark('client.saw', brief);
        seen.push(msg);
        for (const w of [...waiters]) if (w.test(msg)) { waiters.delete(w); w.resolve(msg.params); }
      } else if (msg.id !== undefined && pending.has(msg.id)) {
        mark('client.response', { id: msg.id, ok: !msg.error, error: msg.error?.message });
        pending.get(msg.id)(msg.result ?? { error: msg.error });
        pending.delete(msg.id);
      }
    }
  });
  const waitFor = (test, ms, what) => {
    const already = seen.find(test);
    if (already) return Promise.resolve(already.params);
    return new Promise((resolve) => {
      const w = { test, resolve };
      waiters.add(w);
      setTimeout(() => { if (waiters.delete(w)) { mark('client.wait_timed_out', { what }); resolve(undefined); } }, ms);
    });
  };
  let completedSeen = 0;
  const faultBegan = () => timeline.some((e) => e.event === 'fault.began');
  const ctl = {
    mark,
    turn: async () => {
      turnStartAt = Date.now();
      const r = await send('turn/start', { threadId, input: [{ type: 'text', text: 'please help' }] });
      turnId = r?.turn?.id;
    },
    compact: async () => { const r = await send('thread/compact/start', { threadId }); return r; },
    interrupt: async () => { const r = await send('turn/interrupt', { threadId, turnId }); return r; },
    hold: (ms) => sleep(ms),
    waitMethod: (method, ms, pred = () => true) => waitFor((m) => m.method === method && pred(m.params), ms, method),
    waitTurnCompleted: async (ms = 20_000) => {
      const n = ++completedSeen;
      const deadline = Date.now() + ms;
      while (seen.filter((m) => m.method === 'turn/completed').length < n && Date.now() < deadline) await sleep(50);
      if (seen.filter((m) => m.method === 'turn/completed').length < n) mark('client.wait_timed_out', { what: 'turn/completed' });
    },
    waitFault: async (ms = 15_000) => { const d = Date.now() + ms; while (!faultBegan() && Date.now() < d) await sleep(20); },
  };

  try {
    await send('initialize', { clientInfo: { name: 'stall-why-otel-capture', version: '0.0.1' } });
    child.stdin.write(JSON.stringify({ method: 'initialized' }) + '\n');
    const started = await send('thread/start', { cwd: work });
    threadId = started?.thread?.id;
    await sc.run(ctl);
  } catch (e) { mark('capture.error', { message: String(e?.stack ?? e) }); }
  mark('capture.waiting_for_export', { ms: AFTER });
  await sleep(AFTER);
  mark('codex.sigterm');
  child.kill('SIGTERM');
  const winner = await Promise.race([exited, sleep(10_000).then(() => 'timeout')]);
  if (winner === 'timeout') {
    mark('codex.sigterm_ignored', { afterMs: 10_000 }); child.stdin.end();
    const w2 = await Promise.race([exited, sleep(5_000).then(() => 'timeout')]);
    if (w2 === 'timeout') { mark('codex.sigkill'); child.kill('SIGKILL'); await exited; }
  }
  await sleep(1_000); // late exports after exit (none expected)
  mark('capture.done');
  receiver.close(); receiver.closeAllConnections?.();
  api.close(); api.closeAllConnections?.();

  const rollout = findRollout(join(home, 'sessions'));
  if (rollout) writeFileSync(join(OUT, `${name}.rollout.jsonl`), shrink(readFileSync(rollout, 'utf8')));
  for (const s of ['traces', 'logs']) if (!existsSync(files[s])) writeFileSync(files[s], '');
  writeFileSync(join(OUT, `${name}.timeline.json`), JSON.stringify({
    scenario: name,
    about: sc.about,
    codexVersion: spawnSync(CODEX, ['--version'], { encoding: 'utf8' }).stdout.trim(),
    protocol,
    transport: sc.transport ?? 'http',
    args: shownArgs,
    threadId, turnId, turnStartAt,
    modelRequests,
    stderrTail: stderr.split('\n').filter(Boolean).slice(-15).map((l) => cut(l, 400)),
    events: timeline,
  }, null, 1) + '\n');
  const count = (s) => { try { return readFileSync(files[s], 'utf8').split('\n').filter(Boolean).length; } catch { return 0; } };
  console.log(`${name}: ${modelRequests} model requests; exports traces ${count('traces')}, logs ${count('logs')}, metrics ${count('metrics')}; rollout ${rollout ? 'saved' : 'missing'}`);
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}

function findRollout(dir) {
  if (!existsSync(dir)) return undefined;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) { const r = findRollout(p); if (r) return r; } else if (e.name.startsWith('rollout-') && e.name.endsWith('.jsonl')) return p;
  }
  return undefined;
}
function shrink(t) { return t.split('\n').filter(Boolean).map((l) => JSON.stringify(cut(JSON.parse(l)))).join('\n') + '\n'; }

const only = process.argv.slice(2);
for (const [name, sc] of Object.entries(SCENARIOS)) if (!only.length || only.includes(name)) await capture(name, sc);
