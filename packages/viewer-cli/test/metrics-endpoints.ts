/**
 * The two ends a test reads the CLI's verdict metrics from: a real OTLP/HTTP metrics receiver on
 * loopback (node:http, decoding the JSON that `@opentelemetry/exporter-metrics-otlp-http` sends), and
 * a real HTTP scrape of the Prometheus endpoint. Both give the gauges' points by metric name.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MetricPoint {
  readonly attributes: Record<string, string>;
  readonly value: number;
}

/** The points of each metric, by name. */
export type MetricSnapshot = Map<string, MetricPoint[]>;

interface OtlpJsonValue { stringValue?: string; intValue?: string | number; doubleValue?: number }
interface OtlpJsonPoint { attributes?: Array<{ key: string; value: OtlpJsonValue }>; asDouble?: number; asInt?: string | number }
interface OtlpJsonRequest {
  resourceMetrics?: Array<{ scopeMetrics?: Array<{ metrics?: Array<{ name: string; unit?: string; gauge?: { dataPoints?: OtlpJsonPoint[] } }> }> }>;
}

/** An OTLP/HTTP metrics receiver on 127.0.0.1 that keeps every request it was sent, in order. */
export class OtlpMetricsReceiver {
  readonly requests: OtlpJsonRequest[] = [];
  /** Units seen, by metric name. */
  readonly units = new Map<string, string>();
  private readonly server: Server;

  private constructor(readonly url: string, server: Server) {
    this.server = server;
  }

  static async start(): Promise<OtlpMetricsReceiver> {
    let receiver: OtlpMetricsReceiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url !== '/v1/metrics' || !String(req.headers['content-type']).includes('json')) {
          res.writeHead(415).end();
          return;
        }
        receiver!.take(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpJsonRequest);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver = new OtlpMetricsReceiver(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/metrics`, server);
    return receiver;
  }

  /** The points of the latest request. */
  latest(): MetricSnapshot {
    const snapshot: MetricSnapshot = new Map();
    const last = this.requests.at(-1);
    for (const rm of last?.resourceMetrics ?? []) {
      for (const sm of rm.scopeMetrics ?? []) {
        for (const metric of sm.metrics ?? []) {
          const points = (metric.gauge?.dataPoints ?? []).map((p) => ({
            attributes: Object.fromEntries((p.attributes ?? []).map((a) => [a.key, String(a.value.stringValue ?? a.value.intValue ?? a.value.doubleValue)])),
            value: Number(p.asDouble ?? p.asInt),
          }));
          snapshot.set(metric.name, points);
        }
      }
    }
    return snapshot;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private take(request: OtlpJsonRequest): void {
    this.requests.push(request);
    for (const rm of request.resourceMetrics ?? []) for (const sm of rm.scopeMetrics ?? []) for (const m of sm.metrics ?? []) if (m.unit) this.units.set(m.name, m.unit);
  }
}

/** Scrapes a Prometheus text endpoint: the samples of each metric, by name. */
export async function scrape(url: string): Promise<MetricSnapshot> {
  const text = await (await fetch(url)).text();
  const snapshot: MetricSnapshot = new Map();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const attributes = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
    const points = snapshot.get(m[1]!) ?? [];
    points.push({ attributes, value: Number(m[3]) });
    snapshot.set(m[1]!, points);
  }
  return snapshot;
}

/** The value of the one point of `metric` whose attributes include `match`; undefined when there is none. */
export function valueOf(snapshot: MetricSnapshot, metric: string, match: Record<string, string>): number | undefined {
  const found = (snapshot.get(metric) ?? []).filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v));
  if (found.length > 1) throw new Error(`${found.length} points of ${metric} match ${JSON.stringify(match)}`);
  return found[0]?.value;
}

/** Polls `read` until `predicate` holds for what it returns. */
export async function eventually<T>(read: () => Promise<T> | T, predicate: (value: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (predicate(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value instanceof Map ? [...value] : value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
