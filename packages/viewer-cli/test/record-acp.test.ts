import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ATTR_APPROVAL_DECISION, ATTR_CANCEL_RESULT, ATTR_SOURCE, ATTR_TURN_STATUS, ATTR_TURN_STOP_REASON,
  PHASE_APPROVAL, PHASE_CANCEL, PHASE_TOOL_CALL, PHASE_TURN, SOURCE_ACP, SOURCE_JSONRPC,
} from '@stall-why/conventions';
import { readFlightRecords } from '@stall-why/flight-record';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from './cli-runner.js';

// `stall-why record` as a subprocess around a small fake ACP agent, driven like an ACP client does:
// each line written once the agent's previous answer has come back.
const AGENT = join(import.meta.dirname, 'fixtures', 'fake-acp-agent.mjs');
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stall-why-acp-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const line = (message: object) => `${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`;
const INITIALIZE = line({ id: 0, method: 'initialize', params: { protocolVersion: 1, clientCapabilities: { fs: { readTextFile: true } }, clientInfo: { name: 'zed' } } });
const NEW_SESSION = line({ id: 1, method: 'session/new', params: { cwd: '/tmp', mcpServers: [] } });
const prompt = (id: number, text: string) => line({ id, method: 'session/prompt', params: { sessionId: 'sess-1', prompt: [{ type: 'text', text }] } });
const ALLOW = line({ id: 0, result: { outcome: { outcome: 'selected', optionId: 'allow' } } });
const CANCEL = line({ method: 'session/cancel', params: { sessionId: 'sess-1' } });

/**
 * Each step is written when stdout has shown the text of the one before it (`after`); then stdin
 * is closed. Returns the agent's stdout as the client got it, and what the agent read.
 */
async function converse(steps: Array<{ send: string; after?: string | ((stdout: string) => boolean) }>, extra: string[] = [], record = true) {
  const dir = tempDir();
  const copy = join(dir, 'agent-stdin.sha256');
  const command = record ? [CLI, 'record', '--out', join(dir, 'rec'), ...extra, '--', process.execPath, AGENT] : [AGENT];
  const child = spawn(process.execPath, command, { stdio: 'pipe', env: { ...process.env, FAKE_ACP_STDIN_COPY: copy } });
  const out: Buffer[] = [];
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const sent: string[] = [];
  let next = 0;
  const advance = () => {
    const text = Buffer.concat(out).toString();
    const ready = (after: string | ((stdout: string) => boolean) | undefined) => after === undefined || (typeof after === 'string' ? text.includes(after) : after(text));
    while (next < steps.length && ready(steps[next]!.after)) {
      sent.push(steps[next]!.send);
      child.stdin.write(steps[next++]!.send);
    }
    if (next === steps.length) child.stdin.end();
  };
  child.stdout.on('data', (c: Buffer) => {
    out.push(c);
    advance();
  });
  advance();
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, stdout: Buffer.concat(out), stderr, sent: sent.join(''), agentRead: existsSync(copy) ? readFileSync(copy, 'utf8') : undefined, recording: join(dir, 'rec') };
}

async function spans(dir: string) {
  const all = [];
  for await (const rec of readFlightRecords(dir)) all.push(rec.span);
  return all;
}

const PERMISSION_TURN = [
  { send: INITIALIZE },
  { send: 'not json at all\n', after: '"id":0,"result"' },
  { send: NEW_SESSION },
  { send: prompt(2, 'RUN_TOOL'), after: 'available_commands_update' },
  { send: ALLOW, after: 'session/request_permission' },
];

describe('stall-why record around an ACP agent', () => {
  it('detects ACP from the first message and records the prompt turn, its tool call and approval', async () => {
    const run = await converse([...PERMISSION_TURN, { send: prompt(3, 'STALL'), after: '"stopReason":"end_turn"' }, { send: CANCEL, after: (text) => text.split('agent_thought_chunk').length > 2 },
      // The client stays until the prompt's answer: leaving first would make the cancel's result unknown.
      { send: '', after: '"stopReason":"cancelled"' }]);
    expect(run.code).toBe(0);
    const recorded = await spans(run.recording);
    const turns = recorded.filter((s) => s.name === PHASE_TURN && s.attributes[ATTR_TURN_STATUS] !== undefined);
    expect(turns.map((t) => [t.attributes[ATTR_SOURCE], t.attributes[ATTR_TURN_STATUS], t.attributes[ATTR_TURN_STOP_REASON]])).toEqual([
      [SOURCE_ACP, 'completed', 'end_turn'],
      [SOURCE_ACP, 'interrupted', 'cancelled'],
    ]);
    expect(recorded.find((s) => s.name === PHASE_APPROVAL)?.attributes[ATTR_APPROVAL_DECISION]).toBe('approved');
    expect(recorded.filter((s) => s.name === PHASE_TOOL_CALL)).toHaveLength(1);
    expect(recorded.find((s) => s.name === PHASE_CANCEL)?.attributes[ATTR_CANCEL_RESULT]).toBe('cancelled');
  });

  it('is byte-transparent both ways, malformed line included: the client and the agent see what they would without it', async () => {
    const direct = await converse(PERMISSION_TURN, [], false);
    const run = await converse(PERMISSION_TURN);
    expect(run.code).toBe(0);
    expect(direct.stdout.length).toBeGreaterThan(500);
    expect(sha(run.stdout)).toBe(sha(direct.stdout));
    expect(run.agentRead).toBe(sha(run.sent));
    expect(run.sent).toContain('not json at all');
  });

  it('--protocol codex-app-server forces the Codex observer: no ACP turn is recorded', async () => {
    const run = await converse(PERMISSION_TURN, ['--protocol', 'codex-app-server']);
    expect(run.code).toBe(0);
    const recorded = await spans(run.recording);
    expect(recorded.filter((s) => s.name === PHASE_TURN)).toHaveLength(0);
    expect(recorded.some((s) => s.attributes[ATTR_SOURCE] === SOURCE_JSONRPC)).toBe(true);
    expect(recorded.some((s) => s.attributes[ATTR_SOURCE] === SOURCE_ACP)).toBe(false);
  });

  it('refuses an unknown --protocol as a usage error', async () => {
    const run = await converse([], ['--protocol', 'mcp']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--protocol/);
  });
});
