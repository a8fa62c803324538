import { closeSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Makes a real Codex rollout heavy, the way months of use do: after its existing lines it appends
 * `megabytes` of history (tool outputs of 1 MB and user messages with 1 MB inline PNG data URLs),
 * each line with the next ordinal (Codex 0.169 refuses a rollout whose ordinals skip) and placed
 * before the turn's `task_complete`, so the file still ends the way Codex wrote it.
 */
export function bloatRollout(codexHome: string, threadId: string, megabytes: number): { path: string; bytes: number } {
  const path = findRollout(join(codexHome, 'sessions'), threadId);
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const last = lines.pop()!;
  const fd = openSync(path, 'w');
  try {
    let ordinal = 0;
    const write = (entry: Record<string, unknown>) => {
      writeSync(fd, `${JSON.stringify({ ...entry, ordinal: ordinal++ })}\n`);
    };
    for (const line of lines) write(JSON.parse(line) as Record<string, unknown>);
    const text = 'tool output line\n'.repeat(62_000); // ~1 MB
    const png = `data:image/png;base64,${Buffer.alloc(750_000, 7).toString('base64')}`; // ~1 MB
    const at = new Date().toISOString();
    for (let i = 0; i < megabytes / 2; i++) {
      write({ timestamp: at, type: 'response_item', payload: { type: 'function_call', id: `fc_bloat_${i}`, name: 'exec_command', arguments: '{"cmd":"cat big.log"}', call_id: `call_bloat_${i}` } });
      write({ timestamp: at, type: 'response_item', payload: { type: 'function_call_output', call_id: `call_bloat_${i}`, output: text } });
      write({ timestamp: at, type: 'response_item', payload: { type: 'message', role: 'user', content: [{ type: 'input_text', text: `screenshot ${i}` }, { type: 'input_image', image_url: png }] } });
    }
    write(JSON.parse(last) as Record<string, unknown>);
  } finally {
    closeSync(fd);
  }
  return { path, bytes: statSync(path).size };
}

function findRollout(dir: string, threadId: string): string {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      try {
        return findRollout(full, threadId);
      } catch {
        continue;
      }
    }
    if (entry.name.endsWith(`${threadId}.jsonl`)) return full;
  }
  throw new Error(`no rollout for thread ${threadId} under ${dir}`);
}
