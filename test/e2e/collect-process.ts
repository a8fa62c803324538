import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CLI } from '../../packages/viewer-cli/test/cli-runner.js';

/**
 * The built `stall-why collect` on a free loopback port, writing into `outDir`: the OTLP/HTTP
 * receiver a process exports its own OpenTelemetry to.
 */
export class CollectProcess {
  /** `http://127.0.0.1:PORT`, known once `start()` resolves; the signals are at /v1/traces and /v1/logs. */
  origin = '';
  stdout = '';
  stderr = '';
  /**
   * When the directory first held bytes (epoch ms): collect says nothing per request, so the first
   * export that landed shows as the directory growing. Sampled every `SAMPLE_MS`.
   */
  firstBytesAtMs: number | undefined;
  private child: ChildProcessWithoutNullStreams | undefined;
  private exit!: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private sampler: NodeJS.Timeout | undefined;

  constructor(readonly outDir: string) {}

  async start(timeoutMs = 10_000): Promise<string> {
    const child = spawn(process.execPath, [CLI, 'collect', '--out', this.outDir, '--port', '0'], { stdio: 'pipe' });
    this.child = child;
    this.exit = new Promise((r) => child.once('close', (code, signal) => r({ code, signal })));
    child.stderr.on('data', (c: Buffer) => (this.stderr += c.toString()));
    this.origin = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`stall-why collect printed no URL in ${timeoutMs} ms; stderr: ${this.stderr}`)), timeoutMs);
      child.once('close', (code) => reject(new Error(`stall-why collect exited (${code}) before listening; stderr: ${this.stderr}`)));
      child.stdout.on('data', (c: Buffer) => {
        this.stdout += c.toString();
        // "stall-why collect: listening on http://127.0.0.1:PORT/v1/traces, writing to DIR"
        const url = /listening on (http:\/\/[^/\s]+)\/v1\/traces/.exec(this.stdout);
        if (url) {
          clearTimeout(timer);
          resolve(url[1]);
        }
      });
    });
    this.sampler = setInterval(() => {
      if (this.firstBytesAtMs === undefined && bytesUnder(this.outDir) > 0) this.firstBytesAtMs = Date.now();
    }, SAMPLE_MS).unref();
    return this.origin;
  }

  /** SIGTERM, as a person stops it: it closes its listener and prints its counts on stderr. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    clearInterval(this.sampler);
    const child = this.child;
    if (!child) return { code: null, signal: null };
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const exit = await this.exit;
      clearTimeout(timer);
      return exit;
    }
    return this.exit;
  }
}

const SAMPLE_MS = 100;

function bytesUnder(dir: string): number {
  let total = 0;
  let names: string[];
  try {
    names = readdirSync(dir, { recursive: true }) as string[];
  } catch {
    return 0; // removed by a cleanup that came first
  }
  for (const name of names) {
    try {
      const s = statSync(join(dir, name));
      if (s.isFile()) total += s.size;
    } catch {
      // A segment evicted between the listing and the stat.
    }
  }
  return total;
}
