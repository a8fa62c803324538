/**
 * The verdict-metrics options that `stall-why watch` and `stall-why collect` share, and the one
 * place that starts the metrics for them: the OpenTelemetry metrics SDK is imported only when one of
 * the options asks for it, so a command without them starts as fast as before.
 */
import { Option, type Command } from 'commander';
import { writeError } from './error-line.js';
import { httpUrlArgument, portArgument } from './network-arguments.js';
import type { VerdictMetrics } from './verdict-metrics.js';

export interface MetricsOptionValues {
  metricsOtlp?: string;
  metricsPort?: number;
  metricsHost: string;
}

/** Adds `--metrics-otlp`, `--metrics-port` and `--metrics-host` to a command. */
export function addMetricsOptions(command: Command): Command {
  return command
    .option('--metrics-otlp <url>', 'push verdict metrics (stall_why.turns, stall_why.turn.stuck_duration) to this OTLP/HTTP metrics endpoint, e.g. http://collector:4318/v1/metrics (every OTEL_METRIC_EXPORT_INTERVAL ms, default 60000)', httpUrlArgument('http://127.0.0.1:4318/v1/metrics'))
    .option('--metrics-port <n>', 'serve verdict metrics for Prometheus on this port at /metrics; 0 picks a free one', portArgument)
    .addOption(new Option('--metrics-host <host>', 'address the --metrics-port endpoint listens on (loopback unless told otherwise)').default('127.0.0.1'));
}

/** The metrics the options ask for, started and announced on stderr; undefined when they ask for none. */
export async function startMetrics(values: MetricsOptionValues): Promise<VerdictMetrics | undefined> {
  if (values.metricsOtlp === undefined && values.metricsPort === undefined) return undefined;
  const { VerdictMetrics } = await import('./verdict-metrics.js');
  const metrics = await VerdictMetrics.start({
    otlpUrl: values.metricsOtlp,
    prometheusPort: values.metricsPort,
    prometheusHost: values.metricsHost,
    onProblem: writeError,
  });
  const where = [
    metrics.prometheusUrl && `served at ${metrics.prometheusUrl}`,
    metrics.otlp && `pushed to ${metrics.otlp.url} every ${metrics.otlp.intervalMs / 1000}s`,
  ].filter(Boolean);
  process.stderr.write(`stall-why: verdict metrics ${where.join(' and ')}\n`);
  return metrics;
}
