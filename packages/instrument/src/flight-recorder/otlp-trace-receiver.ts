import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';
import { RECORD_TYPE_END, RECORD_TYPE_START, isPendingSpanMarker, openSpanOfMarker, writeRecordedSpanBody } from '@stall-why/flight-record';
import { decodeOtlpTraceRequest, OtlpRequestError } from './otlp-trace-request.js';
import { RingBufferWriter, type RingBufferWriterStats } from './ring-buffer-writer.js';

export interface OtlpTraceReceiverOptions {
  /** Recorder directory the received spans are written to. */
  readonly directory: string;
  /** Default 127.0.0.1: loopback unless told otherwise. */
  readonly host?: string;
  /** Default 4318 (the OTLP/HTTP port); 0 picks a free one. */
  readonly port?: number;
  /** Ring-buffer budget. Default 64 MiB. */
  readonly maxBytes?: number;
  readonly segmentBytes?: number;
  /** fdatasync at most this often. Default 1000 ms. */
  readonly fsyncIntervalMs?: number;
  /** Largest request body accepted (after decompression). Default 32 MiB. */
  readonly maxBodyBytes?: number;
}

export interface OtlpTraceReceiverStats {
  requests: number;
  spans: number;
  /** Requests answered 400 (undecodable), 413 (too large) or 503 (could not write). */
  badRequests: number;
  tooLarge: number;
  unavailable: number;
  rejectedSpans: number;
  writer: RingBufferWriterStats;
}

/**
 * An OTLP/HTTP traces receiver (`POST /v1/traces`, JSON or protobuf, optionally gzip) that writes
 * every span it receives into a flight-recorder directory. It answers 200 only after the spans are
 * in the file, so a SIGKILL right after the answer loses none of them; when it cannot write (disk
 * full, read-only) it answers 503 with Retry-After so the sender keeps the batch.
 */
export class OtlpTraceReceiver {
  private readonly writer: RingBufferWriter;
  private readonly server: Server;
  private readonly maxBodyBytes: number;
  private readonly syncTimer: NodeJS.Timeout;
  private readonly counters = { requests: 0, spans: 0, badRequests: 0, tooLarge: 0, unavailable: 0, rejectedSpans: 0 };

  constructor(private readonly options: OtlpTraceReceiverOptions) {
    this.writer = new RingBufferWriter({
      directory: options.directory,
      maxBytes: options.maxBytes,
      segmentBytes: options.segmentBytes,
      fsyncIntervalMs: options.fsyncIntervalMs ?? 1000,
      writerName: 'stall-why collect',
    });
    this.maxBodyBytes = options.maxBodyBytes ?? 32 * 1024 * 1024;
    this.server = createServer((req, res) => { this.handle(req, res); });
    this.server.keepAliveTimeout = 5000;
    this.syncTimer = setInterval(() => this.writer.flush(), options.fsyncIntervalMs ?? 1000);
    this.syncTimer.unref();
  }

  /** Starts listening; resolves with the traces URL. */
  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 4318, this.options.host ?? '127.0.0.1', () => {
        this.server.off('error', reject);
        const address = this.server.address() as AddressInfo;
        const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        resolve(`http://${host}:${address.port}/v1/traces`);
      });
    });
  }

  stats(): OtlpTraceReceiverStats {
    return { ...this.counters, writer: this.writer.stats() };
  }

  /** Stops accepting, syncs and closes the segment. */
  async close(): Promise<void> {
    clearInterval(this.syncTimer);
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    this.writer.close();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/v1/traces') return this.reply(res, 404, `no such endpoint ${path}; send traces to /v1/traces`);
    if (req.method !== 'POST') return this.reply(res, 405, 'use POST');
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > this.maxBodyBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      if (tooLarge) {
        this.counters.tooLarge++;
        return this.reply(res, 413, `request body over ${this.maxBodyBytes} bytes`);
      }
      this.receive(req, res, Buffer.concat(chunks));
    });
  }

  private receive(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
    this.counters.requests++;
    const contentType = req.headers['content-type'] ?? '';
    let decoded;
    try {
      decoded = decodeOtlpTraceRequest(this.decompress(raw, req.headers['content-encoding']), contentType);
    } catch (err) {
      this.counters.badRequests++;
      // Decoding and decompression errors alike: the body is not an OTLP traces request.
      return this.reply(res, 400, err instanceof OtlpRequestError ? err.message : `undecodable body: ${(err as Error).message}`);
    }
    for (const span of decoded.spans) {
      // A pending-span marker is kept as what it stands for: the open span, as a start record.
      if (isPendingSpanMarker(span)) this.writer.append(RECORD_TYPE_START, openSpanOfMarker(span), writeRecordedSpanBody);
      else this.writer.append(RECORD_TYPE_END, span, writeRecordedSpanBody);
    }
    if (!this.writer.flush()) {
      this.counters.unavailable++;
      res.setHeader('Retry-After', '1');
      return this.reply(res, 503, 'cannot write to the flight-recorder directory; retry later');
    }
    this.counters.spans += decoded.spans.length;
    this.counters.rejectedSpans += decoded.rejectedSpans;
    if (contentType.startsWith('application/json')) {
      const body = decoded.rejectedSpans > 0 ? { partialSuccess: { rejectedSpans: decoded.rejectedSpans, errorMessage: 'spans without valid ids or start time' } } : {};
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    } else {
      // An empty ExportTraceServiceResponse.
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '0' }).end();
    }
  }

  private decompress(body: Buffer, encoding: string | undefined): Buffer {
    const options = { maxOutputLength: this.maxBodyBytes };
    if (encoding === 'gzip') return gunzipSync(body, options);
    if (encoding === 'deflate') return inflateSync(body, options);
    if (encoding && encoding !== 'identity') throw new OtlpRequestError(`unsupported content encoding '${encoding}'`);
    return body;
  }

  private reply(res: ServerResponse, status: number, message: string): void {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ code: status, message }));
  }
}
