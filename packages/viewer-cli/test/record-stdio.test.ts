import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ATTR_RENDERER_REASON, PHASE_RENDERER_DETACHED } from '@stall-why/conventions';
import { readFlightRecords } from '@stall-why/flight-record';
import { afterAll, describe, expect, it } from 'vitest';

// `stall-why record` as a subprocess: the built CLI, wrapping real child processes.
const CLI = join(import.meta.dirname, '..', 'bin', 'stall-why.js');
const dirs: string[] = [];
function recordingDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stall-why-record-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs record around `command`, writing `input` to its stdin in pieces and closing it. */
function runRecord(command: string[], input: Buffer = Buffer.alloc(0), extra: string[] = []): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'record', '--out', recordingDir(), ...extra, '--', ...command], { stdio: 'pipe' });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }));
    // Odd-sized pieces, so lines straddle chunk boundaries.
    let offset = 0;
    const writeMore = (): void => {
      while (offset < input.length) {
        const piece = input.subarray(offset, offset + 65_521);
        offset += piece.length;
        if (!child.stdin.write(piece)) {
          child.stdin.once('drain', writeMore);
          return;
        }
      }
      child.stdin.end();
    };
    writeMore();
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Several MB of newline-delimited JSON-RPC, with the malformed kinds a proxy must not touch. */
function awkwardStream(): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < 20_000; i++) {
    parts.push(Buffer.from(`{"method":"item/agentMessage/delta","params":{"threadId":"t","turnId":"u","itemId":"m","delta":"chunk ${i} \\u00e9 ✓"},"emittedAtMs":${i}}\n`));
  }
  parts.push(Buffer.from('this is not json\n'), Buffer.from('{"id":1,"result":\n'), Buffer.from('\n\r\n'));
  parts.push(Buffer.from(`{"method":"big","params":{"blob":"${'x'.repeat(3 * 1024 * 1024)}"}}\n`));
  parts.push(Buffer.from(randomBytes(200_000).map((b) => (b === 0x0a ? 0x20 : b))), Buffer.from('\n'));
  parts.push(Buffer.from('{"method":"initialized"}\n'));
  parts.push(Buffer.from('{"id":99,"method":"half a line at EOF"'));
  return Buffer.concat(parts);
}

describe('stall-why record: stdio passthrough', () => {
  it('passes several MB of well-formed and malformed lines through both directions unchanged', async () => {
    const input = awkwardStream();
    expect(input.length).toBeGreaterThan(4 * 1024 * 1024);
    const run = await runRecord(['cat'], input);
    expect(run.code).toBe(0);
    expect(run.stdout.length).toBe(input.length);
    expect(sha(run.stdout)).toBe(sha(input));
    // The 3 MB line is over the 1 MiB cap and the last line has no newline: both directions count them.
    expect(run.stderr).toContain('client->server: passed through without observing 1 line(s) over the size cap and 1 unterminated line(s)');
    expect(run.stderr).toContain('server->client: passed through without observing 1 line(s) over the size cap and 1 unterminated line(s)');
  });

  it('honours --max-line-bytes', async () => {
    const input = Buffer.from(`${'{"a":1}\n'.repeat(10)}{"b":"${'y'.repeat(100)}"}\n`);
    const run = await runRecord(['cat'], input, ['--max-line-bytes', '64']);
    expect(sha(run.stdout)).toBe(sha(input));
    expect(run.stderr).toContain('client->server: passed through without observing 1 line(s) over the size cap and 0 unterminated line(s)');
  });

  it('passes a large server output through unchanged while the client sends nothing', async () => {
    const script = "const c=require('crypto');let s=c.createHash('sha256');for(let i=0;i<64;i++){const b=c.createHash('sha512').update(String(i)).digest().toString('hex').repeat(1200)+'\\n';s.update(b);process.stdout.write(b)}process.stderr.write('digest '+s.digest('hex'))";
    const run = await runRecord([process.execPath, '-e', script]);
    expect(run.code).toBe(0);
    expect(run.stdout.length).toBe(64 * (128 * 1200 + 1));
    const digest = /digest ([0-9a-f]{64})/.exec(run.stderr)?.[1];
    expect(digest).toBe(sha(run.stdout));
  });

  it('keeps draining the server when the client stops reading (EPIPE), so the server finishes', async () => {
    const script = "const b=Buffer.alloc(1<<20,120);let n=0;const w=()=>{while(n<32){n++;if(!process.stdout.write(b))return process.stdout.once('drain',w)}process.stderr.write('server wrote all\\n')};w()";
    const child = spawn(process.execPath, [CLI, 'record', '--out', recordingDir(), '--', process.execPath, '-e', script], { stdio: 'pipe' });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c));
    child.stdout.once('data', () => child.stdout.destroy());
    child.stdin.end();
    const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
    expect(err).toContain('server wrote all');
    expect(code).toBe(0);
  });

  it('with --linger, keeps the server\'s stdin open after the client leaves mid-turn, and records the detach', async () => {
    const dir = recordingDir();
    // The server reports when its stdin closed.
    const script = "process.stdin.resume();process.stdin.on('end',()=>{process.stderr.write('stdin closed at '+Date.now()+'\\n')})";
    const child = spawn(process.execPath, [CLI, 'record', '--out', dir, '--linger', '1.5', '--', process.execPath, '-e', script], { stdio: 'pipe' });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c));
    const clientLeftAt = Date.now();
    child.stdin.end('{"id":1,"method":"turn/start","params":{"threadId":"thread-1","input":[{"type":"text","text":"hi"}]}}\n');
    const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
    expect(code).toBe(0);
    expect(err).toContain("client left mid-turn; keeping the server's stdin open 1.5 s (--linger)");
    const closedAt = Number(/stdin closed at (\d+)/.exec(err)?.[1]);
    expect(closedAt - clientLeftAt).toBeGreaterThanOrEqual(1500);
    const names: string[] = [];
    for await (const rec of readFlightRecords(dir)) {
      if (rec.span.name === PHASE_RENDERER_DETACHED) names.push(String(rec.span.attributes[ATTR_RENDERER_REASON]));
    }
    expect(names).toEqual(['eof']);
  });

  it('records the server\'s exit: a turn it left open is judged abandoned, not stuck', async () => {
    const dir = recordingDir();
    // A server that accepts a turn, starts a command, then crashes with exit code 9.
    const script =
      "process.stdin.once('data',()=>{console.log(JSON.stringify({id:1,result:{turn:{id:'turn-9',status:'inProgress'}}}));" +
      "console.log(JSON.stringify({method:'turn/started',params:{threadId:'thread-1',turn:{id:'turn-9',status:'inProgress'}}}));" +
      "console.log(JSON.stringify({method:'item/started',params:{threadId:'thread-1',turnId:'turn-9',item:{type:'commandExecution',id:'call-1',command:'sleep 99'}}}));" +
      'setTimeout(()=>process.exit(9),200)})';
    const child = spawn(process.execPath, [CLI, 'record', '--out', dir, '--', process.execPath, '-e', script], { stdio: 'pipe' });
    child.stdin.write('{"id":1,"method":"turn/start","params":{"threadId":"thread-1","input":[{"type":"text","text":"hi"}]}}\n');
    const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
    expect(code).toBe(9);
    const judged = spawnSync(process.execPath, [CLI, dir, '--json'], { encoding: 'utf8' });
    const turn = JSON.parse(judged.stdout).turns[0];
    expect(turn).toMatchObject({ turnId: 'turn-9', status: 'abandoned', verdict: 'tool_running' });
    expect(turn.evidence[0]).toMatch(/^the turn never ended: the wrapped server \d+ exited at [\d:.]+ \(exit code 9\); it was left waiting:$/);
  });

  it("passes the server's stderr through and gives its exit code", async () => {
    const run = await runRecord([process.execPath, '-e', "process.stderr.write('server says hello\\n'); process.exitCode = 7"]);
    expect(run.code).toBe(7);
    expect(run.stderr).toContain('server says hello\n');
  });

  it('dies of the signal that killed the server', async () => {
    const run = await runRecord([process.execPath, '-e', "process.kill(process.pid, 'SIGTERM'); setTimeout(() => {}, 5000)"]);
    expect(run.signal).toBe('SIGTERM');
  });

  it('forwards SIGTERM to the server', async () => {
    const child = spawn(process.execPath, [CLI, 'record', '--out', recordingDir(), '--', process.execPath, '-e', "process.on('SIGTERM', () => { process.stderr.write('got SIGTERM\\n'); process.exit(3) }); console.log('ready'); setInterval(() => {}, 1000)"], { stdio: 'pipe' });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c));
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
    expect(err).toContain('got SIGTERM');
    expect(code).toBe(3);
  });

  it('exits 127 with one line when the server command does not exist', () => {
    const r = spawnSync(process.execPath, [CLI, 'record', '--out', recordingDir(), '--', 'no-such-command-stall-why'], { encoding: 'utf8', input: '' });
    expect(r.status).toBe(127);
    expect(r.stderr.trim().split('\n')).toEqual(['stall-why: cannot run "no-such-command-stall-why": ENOENT']);
  });

  it('rejects a bad --upstream with exit 2 and no stack trace', () => {
    const r = spawnSync(process.execPath, [CLI, 'record', '--out', recordingDir(), '--upstream', '127.0.0.1:80=ftp://x', '--', 'cat'], { encoding: 'utf8', input: '' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('the origin must be http: or https:');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
