import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PHASE_RENDERER_ATTACHED } from '@stall-why/conventions';
import { expect, it } from 'vitest';

const CLI = join(import.meta.dirname, '..', 'bin', 'stall-why.js');

it('stall-why record --otlp uploads the recorded spans to an OTLP/HTTP endpoint', async () => {
  const bodies: string[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('latin1')));
    req.on('end', () => {
      bodies.push(`${req.url} ${body}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/traces`;
  const out = mkdtempSync(join(tmpdir(), 'stall-why-otlp-'));
  try {
    // `cat` stands in for the server: the client's `initialize` is what the observer needs to see.
    const child = spawn(process.execPath, [CLI, 'record', '--out', out, '--otlp', url, '--', 'cat'], { stdio: 'pipe' });
    child.stdout.resume();
    child.stdin.end('{"id":1,"method":"initialize","params":{"clientInfo":{"name":"otlp-test","version":"0"}}}\n');
    const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
    expect(code).toBe(0);
    const uploads = bodies.filter((b) => b.startsWith('/v1/traces '));
    expect(uploads.length).toBeGreaterThan(0);
    expect(uploads.join('\n')).toContain(PHASE_RENDERER_ATTACHED);
  } finally {
    receiver.close();
    rmSync(out, { recursive: true, force: true });
  }
});
