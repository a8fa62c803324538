/** Runs the built CLI, `node packages/viewer-cli/bin/stall-why.js`, as a subprocess. */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../bin/stall-why.js', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The CLI's result; colour variables are cleared unless `env` sets them. `stdinFile` is piped to its stdin. */
export function runCli(args: readonly string[], env: Record<string, string> = {}, options: { stdinFile?: string } = {}): Promise<CliResult> {
  const base = { ...process.env };
  delete base.NO_COLOR;
  delete base.FORCE_COLOR;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...base, ...env }, stdio: [options.stdinFile ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    if (options.stdinFile) createReadStream(options.stdinFile).pipe(child.stdin!);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A loopback port free right now (for a proxy the CLI is told to listen on). */
export async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
