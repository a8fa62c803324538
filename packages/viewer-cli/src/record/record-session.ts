import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { fstatSync, mkdirSync } from 'node:fs';
import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { constants as osConstants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { SOURCE_ACP, SOURCE_JSONRPC, SOURCE_UPSTREAM_PROXY, WRITER_STOP_REASON_SERVER_EXIT } from '@stall-why/conventions';
import { AcpObserver, CodexJsonRpcObserver, FlightRecorderProcessor, TurnTracer } from '@stall-why/instrument';
import { writeError } from '../error-line.js';
import { DEFAULT_MAX_LINE_BYTES } from './line-scanner.js';
import { ProtocolDetector, type RecordObserver, type RecordProtocol } from './protocol-detector.js';
import { StdioRelay } from './stdio-relay.js';
import { UpstreamProxy } from './upstream-proxy.js';
import type { UpstreamRoute } from './upstream-route.js';

/** The renderer id of the client on record's stdio. */
export const STDIO_RENDERER_ID = 'stdio';

export interface RecordSessionOptions {
  /** Flight recorder directory. */
  readonly out: string;
  /** The server command and its arguments. */
  readonly command: readonly string[];
  /** Model-API reverse proxies to run while the server runs. Default none. */
  readonly upstreams?: readonly UpstreamRoute[];
  /** OTLP/HTTP traces URL to upload to as well. Default none. */
  readonly otlpUrl?: string;
  /** Seconds to keep the server's stdin open after the client left mid-turn. Default 0. */
  readonly lingerSeconds?: number;
  /** Longest JSON-RPC line observed; longer ones pass through, counted. Default 1 MiB. */
  readonly maxLineBytes?: number;
  /** The protocol on stdio. Default: detected from the client's first message (ACP or the Codex app-server). */
  readonly protocol?: RecordProtocol;
  /** Called once when the protocol is known (detected or forced). */
  readonly onProtocol?: (protocol: RecordProtocol) => void;
  /** Called once per proxy with the address it listens on (port 0 picks one). */
  readonly onUpstreamListening?: (route: UpstreamRoute, port: number) => void;
}

/** How the server ended: the exit code record must give, or the signal it must re-raise. */
export interface RecordOutcome {
  readonly code: number;
  readonly signal?: NodeJS.Signals;
}

/** Exit codes of a command that could not be started, as shells and `env`/`timeout` give them. */
export const EXIT_COMMAND_NOT_FOUND = 127;
export const EXIT_COMMAND_NOT_EXECUTABLE = 126;

const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * One run of `stall-why record`: the server as a child process with its stdio passed through
 * (byte for byte, observed beside the byte path), model-API proxies beside it, every phase written
 * to a flight recorder. Resolves when the server has exited and the recording is flushed.
 */
export async function runRecordSession(options: RecordSessionOptions): Promise<RecordOutcome> {
  // Made now, not at the first span, so the directory can be judged from the first moment.
  mkdirSync(options.out, { recursive: true, mode: 0o700 });
  const recorder = new FlightRecorderProcessor({ directory: options.out, otlp: options.otlpUrl ? { url: options.otlpUrl } : undefined });
  const provider = new BasicTracerProvider({ spanProcessors: [recorder] });
  const tracer = provider.getTracer('stall-why-record');
  const observer = new ProtocolDetector((protocol) => {
    options.onProtocol?.(protocol);
    const observerOptions = {
      turnTracer: new TurnTracer({ tracer, source: sourceOf(protocol) }),
      rendererId: STDIO_RENDERER_ID,
      // The scanner hands longer lines over cut at this + 1 bytes: the observer then reads only their head.
      maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    };
    return protocol === 'acp' ? new AcpObserver(observerOptions) : new CodexJsonRpcObserver(observerOptions);
  }, options.protocol);
  const proxyTracer = new TurnTracer({ tracer, source: SOURCE_UPSTREAM_PROXY });
  const proxies: UpstreamProxy[] = [];
  try {
    for (const route of options.upstreams ?? []) {
      const proxy = new UpstreamProxy({ route, tracer: proxyTracer, activeTurns: () => observer.activeTurns() });
      proxies.push(proxy);
      const address = await proxy.listen();
      options.onUpstreamListening?.(route, address.port);
    }
    // The server's end, in the recording: a turn it left open is abandoned, not stuck for ever.
    const onServerExit = (pid: number | undefined, code: number | null, signal: NodeJS.Signals | null): void =>
      new TurnTracer({ tracer, source: sourceOf(observer.protocol ?? 'codex-app-server') }).writerStopped(WRITER_STOP_REASON_SERVER_EXIT, { exitCode: code, signal, pid });
    return await superviseServer(options, observer, onServerExit);
  } finally {
    await Promise.all(proxies.map((p) => p.close()));
    await provider.forceFlush().catch(() => undefined);
    await provider.shutdown().catch(() => undefined);
  }
}

function sourceOf(protocol: RecordProtocol): string {
  return protocol === 'acp' ? SOURCE_ACP : SOURCE_JSONRPC;
}

function superviseServer(
  options: RecordSessionOptions,
  observer: RecordObserver,
  onServerExit: (pid: number | undefined, code: number | null, signal: NodeJS.Signals | null) => void,
): Promise<RecordOutcome> {
  return new Promise((resolve) => {
    const [file, ...args] = options.command;
    let child: ChildProcessByStdio<Writable, Readable, null>;
    try {
      child = spawn(file, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    } catch (error) {
      resolve(startFailure(file, error as NodeJS.ErrnoException));
      return;
    }
    const now = () => performance.timeOrigin + performance.now();
    const scan = { maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES, onPartialLine: () => observer.noteMalformed() };
    let lingerTimer: NodeJS.Timeout | undefined;
    let serverStdinClosed = false;
    const closeServerStdin = () => {
      if (serverStdinClosed) return;
      serverStdinClosed = true;
      child.stdin.end();
    };
    const clientLeft = (reason: string) => {
      const turnActive = observer.activeTurns().length > 0;
      if (turnActive) observer.rendererDetached(now(), reason);
      const lingerMs = (options.lingerSeconds ?? 0) * 1000;
      if (turnActive && lingerMs > 0) {
        process.stderr.write(`stall-why record: client left mid-turn; keeping the server's stdin open ${options.lingerSeconds} s (--linger)\n`);
        lingerTimer = setTimeout(closeServerStdin, lingerMs);
      } else {
        closeServerStdin();
      }
    };

    const toServer = new StdioRelay(process.stdin, child.stdin, {
      ...scan,
      onLine: (line, timeMs) => observer.observeLine('client->server', line, timeMs),
      onSourceEnd: () => clientLeft('eof'),
    });
    const clientOut = openClientOutput();
    const toClient = new StdioRelay(child.stdout, clientOut, {
      ...scan,
      onLine: (line, timeMs) => observer.observeLine('server->client', line, timeMs),
      onSinkError: () => {
        if (observer.activeTurns().length > 0) observer.rendererDetached(now(), 'closed');
      },
    });

    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);

    child.once('error', (error: NodeJS.ErrnoException) => {
      // spawn failures (ENOENT, EACCES) arrive here; no 'close' follows for them.
      if (child.pid === undefined) finish(startFailure(file, error));
    });
    child.once('close', (code, signal) => {
      onServerExit(child.pid, code, signal);
      finish(signal ? { code: 128 + (osConstants.signals[signal] ?? 0), signal } : { code: code ?? 0 });
    });
    // Writing to a server that already exited must not bring record down.
    child.stdin.on('error', () => undefined);

    let finished = false;
    function finish(outcome: RecordOutcome): void {
      if (finished) return;
      finished = true;
      if (lingerTimer) clearTimeout(lingerTimer);
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
      // Stop reading the client: nothing is left to deliver its bytes to.
      process.stdin.pause();
      process.stdin.unref?.();
      reportCounts(toServer, toClient);
      void drained(clientOut).then(() => resolve(outcome));
    }
  });
}

/**
 * Where the server's output goes. Node makes `process.stdout` blocking when it is a pipe, so one
 * slow read by the client would stall record's whole event loop (the upstream proxy and the
 * recorder with it). A non-blocking socket on fd 1 keeps backpressure per stream instead.
 */
function openClientOutput(): Writable {
  try {
    const stat = fstatSync(1);
    if (stat.isFIFO() || stat.isSocket()) return new Socket({ fd: 1, readable: false, writable: true });
  } catch {
    // fd 1 closed or unknown: fall back to process.stdout, whose errors the relay handles.
  }
  return process.stdout;
}

/** Longest wait for the client to take the server's last bytes before record exits. */
const FINAL_DRAIN_MS = 5_000;

function drained(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (out === process.stdout) {
      out.write('', () => resolve());
      return;
    }
    const timer = setTimeout(resolve, FINAL_DRAIN_MS);
    timer.unref();
    out.once('error', () => resolve());
    out.end(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function startFailure(file: string, error: NodeJS.ErrnoException): RecordOutcome {
  writeError(`cannot run ${JSON.stringify(file)}: ${error.code ?? error.message}`);
  return { code: error.code === 'ENOENT' ? EXIT_COMMAND_NOT_FOUND : EXIT_COMMAND_NOT_EXECUTABLE };
}

/** Lines that passed through without being observed are worth a note: they are the malformed ones. */
function reportCounts(toServer: StdioRelay, toClient: StdioRelay): void {
  for (const [name, relay] of [['client->server', toServer], ['server->client', toClient]] as const) {
    const { oversizedLines, partialLines } = relay.stats;
    if (oversizedLines + partialLines > 0) {
      process.stderr.write(`stall-why record: ${name}: passed through without observing ${oversizedLines} line(s) over the size cap and ${partialLines} unterminated line(s)\n`);
    }
  }
}
