#!/usr/bin/env node
/**
 * The example app-server as a command:
 *   node examples/dist/app-server.js --stall <name> [--stall-ms N] [--otlp-file FILE] [--record DIR] [--serve]
 * Runs one turn through the chosen stall (or, with --serve, waits for clients) and says on stderr
 * where its spans went.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { FlightRecorderProcessor } from '@stall-why/instrument';
import { DEFAULT_STALL_MS, startExampleAppServer } from './example-app-server.js';
import { OtlpJsonLinesFileExporter } from './otlp-json-lines-exporter.js';
import { PhaseLogProcessor } from './phase-log-processor.js';
import { runStallScenario } from './stall-scenario.js';
import { STALLS, STALL_NAMES, isStallName, type StallName } from './stalls.js';

const EXIT_USAGE = 2;

const USAGE = `usage: node examples/dist/app-server.js --stall <name> [--stall-ms N] [--otlp-file FILE] [--record DIR] [--serve]

  --stall <name>     one of: ${STALL_NAMES.join(', ')}
  --stall-ms <n>     how long the stall lasts (default ${DEFAULT_STALL_MS})
  --otlp-file <file> append spans as OTLP JSON lines (one ExportTraceServiceRequest per line)
  --record <dir>     also record spans, open ones included, with the flight recorder
  --serve            keep serving clients instead of running one turn
  --list             list the stalls

Without --otlp-file or --record, phases are printed to stderr as they happen.`;

function usageError(message: string): never {
  process.stderr.write(`app-server: ${message}\n${USAGE}\n`);
  process.exit(EXIT_USAGE);
}

interface CliOptions {
  readonly stall: StallName;
  readonly stallMs: number;
  readonly otlpFile?: string;
  readonly recordDir?: string;
  readonly serve: boolean;
}

function parseCli(argv: string[]): CliOptions | 'list' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        stall: { type: 'string' }, 'stall-ms': { type: 'string' }, 'otlp-file': { type: 'string' }, record: { type: 'string' },
        serve: { type: 'boolean' }, list: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    usageError((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (values.list) return 'list';
  const stall = values.stall ?? 'none';
  if (!isStallName(stall)) usageError(`unknown stall "${stall}"`);
  const stallMs = values['stall-ms'] === undefined ? DEFAULT_STALL_MS : Number(values['stall-ms']);
  if (!Number.isInteger(stallMs) || stallMs < 0) usageError(`--stall-ms must be a whole number of milliseconds, got "${values['stall-ms']}"`);
  return { stall, stallMs, otlpFile: values['otlp-file'], recordDir: values.record, serve: values.serve ?? false };
}


function processorsFor(options: CliOptions): { processors: SpanProcessor[]; destinations: string[] } {
  const processors: SpanProcessor[] = [];
  const destinations: string[] = [];
  if (options.otlpFile) {
    const path = resolve(options.otlpFile);
    processors.push(new BatchSpanProcessor(new OtlpJsonLinesFileExporter(path), { scheduledDelayMillis: 500 }));
    destinations.push(`OTLP JSON lines in ${path}`);
  }
  if (options.recordDir) {
    const directory = resolve(options.recordDir);
    // Open spans are written at start, so a recording taken mid-stall shows what is still waiting.
    processors.push(new FlightRecorderProcessor({ directory }));
    destinations.push(`flight recording in ${directory}`);
  }
  if (processors.length === 0) {
    processors.push(new PhaseLogProcessor(process.stderr));
    destinations.push('the phase log on stderr (give --otlp-file FILE to keep them)');
  }
  return { processors, destinations };
}

async function main(): Promise<void> {
  const options = parseCli(process.argv.slice(2));
  if (options === 'list') {
    for (const name of STALL_NAMES) process.stdout.write(`${name.padEnd(30)} ${STALLS[name]}\n`);
    return;
  }
  const { processors, destinations } = processorsFor(options);
  process.stderr.write(`stall-why example: stall=${options.stall} (${STALLS[options.stall]}) stallMs=${options.stallMs}\n`);
  process.stderr.write(`spans go to: ${destinations.join('; ')}\n`);
  if (options.serve) {
    const server = await startExampleAppServer({ stall: options.stall, stallMs: options.stallMs, spanProcessors: processors });
    process.stderr.write(`app-server at ${server.url} (POST /threads/<id>/turns), model upstream at ${server.upstreamUrl}; Ctrl-C to stop\n`);
    process.once('SIGINT', () => void server.close().then(() => process.exit(0)));
    return;
  }
  const result = await runStallScenario({
    stall: options.stall,
    stallMs: options.stallMs,
    spanProcessors: processors,
    onStallReached: () => { process.stderr.write(`stall reached: ${options.stall} (lasts ${options.stallMs} ms)\n`); },
  });
  process.stderr.write(`turn ${result.turnId ?? '?'}: ${result.status} for the client (${result.events.length} events); spans written to: ${destinations.join('; ')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`app-server: ${(error as Error).message ?? String(error)}\n`);
  process.exit(1);
});
