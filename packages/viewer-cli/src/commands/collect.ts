import { mkdirSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';

interface CollectOptions {
  out: string;
  port: number;
  host: string;
  maxBytes?: number;
  forward?: string;
}

const EXAMPLES = `
Examples:
  $ stall-why collect --out ~/.stall-why/flight
  $ OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 my-agent-server
  $ stall-why buffer ~/.stall-why/flight
  $ stall-why collect --out ~/.stall-why/flight --port 4319 --forward http://collector:4318/v1/traces

Any OpenTelemetry SDK (or Codex's [otel] exporter) that exports OTLP/HTTP can feed it with no code
change. A batch is answered 200 only once its spans are in the file; when the directory cannot be
written the answer is 503 with Retry-After, so the sender keeps the batch. With --forward, what is
received is forwarded from the directory with retry and replay (nothing is lost while the next hop
is down), and spans still open travel as pending-span markers.`;

/** `stall-why collect --out <dir>`: an OTLP/HTTP receiver writing into a flight-recorder directory. */
export function registerCollectCommand(program: Command): void {
  program
    .command('collect')
    .description('receive OTLP/HTTP traces (/v1/traces, JSON or protobuf) into a flight-recorder directory')
    .requiredOption('--out <dir>', 'flight-recorder directory to write (created 0700 when missing)')
    .option('--port <n>', 'port to listen on; 0 picks a free one', port, 4318)
    .option('--host <host>', 'address to listen on (loopback unless told otherwise)', '127.0.0.1')
    .option('--max-bytes <n>', 'byte budget of the directory, oldest segment evicted first (default 64 MiB)', byteCount)
    .option('--forward <url>', 'also forward what is received to this OTLP/HTTP traces endpoint, from the directory (retry, replay, pending-span markers)', otlpUrl)
    .addHelpText('after', EXAMPLES)
    .action(async (options: CollectOptions) => {
      // Loaded here, not at startup: the OpenTelemetry SDK and protobufjs cost every other command ~0.2 s.
      const { FlightRecorderUploader, OtlpTraceReceiver } = await import('@stall-why/instrument');
      // Made now, not at the first span: a directory being collected into can be judged from the first moment.
      mkdirSync(options.out, { recursive: true, mode: 0o700 });
      const receiver = new OtlpTraceReceiver({ directory: options.out, port: options.port, host: options.host, maxBytes: options.maxBytes });
      let url: string;
      try {
        url = await receiver.listen();
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        throw new Error(`cannot listen on ${options.host}:${options.port} (${e.code ?? e.message})`);
      }
      // A sidecar in a pipeline: the next hop reads from the directory, so a hop that is down loses nothing.
      const forwarder = options.forward ? new FlightRecorderUploader({ directory: options.out, url: options.forward }) : undefined;
      forwarder?.start();
      process.stdout.write(`stall-why collect: listening on ${url}, writing to ${options.out}${options.forward ? `, forwarding to ${options.forward}` : ''}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await receiver.close();
      await forwarder?.shutdown();
      const s = receiver.stats();
      const f = forwarder?.stats();
      const forwarded = f ? `; forwarded ${f.uploadedSpans} spans and ${f.pendingMarkersSent} pending-span markers` : '';
      process.stderr.write(`stall-why collect: ${s.spans} spans in ${s.requests} requests; ${s.badRequests} bad, ${s.unavailable} answered 503${forwarded}\n`);
    });
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number (0-65535)');
  return n;
}

function otlpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('expected an http(s) URL, e.g. http://127.0.0.1:4318/v1/traces');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('expected an http(s) URL, e.g. http://127.0.0.1:4318/v1/traces');
  return value;
}

function byteCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 64 * 1024) throw new InvalidArgumentError('expected a byte count of at least 65536');
  return n;
}
