/**
 * Inputs the importers cannot read in place, through the built CLI: standard input (`-`), a FIFO
 * (what `<(zcat …)` gives), and gzip files by their magic bytes. Each reads like the plain file, is
 * named as the user named it, and leaves no copy behind; a broken gzip is one line and exit 2.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli-runner.js';

const ROLLOUT = new URL('./fixtures/healthy_tool.rollout.jsonl', import.meta.url).pathname;
const NOW = '2026-11-24T15:30:00Z';
let root: string;
let plain: { turns: Array<{ turnId: string; status: string; verdict: string }> };

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'stall-why-inputs-'));
  const r = await runCli([ROLLOUT, '--json', '--now', NOW]);
  expect(r.code).toBe(0);
  plain = JSON.parse(r.stdout);
  expect(plain.turns).toHaveLength(1);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const judged = (stdout: string) => (JSON.parse(stdout) as typeof plain).turns.map(({ turnId, status, verdict }) => ({ turnId, status, verdict }));

describe('inputs that are not plain files', () => {
  it('- reads standard input, named "-", and leaves no copy in TMPDIR', async () => {
    const tmp = mkdtempSync(join(root, 'tmp-'));
    const r = await runCli(['-', '--json', '--now', NOW], { TMPDIR: tmp }, { stdinFile: ROLLOUT });
    expect(r.code, r.stderr).toBe(0);
    expect(judged(r.stdout)).toEqual(judged(JSON.stringify(plain)));
    expect(JSON.parse(r.stdout).sources[0].path).toBe('-');
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('a FIFO (as <(…) gives) is read as its content', async () => {
    const fifo = join(root, 'trace.fifo');
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', `cat "${ROLLOUT}" > "${fifo}"`]);
    const r = await runCli([fifo, '--json', '--now', NOW]);
    writer.kill();
    expect(r.code, r.stderr).toBe(0);
    expect(judged(r.stdout)).toEqual(judged(JSON.stringify(plain)));
    expect(JSON.parse(r.stdout).sources[0].path).toBe(fifo);
  });

  it('a gzip file is read decompressed, by its magic bytes, under its own name', async () => {
    const gz = join(root, 'rollout-2026-11-24T14-52-42-01a20e18-aeae-7061-9f5c-2b1b8a03f3e6.jsonl.gz');
    writeFileSync(gz, gzipSync(readFileSync(ROLLOUT)));
    const r = await runCli([gz, '--json', '--now', NOW]);
    expect(r.code, r.stderr).toBe(0);
    expect(judged(r.stdout)).toEqual(judged(JSON.stringify(plain)));
    expect(JSON.parse(r.stdout).sources[0]).toMatchObject({ path: gz, format: 'codex-rollout' });
  });

  it('gzip through standard input is read decompressed', async () => {
    const gz = join(root, 'piped.jsonl.gz');
    writeFileSync(gz, gzipSync(readFileSync(ROLLOUT)));
    const tmp = mkdtempSync(join(root, 'tmp-'));
    const r = await runCli(['-', '--json', '--now', NOW], { TMPDIR: tmp }, { stdinFile: gz });
    expect(r.code, r.stderr).toBe(0);
    expect(judged(r.stdout)).toEqual(judged(JSON.stringify(plain)));
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('a truncated gzip file is one line naming it, exit 2', async () => {
    const gz = join(root, 'cut.jsonl.gz');
    const whole = gzipSync(readFileSync(ROLLOUT));
    writeFileSync(gz, whole.subarray(0, whole.length >> 1));
    const r = await runCli([gz, '--now', NOW]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`stall-why: ${gz}: cannot read (corrupt or truncated gzip data)\n`);
  });

  it('--max-line-bytes sets the longest line read, and the error for a longer one names it', async () => {
    const tight = await runCli([ROLLOUT, '--now', NOW, '--max-line-bytes', '100']);
    expect(tight.code).toBe(2);
    expect(tight.stderr).toMatch(/^stall-why: .*:1: line is longer than 100 bytes \(the limit; if this is a real trace, raise it: --max-line-bytes in the CLI, maxLineBytes in the API\)\n$/);
    const roomy = await runCli([ROLLOUT, '--now', NOW, '--max-line-bytes', '1MiB', '--json']);
    expect(roomy.stderr).toBe('');
    expect(JSON.parse(roomy.stdout).turns.length).toBeGreaterThan(0);
    const bad = await runCli([ROLLOUT, '--max-line-bytes', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^stall-why: option '--max-line-bytes <size>' argument 'lots' is invalid\. not a size/);
  });

  it('bad content on standard input is named "-" with its position', async () => {
    const bad = join(root, 'bad.jsonl');
    // A line cut short in the middle (a cut last line is judged up to the line before, with a note).
    writeFileSync(bad, '{"timestamp":"2026-11-24T14:52:42.444Z","type":"session_meta","payload":{}}\n{"timestamp":"2026-11-24T14:52:43.000Z","type":"event_msg","pay\n{"timestamp":"2026-11-24T14:52:44.000Z","type":"event_msg","payload":{"type":"task_started","turn_id":"t"}}\n');
    const r = await runCli(['-', '--now', NOW], { TMPDIR: mkdtempSync(join(root, 'tmp-')) }, { stdinFile: bad });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^stall-why: -:2: .+\n$/);
  });
});
