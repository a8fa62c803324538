import type { ServerResponse } from 'node:http';
import { FakeResponsesApi, functionCallEvents, messageEvents, sseEvent, type RecordedRequest } from './fake-responses-api.js';

/**
 * The three model APIs the ACP agents speak, as a fake answers them (shapes from
 * /work/shared/research/acp/README.md §2.2, §3.2, §4.2): which requests are the model's (they take
 * the queued replies), what answers the others, and the SSE bodies of a text answer and of a shell
 * command the agent asks permission for.
 */
export interface ModelFormat {
  /** A fake API of this format on loopback (not yet listening). */
  api(): FakeResponsesApi;
  /** The SSE body of a text answer: `head` goes first (headers and the first text), `rest` ends it. */
  text(text: string, request: RecordedRequest): { head: string; rest: string };
  /** The SSE body of one shell command call that needs a person's permission. */
  shellCall(command: string, request: RecordedRequest): string;
  /** What the continuation request holds once the command's result goes back. */
  readonly toolResultMarker: string;
}

const json = (res: ServerResponse, body: unknown, status = 200) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

/** codex-acp: OpenAI Responses (`POST /v1/responses`). */
export const OPENAI_RESPONSES: ModelFormat = {
  api: () => new FakeResponsesApi(),
  text(text, request) {
    const events = messageEvents(text, `resp_${request.index + 1}`);
    return { head: events.slice(0, 3).join(''), rest: events.slice(3).join('') };
  },
  // Escalated in the read-only sandbox: codex-acp asks for permission before it runs it.
  shellCall: (command, request) =>
    functionCallEvents(`call_${request.index + 1}`, 'exec_command', { cmd: command, sandbox_permissions: 'require_escalated', justification: 'the test asks' }, `resp_${request.index + 1}`).join(''),
  toolResultMarker: 'function_call_output',
};

const anthropicStart = (request: RecordedRequest) =>
  sseEvent({
    type: 'message_start',
    message: { id: `msg_${request.index + 1}`, type: 'message', role: 'assistant', model: 'claude-sonnet-4-6', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 1 } },
  });
const anthropicEnd = (stopReason: string) =>
  sseEvent({ type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: 5 } }) + sseEvent({ type: 'message_stop' });

/** claude-agent-acp: Anthropic Messages (`POST /v1/messages?beta=true`; `HEAD /` at session start, `count_tokens`). */
export const ANTHROPIC_MESSAGES: ModelFormat = {
  api: () =>
    new FakeResponsesApi(
      undefined,
      (method, path) => method === 'POST' && path.startsWith('/v1/messages') && !path.includes('count_tokens'),
      (res, request) => (request.path.includes('count_tokens') ? json(res, { input_tokens: 10 }) : json(res, {}, 404)),
    ),
  text(text, request) {
    const head =
      anthropicStart(request) +
      sseEvent({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) +
      sseEvent({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } });
    return { head, rest: sseEvent({ type: 'content_block_stop', index: 0 }) + anthropicEnd('end_turn') };
  },
  // Not read-only (`touch`): Claude Code asks for permission (an `echo … && pwd` is allowed unasked).
  shellCall: (command, request) =>
    anthropicStart(request) +
    sseEvent({ type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: `toolu_${request.index + 1}`, name: 'Bash', input: {} } }) +
    sseEvent({ type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: JSON.stringify({ command, description: 'Run the test command' }) } }) +
    sseEvent({ type: 'content_block_stop', index: 0 }) +
    anthropicEnd('tool_use'),
  toolResultMarker: 'tool_result',
};

const geminiChunk = (parts: unknown[], request: RecordedRequest, finish?: string) =>
  `data: ${JSON.stringify({
    candidates: [{ content: { role: 'model', parts }, index: 0, ...(finish ? { finishReason: finish } : {}) }],
    usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 },
    modelVersion: 'gemini-3.8-flash',
    responseId: `r_${request.index + 1}`,
  })}\r\n\r\n`;

/**
 * gemini-cli: `…:streamGenerateContent?alt=sse` is the model; each turn first asks a routing
 * classifier (`…:generateContent`, a JSON schema answer whose `complexity_score` must be ≥ 1).
 */
export const GEMINI: ModelFormat = {
  api: () =>
    new FakeResponsesApi(
      undefined,
      (method, path) => method === 'POST' && path.includes(':streamGenerateContent'),
      (res, request) => {
        if (request.path.includes(':countTokens')) return json(res, { totalTokens: 10 });
        if (!request.path.includes(':generateContent')) return json(res, {}, 404);
        json(res, { candidates: [{ content: { role: 'model', parts: [{ text: JSON.stringify({ complexity_reasoning: 'x', complexity_score: 1 }) }] }, finishReason: 'STOP' }] });
      },
    ),
  text: (text, request) => ({ head: geminiChunk([{ text }], request), rest: geminiChunk([{ text: '.' }], request, 'STOP') }),
  shellCall: (command, request) => geminiChunk([{ functionCall: { name: 'run_shell_command', args: { command, description: 'Run the test command' } } }], request, 'STOP'),
  toolResultMarker: 'functionResponse',
};

/** The whole text answer as one body. */
export function textBody(format: ModelFormat, text: string): (request: RecordedRequest) => string {
  return (request) => {
    const { head, rest } = format.text(text, request);
    return head + rest;
  };
}
