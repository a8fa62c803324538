import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';
import {
  RECORD_TYPE_END, RECORD_TYPE_LOG, RECORD_TYPE_START, isPendingSpanMarker, openSpanOfMarker, writeRecordedLogBody, writeRecordedSpanBody,
  type RecordedLog, type RecordedSpan,
} from '@stall-why/flight-record';
import { resolveAttributeLimits, type AttributeLimits } from '../attribute-limits.js';
import { recordableSpan } from '../recordable-span.js';
import { recordableLog } from '../recordable-log.js';
import { decodeOtlpLogsRequest } from './otlp-logs-request.js';
import { OtlpRequestError } from './otlp-request-body.js';
import { decodeOtlpTraceRequest } from './otlp-trace-request.js';
import { RingBufferWriter, type RingBufferWriterStats } from './ring-buffer-writer.js';

/**
 * Where a receiver stores what it receives instead of a flight-recorder directory (a ClickHouse
 * table, for one). A store resolves once the records are durably stored, and rejects when they
 * cannot be: the receiver answers 200 only after it resolved, 503 with Retry-After when it rejected.
 */
export interface ReceivedRecordSink {
  /** The spans as received: pending-span markers stay markers. */
  storeSpans(spans: readonly RecordedSpan[]): Promise<void>;
  /** The log records, already bounded and without content (as the directory keeps them). */
  storeLogs(logs: readonly RecordedLog[]): Promise<void>;
}

export interface OtlpReceiverOptions {
  /** Recorder directory the received spans and log records are written to (or `sink`). */
  readonly directory?: string;
  /** Stores the records instead of a directory; `directory` and the writer's options are then not used. */
  readonly sink?: ReceivedRecordSink;
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
  /**
   * Most request bytes held at once across concurrent requests; a request that would go over it
   * (with others already held) is answered 503 with Retry-After. One request alone is always read.
   * Default 64 MiB: 150 concurrent 31 MiB bodies once held 2.4 GB.
   */
  readonly maxInFlightBytes?: number;
  /** Bounds on log record attributes and bodies. Default: the adapters' (`resolveAttributeLimits()`). */
  readonly attributeLimits?: Partial<AttributeLimits>;
  /**
   * Keep the values of content attributes of log records (prompts, tool arguments and output; see
   * CONTENT_ATTRIBUTE_KEYS). Default false: only their length is kept, as `<key>_length`.
   */
  readonly recordContent?: boolean;
}

export interface OtlpReceiverStats {
  requests: number;
  spans: number;
  logRecords: number;
  /** Requests answered 400 (undecodable), 413 (too large) or 503 (could not write). */
  badRequests: number;
  tooLarge: number;
  unavailable: number;
  rejectedSpans: number;
  rejectedLogRecords: number;
  /** The directory writer's counters (absent with a sink). */
  writer?: RingBufferWriterStats;
}

/** The two signals received, by path. */
const SIGNAL_PATHS: Readonly<Record<string, 'traces' | 'logs'>> = { '/v1/traces': 'traces', '/v1/logs': 'logs' };

/** A decoded request, and the answer's partial success when some of it was rejected. */
type Accepted =
  | { readonly signal: 'traces'; readonly spans: readonly RecordedSpan[]; readonly records: number; readonly rejected: number }
  | { readonly signal: 'logs'; readonly logs: readonly RecordedLog[]; readonly records: number; readonly rejected: number };

/**
 * An OTLP/HTTP receiver (`POST /v1/traces` and `POST /v1/logs`, JSON or protobuf, optionally gzip or
 * deflate) that writes every span and log record it receives into a flight-recorder directory. It
 * answers 200 only after the records are in the file, so a SIGKILL right after the answer loses none
 * of them; when it cannot write (disk full, read-only) it answers 503 with Retry-After so the sender
 * keeps the batch. With a `sink` instead of a directory the same rule holds: 200 once the sink has
 * stored the records, 503 when it could not.
 */
export class OtlpReceiver {
  private readonly writer: RingBufferWriter | undefined;
  private readonly server: Server;
  private readonly maxBodyBytes: number;
  private readonly maxInFlightBytes: number;
  /** Request bytes held now, of requests being read or stored. */
  private inFlightBytes = 0;
  private readonly limits: AttributeLimits;
  private readonly syncTimer: NodeJS.Timeout | undefined;
  private readonly counters = {
    requests: 0, spans: 0, logRecords: 0, badRequests: 0, tooLarge: 0, unavailable: 0, rejectedSpans: 0, rejectedLogRecords: 0,
  };

  constructor(private readonly options: OtlpReceiverOptions) {
    if ((options.directory === undefined) === (options.sink === undefined)) throw new TypeError('OtlpReceiver needs either a directory or a sink');
    this.maxBodyBytes = options.maxBodyBytes ?? 32 * 1024 * 1024;
    this.maxInFlightBytes = options.maxInFlightBytes ?? 64 * 1024 * 1024;
    this.limits = resolveAttributeLimits(options.attributeLimits);
    this.server = createServer((req, res) => { this.handle(req, res); });
    this.server.keepAliveTimeout = 5000;
    if (options.directory === undefined) return;
    const writer = new RingBufferWriter({
      directory: options.directory,
      maxBytes: options.maxBytes,
      segmentBytes: options.segmentBytes,
      fsyncIntervalMs: options.fsyncIntervalMs ?? 1000,
      writerName: 'stall-why collect',
    });
    this.writer = writer;
    this.syncTimer = setInterval(() => writer.flush(), options.fsyncIntervalMs ?? 1000);
    this.syncTimer.unref();
  }

  /** Starts listening; resolves with the traces URL (the logs URL is the same with `/v1/logs`). */
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

  stats(): OtlpReceiverStats {
    return { ...this.counters, ...(this.writer ? { writer: this.writer.stats() } : {}) };
  }

  /** Stops accepting, syncs and closes the segment. */
  async close(): Promise<void> {
    clearInterval(this.syncTimer);
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    this.writer?.close();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').split('?')[0];
    const signal = SIGNAL_PATHS[path];
    if (signal === undefined) return this.reply(res, 404, `no such endpoint ${path}; send traces to /v1/traces, logs to /v1/logs`);
    if (req.method !== 'POST') return this.reply(res, 405, 'use POST');
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    let busy = false;
    // What this request holds is given back once it is answered (or its connection is gone).
    let held = 0;
    res.once('close', () => {
      this.inFlightBytes -= held;
      held = 0;
    });
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > this.maxBodyBytes) tooLarge = true;
      // Over the cap with others held: this one waits its turn (a request alone is always read).
      else if (this.inFlightBytes - held > 0 && this.inFlightBytes + chunk.length > this.maxInFlightBytes) busy = true;
      if (tooLarge || busy) {
        chunks.length = 0;
        this.inFlightBytes -= held;
        held = 0;
        return;
      }
      chunks.push(chunk);
      held += chunk.length;
      this.inFlightBytes += chunk.length;
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      if (tooLarge) {
        this.counters.tooLarge++;
        return this.reply(res, 413, `request body over ${this.maxBodyBytes} bytes`);
      }
      if (busy) {
        this.counters.unavailable++;
        res.setHeader('Retry-After', '1');
        return this.reply(res, 503, `receiving over ${this.maxInFlightBytes} bytes at once; retry later`);
      }
      this.receive(signal, req, res, Buffer.concat(chunks));
    });
  }

  private receive(signal: 'traces' | 'logs', req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
    this.counters.requests++;
    const contentType = req.headers['content-type'] ?? '';
    let accepted: Accepted;
    try {
      const body = this.decompress(raw, req.headers['content-encoding']);
      accepted = signal === 'traces' ? this.decodeSpans(body, contentType) : this.decodeLogs(body, contentType);
    } catch (err) {
      // A small body that inflates past the bound (a gzip bomb, or a big batch compressed well) is
      // too large, not malformed: 413 tells an exporter to send smaller batches rather than give up.
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        this.counters.tooLarge++;
        return this.reply(res, 413, `request body inflates to over ${this.maxBodyBytes} bytes`);
      }
      this.counters.badRequests++;
      // Decoding and decompression errors alike: the body is not an OTLP request of this signal.
      return this.reply(res, 400, err instanceof OtlpRequestError ? err.message : `undecodable body: ${(err as Error).message}`);
    }
    void this.store(accepted).then((stored) => {
      if (!stored) {
        this.counters.unavailable++;
        res.setHeader('Retry-After', '1');
        return this.reply(res, 503, this.writer ? 'cannot write to the flight-recorder directory; retry later' : 'cannot store the records; retry later');
      }
      this.count(accepted);
      this.answer(res, contentType, accepted);
    });
  }

  /** Decodes a traces request (throws on a bad body, before anything is stored), its spans bounded and without content. */
  private decodeSpans(body: Buffer, contentType: string): Accepted {
    const decoded = decodeOtlpTraceRequest(body, contentType);
    const options = { limits: this.limits, recordContent: this.options.recordContent };
    return { signal: 'traces', spans: decoded.spans.map((span) => recordableSpan(span, options)), records: decoded.spans.length, rejected: decoded.rejectedSpans };
  }

  /** Decodes a logs request (throws on a bad body, before anything is stored), its records bounded and without content. */
  private decodeLogs(body: Buffer, contentType: string): Accepted {
    const decoded = decodeOtlpLogsRequest(body, contentType, Date.now());
    const options = { limits: this.limits, recordContent: this.options.recordContent };
    return { signal: 'logs', logs: decoded.logs.map((log) => recordableLog(log, options)), records: decoded.logs.length, rejected: decoded.rejectedLogRecords };
  }

  /** Whether the records are stored: in the sink, else written to the segment file. */
  private async store(accepted: Accepted): Promise<boolean> {
    const sink = this.options.sink;
    if (sink) {
      try {
        await (accepted.signal === 'traces' ? sink.storeSpans(accepted.spans) : sink.storeLogs(accepted.logs));
        return true;
      } catch {
        return false;
      }
    }
    const writer = this.writer!;
    if (accepted.signal === 'logs') for (const log of accepted.logs) writer.append(RECORD_TYPE_LOG, log, writeRecordedLogBody);
    else for (const span of accepted.spans) {
      // A pending-span marker is kept as what it stands for: the open span, as a start record.
      if (isPendingSpanMarker(span)) writer.append(RECORD_TYPE_START, openSpanOfMarker(span), writeRecordedSpanBody);
      else writer.append(RECORD_TYPE_END, span, writeRecordedSpanBody);
    }
    return writer.flush();
  }

  private count({ signal, records, rejected }: Accepted): void {
    if (signal === 'traces') {
      this.counters.spans += records;
      this.counters.rejectedSpans += rejected;
    } else {
      this.counters.logRecords += records;
      this.counters.rejectedLogRecords += rejected;
    }
  }

  /** 200 with the signal's Export*ServiceResponse: JSON with partialSuccess when something was rejected; protobuf, empty. */
  private answer(res: ServerResponse, contentType: string, { signal, rejected }: Accepted): void {
    if (!contentType.startsWith('application/json')) {
      // An empty Export{Trace,Logs}ServiceResponse.
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '0' }).end();
      return;
    }
    const partialSuccess = signal === 'traces'
      ? { rejectedSpans: rejected, errorMessage: 'spans without valid ids or start time' }
      : { rejectedLogRecords: rejected, errorMessage: 'entries that are not log records' };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(rejected > 0 ? { partialSuccess } : {}));
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
