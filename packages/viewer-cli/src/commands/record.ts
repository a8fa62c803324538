import { InvalidArgumentError, Option, type Command } from 'commander';
import { DEFAULT_MAX_LINE_BYTES } from '../record/line-scanner.js';
import { RECORD_PROTOCOLS, type RecordProtocol } from '../record/record-protocol.js';
import type { RecordOutcome } from '../record/record-session.js';
import { parseUpstreamRoute, type UpstreamRoute } from '../record/upstream-route.js';

interface RecordFlags {
  readonly out: string;
  readonly upstream: UpstreamRoute[];
  readonly otlp?: string;
  readonly linger: number;
  readonly maxLineBytes: number;
  readonly protocol?: RecordProtocol;
}

const EXAMPLES = `
Examples:
  # Record the Codex app-server, with its model API behind a recording proxy on port 8787:
  stall-why record --out ./rec --upstream 127.0.0.1:8787=https://api.openai.com -- \\
    codex app-server -c model_provider='"proxied"' \\
    -c 'model_providers.proxied={name="OpenAI via stall-why", base_url="http://127.0.0.1:8787/v1", wire_api="responses", env_key="OPENAI_API_KEY"}'
  # Meanwhile, in another terminal:
  stall-why ./rec

  # Record an ACP agent (Zed's agent_servers command), its model API proxied the same way:
  stall-why record --out ./rec --upstream 127.0.0.1:8788=https://api.anthropic.com -- \
    env ANTHROPIC_BASE_URL=http://127.0.0.1:8788 claude-agent-acp

Stdio passes through byte for byte; of a line longer than --max-line-bytes (default 1 MiB) only
the head is observed, a last line without newline is not observed; both are counted on stderr at exit. The exit
code is the server's (128+n when it died of signal n; 127 when the command was not found).
The protocol (ACP or the Codex app-server) is read from the client's first message unless
--protocol names it. See docs/wrap-codex.md and docs/wrap-acp.md.`;

/** `stall-why record`: wraps a JSON-RPC app-server (and its model API) and records its phases. */
export function registerRecordCommand(program: Command): void {
  program
    .command('record')
    .description('run an app-server or ACP agent with its stdio (and model API) proxied, recording every phase into a flight recorder directory')
    .requiredOption('--out <dir>', 'flight recorder directory (judge it any time with `stall-why <dir>`)')
    .option('--upstream <host:port=origin>', 'reverse-proxy a model API: listen on host:port (loopback), forward to origin; repeatable', collectRoute, [])
    .option('--otlp <url>', 'also upload the spans to this OTLP/HTTP traces endpoint')
    .option('--linger <seconds>', "when the client leaves mid-turn, keep the server's stdin open this long", parseSeconds, 0)
    .option('--max-line-bytes <bytes>', 'longest JSON-RPC line observed (longer ones pass through, counted)', parseBytes, DEFAULT_MAX_LINE_BYTES)
    .addOption(new Option('--protocol <name>', 'the JSON-RPC protocol on stdio (default: detected from the first message)').choices(RECORD_PROTOCOLS))
    .argument('<command...>', 'the server command, after --')
    .addHelpText('after', EXAMPLES)
    .action(async (command: string[], flags: RecordFlags) => {
      // Loaded here: the OpenTelemetry SDK and the proxies are only needed by this subcommand.
      const { runRecordSession } = await import('../record/record-session.js');
      const outcome = await runRecordSession({
        out: flags.out,
        command,
        upstreams: flags.upstream,
        otlpUrl: flags.otlp,
        lingerSeconds: flags.linger,
        maxLineBytes: flags.maxLineBytes,
        protocol: flags.protocol,
        onUpstreamListening: (route, port) => {
          process.stderr.write(`stall-why record: proxying http://${route.listenHost}:${port} -> ${route.origin.origin}\n`);
        },
      });
      await exitLike(outcome);
    });
}

/** Ends record the way the server ended: same exit code, or the same signal raised again. */
async function exitLike(outcome: RecordOutcome): Promise<void> {
  if (outcome.signal) {
    process.kill(process.pid, outcome.signal);
    // Still here (the signal is ignored in this process): exit with the shell's 128+n.
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  process.exit(outcome.code);
}

function collectRoute(spec: string, previous: UpstreamRoute[]): UpstreamRoute[] {
  try {
    return [...previous, parseUpstreamRoute(spec)];
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function parseSeconds(text: string): number {
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds < 0 || text.trim() === '') throw new InvalidArgumentError(`expected a number of seconds >= 0, got ${JSON.stringify(text)}`);
  return seconds;
}

function parseBytes(text: string): number {
  const bytes = Number(text);
  if (!Number.isInteger(bytes) || bytes < 1) throw new InvalidArgumentError(`expected a positive whole number of bytes, got ${JSON.stringify(text)}`);
  return bytes;
}
