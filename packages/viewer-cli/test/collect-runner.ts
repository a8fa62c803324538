/** `stall-why collect --port 0` as a subprocess for tests: the built CLI, on loopback. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { resolve } from 'node:path';

const CLI = resolve(import.meta.dirname, '../bin/stall-why.js');

/** Starts `stall-why collect --out <out> --port 0` (or the options given, in `env`) and resolves with the process, its traces URL and its start line. */
export function startCollect(
  out: string,
  args: readonly string[] = ['--port', '0'],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ child: ChildProcessWithoutNullStreams; url: string; banner: string }> {
  return startCollectWith(['--out', out, ...args], env);
}

/** Starts `stall-why collect` with exactly these arguments (`--clickhouse …` instead of `--out`). */
export async function startCollectWith(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<{ child: ChildProcessWithoutNullStreams; url: string; banner: string }> {
  const child = spawn(process.execPath, [CLI, 'collect', ...args], { stdio: 'pipe', env });
  let seen = '';
  const url = await new Promise<string>((ok, fail) => {
    child.stdout.on('data', (d: Buffer) => {
      seen += d.toString();
      const m = /listening on (\S+),.*\n/.exec(seen);
      if (m) ok(m[1]!);
    });
    child.on('exit', (code) => fail(new Error(`collect exited ${code}: ${seen}`)));
  });
  return { child, url, banner: seen.split('\n')[0]! };
}
