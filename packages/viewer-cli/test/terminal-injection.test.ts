/**
 * Strings from a trace reach a terminal inert: a turn id, a tool name and a server's error message
 * carrying escape sequences (a window title, a screen clear, a hyperlink, a carriage return that
 * writes a fake line) are shown as escapes, and a 10 MB turn id does not print as a 10 MB line.
 * Through the built CLI, on a rollout crafted as an attacker would.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './cli-runner.js';

const root = mkdtempSync(join(tmpdir(), 'sw-inject-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const line = (ts: string, type: string, payload: object): string => JSON.stringify({ timestamp: ts, type, payload });

describe('text from a trace on a terminal', () => {
  it('escape sequences and control characters are shown as escapes, long ids are cut', async () => {
    const evil = '\u001b]0;pwned\u0007\u001b[2J\u001b]8;;https://evil.example\u001b\\click\u001b]8;;\u001b\\\r✔ HEALTHY fake line\u202e';
    const path = join(root, 'rollout-2026-11-24T10-00-00-01a20000-0000-7000-8000-000000000009.jsonl');
    writeFileSync(
      path,
      [
        line('2026-11-24T10:00:00.000Z', 'session_meta', { id: '01a20000-0000-7000-8000-000000000009' }),
        line('2026-11-24T10:00:01.000Z', 'event_msg', { type: 'task_started', turn_id: `turn${evil}${'x'.repeat(200)}` }),
        line('2026-11-24T10:00:02.000Z', 'response_item', { type: 'function_call', name: `tool${evil}`, call_id: 'c1', arguments: '{}' }),
      ].join('\n') + '\n',
    );
    const r = await runCli([path, '--now', '2026-11-24T10:05:00Z']);
    expect(r.code).toBe(1);
    // Nothing but newlines and the palette's own (off without a TTY) escapes: no control character at all.
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(r.stdout).toContain('tool\\x1b]0;pwned\\x07\\x1b[2J');
    expect(r.stdout).toContain('\\x0d✔');
    expect(r.stdout).toContain('line\\u{202e}');
    expect(Math.max(...r.stdout.split('\n').map((l) => l.length))).toBeLessThan(2_100);
    // The turn id is cut to 80 characters on the verdict line.
    const verdictLine = r.stdout.split('\n').find((l) => l.includes('STUCK'))!;
    expect(verdictLine).toMatch(/turn turn\\x1b\]0;pwned\\x07.*x…  thread/);
    expect(verdictLine.length).toBeLessThan(300);
    // --json is data, not terminal text: the tool name comes through as it was (JSON escapes it).
    const json = JSON.parse((await runCli([path, '--now', '2026-11-24T10:05:00Z', '--json'])).stdout);
    expect(json.turns[0].evidence.join('\n')).toContain(`tool${evil}`);
  });
});
