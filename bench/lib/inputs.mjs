// Inputs the benchmarks read, written to files of a given size: the same bytes every run, made
// here rather than committed (hundreds of MB). Used by classifier.mjs and cli-whole-process.mjs.
import { closeSync, openSync, statSync, writeSync } from 'node:fs';

const MB = 1024 * 1024;
const hex = (n, w) => n.toString(16).padStart(w, '0');

function writeChunked(path, targetBytes, next) {
  const fd = openSync(path, 'w');
  let written = 0;
  let buf = [];
  let size = 0;
  while (written + size < targetBytes) {
    const s = next();
    buf.push(s);
    size += s.length;
    if (size > 8 * MB) { writeSync(fd, buf.join('')); written += size; buf = []; size = 0; }
  }
  if (buf.length) writeSync(fd, buf.join(''));
  closeSync(fd);
  return statSync(path).size;
}

// OTLP: turns of ~60 phase spans (attempts with milestones, items, tool calls), 256 spans a line.
export function otlpFile(path, bytes) {
  let turn = 0;
  let t = Date.parse('2026-11-24T00:00:00Z') * 1e6;
  const attr = (k, v) => (typeof v === 'number' ? `{"key":"${k}","value":{"intValue":"${v}"}}` : `{"key":"${k}","value":{"stringValue":"${v}"}}`);
  const span = (trace, id, parent, name, start, end, extra) =>
    `{"traceId":"${trace}","spanId":"${id}","parentSpanId":"${parent}","name":"${name}","kind":1,"startTimeUnixNano":"${start}","endTimeUnixNano":"${end}",` +
    `"attributes":[${[attr('gen_ai.conversation.id', `thread-${turn % 97}`), attr('stall_why.turn.id', `turn-${turn}`), attr('stall_why.source', 'api'), ...extra].join(',')}],"status":{"code":0}}`;
  const turnSpans = () => {
    turn++;
    const trace = hex(turn, 32);
    let n = 0;
    const id = () => hex(turn * 256 + ++n, 16);
    const root = id();
    const start = t;
    const out = [];
    for (let a = 1; a <= 3; a++) {
      const att = id();
      const s = t + a * 1e9;
      out.push(span(trace, att, root, 'stall_why.upstream.attempt', s, s + 8e8, [attr('stall_why.upstream.attempt', a), attr('http.request.method', 'POST'), attr('url.path', '/v1/responses'), attr('http.response.status_code', 200)]));
      for (const m of ['request_sent', 'headers', 'first_byte', 'first_event', 'stream_end']) out.push(span(trace, id(), att, `stall_why.upstream.${m}`, s + 1e7, s + 1e7, [attr('stall_why.phase.kind', 'point')]));
      for (let i = 0; i < 8; i++) out.push(span(trace, id(), root, 'stall_why.item', s + i * 1e7, s + i * 1e7 + 5e6, [attr('stall_why.item.type', i % 2 ? 'reasoning' : 'agentMessage'), attr('stall_why.item.id', `item_${turn}_${a}_${i}`)]));
      out.push(span(trace, id(), root, 'stall_why.tool.call', s + 8.5e8, s + 9e8, [attr('gen_ai.tool.name', 'exec_command'), attr('gen_ai.tool.call.id', `call_${turn}_${a}`)]));
      out.push(span(trace, id(), root, 'http.client.request', s, s + 1e6, [attr('http.request.method', 'POST')]));
    }
    t += 5e9;
    out.unshift(span(trace, root, '', 'stall_why.turn', start, t, [attr('stall_why.turn.status', 'completed')]));
    return out;
  };
  let pending = [];
  return writeChunked(path, bytes, () => {
    while (pending.length < 256) pending.push(...turnSpans());
    const batch = pending.splice(0, 256);
    return `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"bench"}}]},"scopeSpans":[{"scope":{"name":"@stall-why/instrument"},"spans":[${batch.join(',')}]}]}]}\n`;
  });
}

/** A rollout's lines: timestamps `stepMs` apart, ordinals in order, the session header before the first. */
function rolloutLines(sessionId, stepMs) {
  let ord = 0;
  let ms = Date.parse('2026-11-24T00:00:00Z');
  let first = true;
  const line = (type, payload) => `{"timestamp":"${new Date((ms += stepMs)).toISOString()}","ordinal":${ord++},"type":"${type}","payload":${JSON.stringify(payload)}}\n`;
  const head = () => {
    if (!first) return '';
    first = false;
    return line('session_meta', { id: sessionId, cwd: '/p', cli_version: '0.169.0' });
  };
  return { line, head };
}

// Rollout: per turn, a user message with a ~1.5 MB inline image, a tool call with ~600 KB of output,
// an assistant message and the bookkeeping lines Codex writes.
export function rolloutFile(path, bytes) {
  const image = `data:image/png;base64,${Buffer.alloc(1.1 * MB, 0x5a).toString('base64')}`;
  const output = 'line of tool output with some words in it\n'.repeat(15000);
  let turn = 0;
  const { line, head: header } = rolloutLines('01a20e18-aeae-7061-9f5c-2b1b8a03f3e6', 7);
  return writeChunked(path, bytes, () => {
    const head = header();
    const id = `turn-${++turn}`;
    return head +
      line('event_msg', { type: 'task_started', turn_id: id }) +
      line('turn_context', { turn_id: id, approval_policy: 'never', model: 'gpt' }) +
      line('response_item', { type: 'message', id: `u${turn}`, role: 'user', content: [{ type: 'input_text', text: 'look at this' }, { type: 'input_image', image_url: image }] }) +
      line('event_msg', { type: 'token_count', info: null }) +
      line('response_item', { type: 'function_call', id: `fc${turn}`, name: 'exec_command', arguments: '{"cmd":"cat big.log"}', call_id: `call_${turn}` }) +
      line('token_usage_record', { turn_id: id }) +
      line('response_item', { type: 'function_call_output', call_id: `call_${turn}`, output }) +
      line('event_msg', { type: 'token_count', info: { total: 1 } }) +
      line('response_item', { type: 'message', id: `m${turn}`, role: 'assistant', content: [{ type: 'output_text', text: 'done' }] }) +
      line('event_msg', { type: 'task_complete', turn_id: id, last_agent_message: 'done' });
  });
}

// An ordinary rollout: tens of thousands of turns of a working session, each a user message, a
// reasoning item, two tool calls with a few KB of output, an assistant message and the bookkeeping
// lines Codex writes (token counts, turn context): about 6 KB a turn, no inline images.
export function ordinaryRolloutFile(path, bytes) {
  let turn = 0;
  const output = 'src/importers/rollout-importer.ts:412: const turn = this.turns.get(id);\n'.repeat(20);
  const { line, head } = rolloutLines('01a20e18-aeae-7061-9f5c-2b1b8a03f3e7', 40);
  return writeChunked(path, bytes, () => {
    const id = `turn-${++turn}`;
    const text = `step ${turn}: find where the turns are grouped and explain it`;
    const answer = 'Turns are grouped by their turn id in the timeline builder; spans without one join their parent.';
    let out = head();
    out += line('event_msg', { type: 'task_started', turn_id: id, model_context_window: 258400 });
    out += line('turn_context', { turn_id: id, cwd: '/p', approval_policy: 'on-request', sandbox_policy: { type: 'workspace-write' }, model: 'gpt-5-codex', effort: 'medium', summary: 'auto' });
    out += line('response_item', { type: 'message', id: `u${turn}`, role: 'user', content: [{ type: 'input_text', text }] });
    out += line('event_msg', { type: 'user_message', message: text, images: [] });
    out += line('response_item', { type: 'reasoning', id: `r${turn}`, summary: [{ type: 'summary_text', text: '**Searching the importer**' }], encrypted_content: 'gAAAAB'.padEnd(600, 'x') });
    for (let c = 0; c < 2; c++) {
      out += line('response_item', { type: 'function_call', id: `fc${turn}_${c}`, name: 'exec_command', arguments: `{"cmd":"rg -n turn src/ | head -${20 + c}"}`, call_id: `call_${turn}_${c}` });
      out += line('response_item', { type: 'function_call_output', call_id: `call_${turn}_${c}`, output });
      out += line('event_msg', { type: 'token_count', info: { total_token_usage: { input_tokens: 1000 * turn, output_tokens: 40 * turn } } });
    }
    out += line('response_item', { type: 'message', id: `m${turn}`, role: 'assistant', content: [{ type: 'output_text', text: answer }] });
    out += line('event_msg', { type: 'agent_message', message: answer });
    out += line('event_msg', { type: 'task_complete', turn_id: id, last_agent_message: answer });
    return out;
  });
}

// A flight-recorder directory of `spans` spans written by @stall-why/instrument's own
// FlightRecorderProcessor through the OpenTelemetry SDK: turns of three model attempts with their
// milestones and six items each. `{ skipped }` when the instrument package is not built.
export async function flightRecorderDirectory(path, spans) {
  let instrument;
  let sdk;
  try {
    instrument = await import('@stall-why/instrument');
    sdk = await import('@opentelemetry/sdk-trace-base');
  } catch (error) {
    return { skipped: `@stall-why/instrument is not built (${error.message.split('\n')[0]})` };
  }
  if (typeof instrument.FlightRecorderProcessor !== 'function') return { skipped: 'FlightRecorderProcessor is not exported by @stall-why/instrument' };
  const processor = new instrument.FlightRecorderProcessor({ directory: path, maxBytes: 4 * 1024 * MB, maxPendingRecords: 1_000_000 });
  const provider = new sdk.BasicTracerProvider({ spanProcessors: [processor] });
  const tracer = new instrument.TurnTracer({ tracer: provider.getTracer('bench') });
  let made = 0;
  let turnNo = 0;
  while (made < spans) {
    const turn = tracer.startTurn({ threadId: `thread-${turnNo % 50}`, turnId: `turn-${turnNo++}` });
    turn.accepted();
    made += 2;
    for (let a = 0; a < 3 && made < spans; a++) {
      const attempt = turn.startAttempt();
      attempt.requestSent().headers(200).firstByte().firstEvent();
      attempt.streamEnd();
      made += 6;
      for (let i = 0; i < 6; i++) turn.startPhase('stall_why.item', { attributes: { 'stall_why.item.type': 'agentMessage', 'stall_why.item.id': `i${turnNo}_${a}_${i}` } }).end();
      made += 6;
    }
    turn.endTurn('completed');
    if (turnNo % 200 === 0) await new Promise((r) => setImmediate(r));
  }
  await provider.forceFlush();
  await provider.shutdown();
  return { spans: made };
}
