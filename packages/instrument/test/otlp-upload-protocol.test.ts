/**
 * The flight recorder's upload encoding: OTLP/HTTP protobuf by default (as the OpenTelemetry
 * exporters have it), JSON when asked by option or by the standard environment variables. A real
 * loopback receiver decodes what arrives (protobufjs or JSON) and must find every span.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeOtlpTraceRequest, FlightRecorderProcessor, FlightRecorderUploader, otlpHttpProtocol } from '@stall-why/instrument';

let server: Server;
let url: string;
const seen: Array<{ contentType: string; names: string[] }> = [];
const root = mkdtempSync(join(tmpdir(), 'sw-protocol-'));

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const contentType = req.headers['content-type'] ?? '';
      seen.push({ contentType, names: decodeOtlpTraceRequest(Buffer.concat(chunks), contentType).spans.map((s) => s.name) });
      res.writeHead(200, { 'content-type': contentType }).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(root, { recursive: true, force: true });
});

async function recordAndUpload(name: string, protocol?: 'http/json' | 'http/protobuf') {
  const directory = join(root, name);
  const recorder = new FlightRecorderProcessor({ directory });
  const tracer = new BasicTracerProvider({ spanProcessors: [recorder] }).getTracer('protocol');
  for (let i = 0; i < 3; i++) tracer.startSpan(`${name}-${i}`).end();
  await recorder.shutdown();
  seen.length = 0;
  const uploader = new FlightRecorderUploader({ directory, url, protocol });
  const result = await uploader.uploadBacklog();
  await uploader.shutdown();
  expect(result.caughtUp).toBe(true);
  return seen.slice();
}

describe('upload encoding', () => {
  it('is protobuf by default, and every span arrives', async () => {
    const requests = await recordAndUpload('default');
    expect(requests.map((r) => r.contentType)).toEqual(['application/x-protobuf']);
    expect(requests[0]!.names).toEqual(['default-0', 'default-1', 'default-2']);
  });

  it('is JSON when asked', async () => {
    const requests = await recordAndUpload('json', 'http/json');
    expect(requests.map((r) => r.contentType)).toEqual(['application/json']);
    expect(requests[0]!.names).toEqual(['json-0', 'json-1', 'json-2']);
  });

  it('follows OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, then OTEL_EXPORTER_OTLP_PROTOCOL; grpc falls back to protobuf', () => {
    expect(otlpHttpProtocol(undefined, {})).toBe('http/protobuf');
    expect(otlpHttpProtocol(undefined, { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toBe('http/json');
    expect(otlpHttpProtocol(undefined, { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toBe('http/protobuf');
    expect(otlpHttpProtocol(undefined, { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' })).toBe('http/protobuf');
    expect(otlpHttpProtocol('http/json', { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' })).toBe('http/json');
  });
});
