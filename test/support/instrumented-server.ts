/**
 * Runs a user's instrumented server the way a person tries one: start it, send a turn, and ask the
 * CLI what the flight recorder holds. Shared by the README snippet test and the packed-install test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';

/** A model API on loopback that answers every request with a short Responses-style SSE stream. */
export async function startFakeModel(): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const server: Server = createServer((req, res) => {
    requests++;
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end('event: response.created\ndata: {"type":"response.created"}\n\nevent: response.completed\ndata: {"type":"response.completed"}\n\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1/responses`, requests: () => requests, close: () => new Promise((r) => server.close(() => r())) };
}

export interface RunningServer {
  readonly child: ChildProcess;
  readonly output: () => string;
  stop(): Promise<void>;
}

/** Starts `node <file>` with PORT set and resolves once it accepts connections on that port. */
export async function startServer(file: string, options: { cwd: string; port: number; env?: Record<string, string> }): Promise<RunningServer> {
  const child = spawn(process.execPath, [file], { cwd: options.cwd, env: { ...process.env, ...options.env, PORT: String(options.port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const running: RunningServer = {
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  for (const deadline = Date.now() + 15_000; ;) {
    if (child.exitCode !== null) throw new Error(`${file} exited with ${child.exitCode}: ${output}`);
    const up = await new Promise<boolean>((r) => {
      const socket = connect(options.port, '127.0.0.1', () => socket.end(() => r(true))).once('error', () => r(false));
    });
    if (up) return running;
    if (Date.now() > deadline) {
      await running.stop();
      throw new Error(`${file} did not listen on ${options.port}: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Polls `judge` until it gives a value `done` accepts (the flight recorder writes within a second), or gives up after `ms`. */
export async function waitForJudgement<T>(judge: () => Promise<T>, done: (value: T) => boolean, ms = 10_000): Promise<T> {
  for (const deadline = Date.now() + ms; ;) {
    const value = await judge();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
}
