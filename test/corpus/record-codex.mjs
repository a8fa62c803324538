// Records Codex rollouts for the scenario corpus: the real Codex app-server (0.169, from npm), run
// offline against a fake Responses API on loopback that this script controls, driven over stdio as
// a UI would. Each scenario gets a fresh CODEX_HOME; its rollout is copied (huge strings cut) to
// test/corpus/codex/<name>.rollout.jsonl, and the moment to judge it at goes to the manifest by hand.
//
//   node test/corpus/record-codex.mjs [scenario...]
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CODEX } from '../codex-binary.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const sse = (res, type, data) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
const usage = { input_tokens: 10, input_tokens_details: { cached_tokens: 0 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 15 };
function head(res) {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  sse(res, 'response.created', { response: { id: `resp_${Date.now()}` } });
}
function text(res, msg) {
  head(res);
  const item = { type: 'message', role: 'assistant', id: `msg_${Date.now()}`, content: [] };
  sse(res, 'response.output_item.added', { output_index: 0, item });
  sse(res, 'response.output_text.delta', { output_index: 0, content_index: 0, item_id: item.id, delta: msg });
  sse(res, 'response.output_item.done', { output_index: 0, item: { ...item, content: [{ type: 'output_text', text: msg, annotations: [] }] } });
  sse(res, 'response.completed', { response: { id: 'resp', usage } });
  res.end();
}
function toolCall(res, args) {
  head(res);
  const item = { type: 'function_call', id: `fc_${Date.now()}`, call_id: `call_${Date.now()}`, name: 'exec_command', arguments: JSON.stringify(args) };
  sse(res, 'response.output_item.added', { output_index: 0, item });
  sse(res, 'response.output_item.done', { output_index: 0, item });
  sse(res, 'response.completed', { response: { id: 'resp', usage } });
  res.end();
}
const silentAfterHeaders = (res) => head(res); // headers and response.created, then nothing
const brokenAfterHeaders = (res) => { head(res); setTimeout(() => res.socket?.destroy(), 50); };
const status500 = (res) => res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"boom","type":"server_error"}}');
const failed = (code, message) => (res) => { head(res); sse(res, 'response.failed', { response: { id: 'resp', error: { code, message } } }); res.end(); };
function stalledMidAnswer(res) {
  head(res);
  const item = { type: 'message', role: 'assistant', id: `msg_${Date.now()}`, content: [] };
  sse(res, 'response.output_item.added', { output_index: 0, item });
  sse(res, 'response.output_text.delta', { output_index: 0, content_index: 0, item_id: item.id, delta: 'partial' });
}

// Each scenario: how the fake model answers the n-th request, what the client does, when to stop.
const SCENARIOS = {
  healthy: { model: [(r) => text(r, 'hello')], until: 'turn/completed' },
  healthy_tool: { model: [(r) => toolCall(r, { cmd: 'echo tool-ran' }), (r) => text(r, 'done after tool')], until: 'turn/completed' },
  stream_broken: { model: [brokenAfterHeaders], repeat: true, until: 'turn/completed', providerRetries: { request_max_retries: 1, stream_max_retries: 2 } },
  silent_after_headers: { model: [silentAfterHeaders], killAfterMs: 2500 },
  silent_before_headers: { model: [() => {}], killAfterMs: 2500 },
  interrupt: { model: [silentAfterHeaders], interruptAfterMs: 1500, until: 'turn/completed' },
  tool_no_continuation: { model: [(r) => toolCall(r, { cmd: 'echo tool-ran' }), silentAfterHeaders], killAfterMs: 12000 },
  tool_running: { model: [(r) => toolCall(r, { cmd: 'sleep 20', yield_time_ms: 30000 })], killAfterMs: 4000 },
  approval: {
    model: [(r) => toolCall(r, { cmd: 'touch approved.txt', sandbox_permissions: 'require_escalated', justification: 'needs to write' })],
    killAfterMs: 3000,
    config: ['-c', 'approval_policy="on-request"', '-c', 'sandbox_mode="read-only"'],
  },
  compaction: { model: [(r) => text(r, 'hello'), (r) => text(r, 'summary of the conversation')], compactAfterTurn: true, until: 'compacted' },
  compaction_silent: { model: [(r) => text(r, 'hello'), silentAfterHeaders], compactAfterTurn: true, killAfterMs: 3000 },
  http_500_gave_up: { model: [status500], repeat: true, until: 'turn/completed' },
  response_failed: { model: [failed('server_error', 'the fake model failed')], repeat: true, until: 'turn/completed' },
  context_window: { model: [failed('context_length_exceeded', 'Your input exceeds the context window of this model.')], repeat: true, until: 'turn/completed' },
  stalled_mid_answer: { model: [stalledMidAnswer], killAfterMs: 2500 },
};

async function record(name, sc) {
  const home = mkdtempSync(join(tmpdir(), 'stall-why-codex-'));
  const work = mkdtempSync(join(tmpdir(), 'stall-why-work-'));
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const i = n++;
      const answer = sc.model[Math.min(i, sc.model.length - 1)];
      if (!sc.repeat && i >= sc.model.length && !sc.model.at(-1)) return;
      answer(res);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const retries = sc.providerRetries ?? { request_max_retries: 2, stream_max_retries: 3 };
  const provider = `{name="fake", base_url="http://127.0.0.1:${port}/v1", wire_api="responses", env_key="FAKE_KEY", request_max_retries=${retries.request_max_retries}, stream_max_retries=${retries.stream_max_retries}}`;
  const args = ['app-server', '-c', 'model_provider="fake"', '-c', `model_providers.fake=${provider}`, '-c', 'model="gpt-fake"',
    ...(sc.config ?? ['-c', 'approval_policy="never"', '-c', 'sandbox_mode="danger-full-access"'])];
  const child = spawn(CODEX, args, { env: { ...process.env, CODEX_HOME: home, FAKE_KEY: 'x', RUST_LOG: 'error' }, cwd: work, stdio: ['pipe', 'pipe', 'ignore'] });
  let id = 0;
  const pending = new Map();
  const waiters = [];
  const send = (method, params) => new Promise((resolve) => { const rid = ++id; pending.set(rid, resolve); child.stdin.write(JSON.stringify({ id: rid, method, params }) + '\n'); });
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i); buf = buf.slice(i + 1);
      let msg; try { msg = JSON.parse(line); } catch { continue; }
      if (msg.id !== undefined && pending.has(msg.id) && !msg.method) { pending.get(msg.id)(msg.result ?? msg.error); pending.delete(msg.id); }
      if (msg.method) for (const w of [...waiters]) if (w.method === msg.method) { waiters.splice(waiters.indexOf(w), 1); w.resolve(msg.params); }
    }
  });
  const next = (method, ms = 20000) => new Promise((resolve) => { waiters.push({ method, resolve }); setTimeout(() => resolve(undefined), ms); });
  await send('initialize', { clientInfo: { name: 'stall-why-corpus', version: '0.0.1' } });
  child.stdin.write(JSON.stringify({ method: 'initialized' }) + '\n');
  const started = await send('thread/start', { cwd: work });
  const threadId = started.thread.id;
  const turnDone = next('turn/completed', 30000);
  const turn = await send('turn/start', { threadId, input: [{ type: 'text', text: 'please help' }] });
  if (sc.compactAfterTurn) {
    await turnDone;
    await send('thread/compact/start', { threadId });
    if (sc.until === 'compacted') await next('turn/completed', 30000);
    else await sleep(sc.killAfterMs);
  } else if (sc.interruptAfterMs) {
    await sleep(sc.interruptAfterMs);
    await send('turn/interrupt', { threadId, turnId: turn.turn.id });
    await turnDone;
  } else if (sc.killAfterMs) {
    await sleep(sc.killAfterMs);
  } else {
    await turnDone;
  }
  await sleep(300);
  // A stuck turn is judged while the server still runs (as a user would, from another terminal):
  // copy the rollout before the kill, with only the lines Codex had flushed by then.
  const live = sc.killAfterMs ? readFileSync(findRollout(join(home, 'sessions')), 'utf8') : undefined;
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  server.close();
  server.closeAllConnections?.();
  const rollout = findRollout(join(home, 'sessions'));
  writeFileSync(join(here, 'codex', `${name}.rollout.jsonl`), shrink(live ?? readFileSync(rollout, 'utf8')));
  console.log(`${name}: ${n} model requests, rollout ${statSync(rollout).size} bytes`);
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}

function findRollout(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) { const f = findRollout(p); if (f) return f; }
    else if (e.name.startsWith('rollout-') && e.name.endsWith('.jsonl')) return p;
  }
  return undefined;
}

// Keeps the corpus small: long strings (instructions, skills lists) are cut; the shape stays.
function shrink(text) {
  const cut = (v) => (typeof v === 'string' && v.length > 300 ? `${v.slice(0, 120)}…[${v.length} chars cut]` : Array.isArray(v) ? v.map(cut) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, cut(x)])) : v);
  return text.split('\n').filter(Boolean).map((l) => JSON.stringify(cut(JSON.parse(l)))).join('\n') + '\n';
}

const only = process.argv.slice(2);
for (const [name, sc] of Object.entries(SCENARIOS)) if (!only.length || only.includes(name)) await record(name, sc);
