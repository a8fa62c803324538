/**
 * The verdict metrics of a source of reports (`stall-why watch`, `stall-why collect`, any other):
 * `stall_why.turns` and `stall_why.turn.stuck_duration`, observable gauges read from the latest
 * report handed to `update`, published over OTLP/HTTP (pushed every interval) and as a Prometheus
 * scrape endpoint. It owns its MeterProvider and readers; `shutdown` pushes the last values.
 *
 * Loaded only when a command is asked for metrics: the metrics SDK costs every other start-up.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, type MetricReader, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ObservableResult } from '@opentelemetry/api';
import type { Report } from '@stall-why/classifier';
import { ATTR_SERVICE_NAME, METRIC_TURN_STUCK_DURATION, METRIC_TURN_STUCK_DURATION_UNIT, METRIC_TURNS, METRIC_TURNS_UNIT } from '@stall-why/conventions';
import { DEFAULT_MAX_SERVICES, TurnGauges, type GaugePoint } from './turn-gauges.js';
import { VERSION } from './version.js';

export interface VerdictMetricsOptions {
  /** OTLP/HTTP metrics endpoint (`…/v1/metrics`; a bare origin gets `/v1/metrics`). None: nothing is pushed. */
  readonly otlpUrl?: string;
  /** Time between OTLP pushes, ms. Default: `OTEL_METRIC_EXPORT_INTERVAL`, else 60 000. */
  readonly otlpIntervalMs?: number;
  /** Port of the Prometheus scrape endpoint (`/metrics`); 0 picks a free one. None: no endpoint. */
  readonly prometheusPort?: number;
  /** Address the scrape endpoint listens on. Default 127.0.0.1 (loopback). */
  readonly prometheusHost?: string;
  /** Services named at most; the turns of later ones count as `_other`. Default `DEFAULT_MAX_SERVICES` (10). */
  readonly maxServices?: number;
  /**
   * Time budget of one OTLP push, retries included; never more than the interval. Default 5 000 ms,
   * half the exporter's own default: a gauge's next push supersedes a late one, and a push retrying
   * against an endpoint that is down holds the process's exit until its budget is spent.
   */
  readonly pushTimeoutMs?: number;
  /** Time budget of the last OTLP push, at shutdown, retries included. Default 2 000 ms. */
  readonly shutdownTimeoutMs?: number;
  /** Told when an OTLP push fails, once until one succeeds again. Default: nothing is said. */
  readonly onProblem?: (message: string) => void;
}

/** Default time between OTLP pushes, the OpenTelemetry SDKs' own default. */
export const DEFAULT_OTLP_INTERVAL_MS = 60_000;
/** Default time budget of an OTLP push. */
export const DEFAULT_PUSH_TIMEOUT_MS = 5_000;
/** Default time budget of the last OTLP push. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 2_000;
/** Default address of the scrape endpoint: loopback, so that nothing is published beyond the host unless asked. */
export const DEFAULT_PROMETHEUS_HOST = '127.0.0.1';

export class VerdictMetrics {
  private constructor(
    private readonly gauges: TurnGauges,
    private readonly provider: MeterProvider,
    private readonly server: Server | undefined,
    private readonly exporter: ProblemReportingExporter | undefined,
    /** The scrape endpoint's URL, when there is one. */
    readonly prometheusUrl: string | undefined,
    /** Where the gauges are pushed and how often, when they are. */
    readonly otlp: { readonly url: string; readonly intervalMs: number } | undefined,
  ) {}

  /** Starts the readers; rejects when the scrape endpoint cannot listen (the port is taken). */
  static async start(options: VerdictMetricsOptions): Promise<VerdictMetrics> {
    const gauges = new TurnGauges(options.maxServices ?? DEFAULT_MAX_SERVICES);
    const readers: MetricReader[] = [];
    let otlp: VerdictMetrics['otlp'];
    let exporter: ProblemReportingExporter | undefined;
    if (options.otlpUrl !== undefined) {
      const url = metricsUrl(options.otlpUrl);
      const intervalMs = options.otlpIntervalMs ?? (Number(process.env.OTEL_METRIC_EXPORT_INTERVAL) || DEFAULT_OTLP_INTERVAL_MS);
      const pushTimeoutMs = Math.min(intervalMs, options.pushTimeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS);
      exporter = new ProblemReportingExporter(url, pushTimeoutMs, options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS, options.onProblem);
      readers.push(new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: intervalMs, exportTimeoutMillis: pushTimeoutMs }));
      otlp = { url, intervalMs };
    }
    let server: Server | undefined;
    let prometheusUrl: string | undefined;
    if (options.prometheusPort !== undefined) {
      // Our own server rather than the exporter's: it takes port 0, and a taken port is an error we can name.
      const prometheus = new PrometheusExporter({ preventServerStart: true });
      readers.push(prometheus);
      server = createServer((req, res) => {
        if (req.method === 'GET' && req.url?.split('?')[0] === '/metrics') prometheus.getMetricsRequestHandler(req, res);
        else res.writeHead(404).end();
      });
      const host = options.prometheusHost ?? DEFAULT_PROMETHEUS_HOST;
      prometheusUrl = await listen(server, host, options.prometheusPort);
    }
    const provider = new MeterProvider({ resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'stall-why', 'service.version': VERSION }), readers });
    const meter = provider.getMeter('stall-why', VERSION);
    const observe = (points: () => GaugePoint[]) => (result: ObservableResult) => {
      for (const point of points()) result.observe(point.value, point.attributes);
    };
    meter
      .createObservableGauge(METRIC_TURNS, { unit: METRIC_TURNS_UNIT, description: 'Turns at the latest judgement, by state, verdict and service.' })
      .addCallback(observe(() => gauges.turnCounts()));
    meter
      .createObservableGauge(METRIC_TURN_STUCK_DURATION, {
        unit: METRIC_TURN_STUCK_DURATION_UNIT,
        description: 'Longest time an open turn of the group has been quiet at the latest judgement (0: no open turn left).',
      })
      .addCallback(observe(() => gauges.stuckDurations()));
    return new VerdictMetrics(gauges, provider, server, exporter, prometheusUrl, otlp);
  }

  /** The latest judgement: what the gauges say from now on. */
  update(report: Report): void {
    this.gauges.update(report);
  }

  /** Pushes the latest values (OTLP), closes the scrape endpoint and stops the readers. */
  async shutdown(): Promise<void> {
    this.exporter?.lastPush();
    await this.provider.shutdown().catch(() => undefined);
    if (!this.server) return;
    const closed = new Promise<void>((resolve) => this.server!.close(() => resolve()));
    // A scraper's keep-alive connection would hold the close until it times out.
    this.server.closeAllConnections();
    await closed;
  }
}

/**
 * The OTLP exporter, saying "once" when pushes start failing (and again only after one got through).
 * The last push, at shutdown, goes through an exporter of its own with a shorter budget: the OTLP
 * exporter retries within its timeout on timers that hold the process, so that a Ctrl-C waits for an
 * endpoint that is down at most about as long as the larger of the two budgets.
 */
class ProblemReportingExporter implements PushMetricExporter {
  private readonly regular: OTLPMetricExporter;
  private readonly last: OTLPMetricExporter;
  private finishing = false;
  private failing = false;

  constructor(
    private readonly url: string,
    pushTimeoutMs: number,
    lastPushTimeoutMs: number,
    private readonly onProblem: ((message: string) => void) | undefined,
  ) {
    this.regular = new OTLPMetricExporter({ url, timeoutMillis: pushTimeoutMs });
    this.last = new OTLPMetricExporter({ url, timeoutMillis: lastPushTimeoutMs });
  }

  /** What is exported from now on is the last push. */
  lastPush(): void {
    this.finishing = true;
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    (this.finishing ? this.last : this.regular).export(metrics, (result) => {
      if (result.code === ExportResultCode.SUCCESS) this.failing = false;
      else if (!this.failing) {
        this.failing = true;
        this.onProblem?.(`cannot push verdict metrics to ${this.url}: ${result.error?.message ?? 'export failed'} (said once until a push gets through)`);
      }
      resultCallback(result);
    });
  }

  async forceFlush(): Promise<void> {
    await Promise.all([this.regular.forceFlush(), this.last.forceFlush()]);
  }

  async shutdown(): Promise<void> {
    await Promise.all([this.regular.shutdown(), this.last.shutdown()]);
  }

  selectAggregationTemporality = (type: Parameters<NonNullable<PushMetricExporter['selectAggregationTemporality']>>[0]) => this.regular.selectAggregationTemporality(type);
}

/** `http://host:4318` → `http://host:4318/v1/metrics`; a URL with a path is taken as it is. */
function metricsUrl(value: string): string {
  const url = new URL(value);
  return url.pathname === '/' ? new URL('/v1/metrics', url).href : value;
}

function listen(server: Server, host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`cannot listen on ${host}:${port} for the metrics endpoint (${err.code ?? err.message})`)));
    server.listen(port, host, () => {
      const address = server.address() as AddressInfo;
      const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve(`http://${shown}:${address.port}/metrics`);
    });
  });
}
