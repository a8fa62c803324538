import * as nodeFs from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { diag } from '@opentelemetry/api';
import {
  encodeSegmentHeader, processRuns, RecordEncoder, segmentFileName,
  type Attributes, type RecordBodyWriter,
} from '@stall-why/flight-record';

/** The file-system calls the writer makes; replaceable only to inject faults where a test cannot mount a full disk. */
export type RingBufferFileSystem = Pick<typeof nodeFs,
  'openSync' | 'writeSync' | 'closeSync' | 'fdatasync' | 'fdatasyncSync' | 'ftruncateSync' | 'fstatSync' | 'mkdirSync' |
  'readdirSync' | 'statSync' | 'unlinkSync'>;

export interface RingBufferWriterOptions {
  /** Directory of segment files; created (mode 0700) when missing. */
  readonly directory: string;
  /** Hard budget for the directory's segments; the oldest segment is evicted first. Default 64 MiB. */
  readonly maxBytes?: number;
  /** A segment is closed and a new one started at this size. Default maxBytes / 8, within [64 KiB, 8 MiB], at most maxBytes / 2. */
  readonly segmentBytes?: number;
  /** fdatasync at most this often while writing (0: after every write). Default 5000 ms. */
  readonly fsyncIntervalMs?: number;
  /** After a write fault, how long to drop records before trying again. Default 1000 ms. */
  readonly faultRetryMs?: number;
  /** Written into segment headers. */
  readonly writerName?: string;
  /** Resource attributes for segment headers (settable later with `setResource`). */
  readonly resource?: Attributes;
  /** Fault injection for tests; default node:fs. */
  readonly fileSystem?: RingBufferFileSystem;
}

export interface RingBufferWriterStats {
  recordsWritten: number;
  bytesWritten: number;
  /** Records lost to write faults (disk full, read-only, deleted directory), oversize, or values that cannot be encoded. */
  recordsDropped: number;
  faults: number;
  segmentsCreated: number;
  segmentsEvicted: number;
  bytesEvicted: number;
  degraded: boolean;
}

export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
const MIN_SEGMENT_BYTES = 4 * 1024;
const SEGMENT_NAME = /^\d{15}-(\d+)-\d{6}-([0-9a-f]+)\.swfr$/;
/** How often the writer checks that its segment still has a name (dir deleted, or evicted by another process). */
const LINK_CHECK_INTERVAL_MS = 1000;

/**
 * Appends framed records to the segments of one recorder directory, under a byte budget. Only this
 * process writes the segments it creates (O_EXCL, pid and a nonce in the name). Synchronous by
 * design: callers batch records and call `flush()` off the hot path (a timer, or before answering a
 * request), so a record is in the file before anyone is told it was written. Never throws: faults
 * drop the batch, are counted, reported once with diag.warn, and retried after `faultRetryMs`.
 */
export class RingBufferWriter {
  readonly directory: string;
  readonly maxBytes: number;
  readonly segmentBytes: number;
  private readonly fsyncIntervalMs: number;
  private readonly faultRetryMs: number;
  private readonly writerName: string;
  private readonly fs: RingBufferFileSystem;
  private readonly nonce = randomBytes(4).toString('hex');
  /** Segments rotated away whose close waits on their fdatasync, by name. */
  private readonly closing = new Map<string, number>();
  private resource: Attributes | undefined;
  private seq = 0;
  private fd: number | undefined;
  private segmentName: string | undefined;
  private segmentSize = 0;
  private rotateRequested = false;
  /** The pending batch: records are encoded straight into it, `pending.buffer[0, pending.length)`. */
  private readonly pending = new RecordEncoder(64 * 1024);
  private pendingRecords = 0;
  private dirty = false;
  private lastSyncMs = Date.now();
  private lastLinkCheckMs = Date.now();
  private syncInFlight = false;
  private retryAtMs = 0;
  private warned = false;
  private readonly counters: RingBufferWriterStats = {
    recordsWritten: 0, bytesWritten: 0, recordsDropped: 0, faults: 0, segmentsCreated: 0, segmentsEvicted: 0, bytesEvicted: 0, degraded: false,
  };

  constructor(options: RingBufferWriterOptions) {
    this.directory = options.directory;
    this.maxBytes = Math.max(2 * MIN_SEGMENT_BYTES, options.maxBytes ?? DEFAULT_MAX_BYTES);
    const segment = options.segmentBytes ?? Math.min(8 * 1024 * 1024, Math.max(64 * 1024, Math.floor(this.maxBytes / 8)));
    this.segmentBytes = Math.max(MIN_SEGMENT_BYTES, Math.min(segment, Math.floor(this.maxBytes / 2)));
    this.fsyncIntervalMs = options.fsyncIntervalMs ?? 5000;
    this.faultRetryMs = options.faultRetryMs ?? 1000;
    this.writerName = options.writerName ?? '@stall-why/instrument';
    this.resource = options.resource;
    this.fs = options.fileSystem ?? nodeFs;
  }

  /** Resource attributes for the headers of segments created from now on. */
  setResource(resource: Attributes | undefined): void {
    this.resource = resource;
  }

  stats(): RingBufferWriterStats {
    return { ...this.counters, degraded: this.counters.degraded };
  }

  /** Name of the segment being written, if any. */
  currentSegment(): string | undefined {
    return this.segmentName;
  }

  /**
   * Encodes one record into the pending batch (`type` is RECORD_TYPE_START or RECORD_TYPE_END,
   * `writeBody` writes the body from `value`). When the record would overflow the current segment,
   * the batch before it is written first and the record starts a new segment, so a segment exceeds
   * `segmentBytes` only for a single huge record. A record that cannot be encoded (`writeBody`
   * throws) or is over MAX_RECORD_BYTES is left out and counted in `recordsDropped`.
   */
  append<T>(type: number, value: T, writeBody: RecordBodyWriter<T>): void {
    const pending = this.pending;
    const start = pending.length;
    if (!pending.appendRecord(type, value, writeBody)) {
      this.counters.recordsDropped++;
      return;
    }
    this.pendingRecords++;
    // A rotation already asked for starts the next write in a fresh segment: counting the full one's
    // size again would rotate once more after one record (every rotation left a one-record segment).
    const base = this.fd === undefined || this.rotateRequested ? 0 : this.segmentSize;
    const used = base + start;
    if (used > 0 && used + (pending.length - start) > this.segmentBytes && (start > 0 || base > 0)) {
      this.writePending(start, this.pendingRecords - 1);
      this.rotateRequested = true;
    }
  }

  /** Records framed and not yet written. */
  pendingRecordCount(): number {
    return this.pendingRecords;
  }

  /** Writes the pending batch to the file (page cache); true when it is there. */
  flush(): boolean {
    return this.writePending(this.pending.length, this.pendingRecords);
  }

  /** Writes the first `length` bytes (`records` records) of the pending batch; what follows stays pending. */
  private writePending(length: number, records: number): boolean {
    const now = Date.now();
    if (length === 0) {
      if (!this.counters.degraded) this.maybeSync(now);
      return true;
    }
    if (this.counters.degraded && now < this.retryAtMs) {
      this.counters.recordsDropped += records;
      this.pendingRecords -= records;
      this.pending.discardBefore(length);
      return false;
    }
    // A full disk gives up the oldest segments first (as the budget would), the batch tried again after
    // each: an evicted segment whose file is still open (its close waits on fdatasync) frees nothing yet.
    for (;;) {
      try {
        this.writeBatch(length, now);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC' && this.evictForSpace()) continue;
        this.fault(err as NodeJS.ErrnoException, now);
        return false;
      }
    }
    this.counters.recordsWritten += records;
    this.pendingRecords -= records;
    if (length === this.pending.length) this.pending.clear(4 * 1024 * 1024);
    else this.pending.discardBefore(length);
    if (this.counters.degraded) this.recovered();
    this.maybeSync(now);
    return true;
  }

  /** Appends the batch's first `length` bytes to the current segment (a new one when due). */
  private writeBatch(length: number, now: number): void {
    this.checkStillLinked(now);
    if (this.fd === undefined || this.rotateRequested) this.openSegment(now);
    try {
      this.writeAll(this.fd!, this.pending.buffer, length);
    } catch (err) {
      // Cut a partly written batch off, so the segment ends on a record boundary for the retry.
      try { this.fs.ftruncateSync(this.fd!, this.segmentSize); } catch { /* the fault path closes it */ }
      throw err;
    }
    this.segmentSize += length;
    this.counters.bytesWritten += length;
    this.dirty = true;
  }

  /**
   * Evicts the oldest segment of the directory but the current one and those other live writers are
   * appending to: on a full disk the newest records matter most. False when there is none to give up.
   */
  private evictForSpace(): boolean {
    let names: string[];
    try {
      names = this.fs.readdirSync(this.directory).filter((n) => SEGMENT_NAME.test(n) && n !== this.segmentName).sort();
    } catch {
      return false;
    }
    const held = this.segmentsHeldByOthers(names);
    const oldest = names.find((n) => !held.has(n));
    if (oldest === undefined) return false;
    try {
      const size = this.fs.statSync(join(this.directory, oldest)).size;
      this.fs.unlinkSync(join(this.directory, oldest));
      this.finishClosing(oldest);
      this.counters.segmentsEvicted++;
      this.counters.bytesEvicted += size;
      return true;
    } catch {
      return false;
    }
  }

  /** fdatasync now (shutdown, forceFlush, process exit). */
  syncNow(): void {
    if (this.fd === undefined || !this.dirty) return;
    try {
      this.fs.fdatasyncSync(this.fd);
      this.dirty = false;
      this.lastSyncMs = Date.now();
    } catch (err) {
      this.fault(err as NodeJS.ErrnoException, Date.now());
    }
  }

  /** Writes what is pending, syncs and closes the segment. The writer can be used again (it opens a new segment). */
  close(): void {
    this.flush();
    this.syncNow();
    this.closeSegment();
  }

  private maybeSync(now: number): void {
    if (!this.dirty || this.fd === undefined || this.syncInFlight) return;
    if (this.fsyncIntervalMs > 0 && now - this.lastSyncMs < this.fsyncIntervalMs) return;
    if (this.fsyncIntervalMs === 0) {
      this.syncNow();
      return;
    }
    // Off the event loop: the thread pool does the wait. A closed fd only makes it fail (EBADF), ignored.
    this.syncInFlight = true;
    this.dirty = false;
    this.lastSyncMs = now;
    this.fs.fdatasync(this.fd, () => {
      this.syncInFlight = false;
    });
  }

  /**
   * Writes only into a directory of this process's user that not everyone can write, as ssh treats its
   * files: a directory another user made first (a documented path under /var/tmp) or any user can
   * write into could hold their segments (forged turns) or swap files under ours. Refused like a write
   * fault. (A group-writable one is allowed: with user-private groups, umask 002 makes every directory so.)
   */
  private assertPrivateDirectory(): void {
    const st = this.fs.statSync(this.directory);
    const uid = process.getuid?.();
    const foreign = uid !== undefined && st.uid !== uid;
    const shared = (st.mode & 0o002) !== 0;
    if (!foreign && !shared) return;
    const why = foreign ? `owned by uid ${st.uid}, not ${uid}` : `writable by every user (mode ${(st.mode & 0o777).toString(8)})`;
    throw Object.assign(new Error(`untrusted directory: ${why}; stall-why writes only to a directory of its own user that not everyone can write`), { code: 'EUNTRUSTED' });
  }

  /** Detects a segment that lost its name (directory deleted, or evicted by another writer): writes there would vanish. */
  private checkStillLinked(now: number): void {
    if (this.fd === undefined || now - this.lastLinkCheckMs < LINK_CHECK_INTERVAL_MS) return;
    this.lastLinkCheckMs = now;
    if (this.fs.fstatSync(this.fd).nlink === 0) this.rotateRequested = true;
  }

  private openSegment(now: number): void {
    this.closeSegment();
    this.fs.mkdirSync(this.directory, { recursive: true, mode: 0o700 });
    this.assertPrivateDirectory();
    this.enforceBudget(this.segmentBytes);
    const seq = this.seq++;
    const name = segmentFileName(now, process.pid, seq, this.nonce);
    const path = join(this.directory, name);
    const fd = this.fs.openSync(path, 'wx', 0o600);
    const header = encodeSegmentHeader({ pid: process.pid, createdMs: now, seq, writer: this.writerName, hostname: hostname(), resource: this.resource });
    try {
      this.writeAll(fd, header, header.length);
    } catch (err) {
      try { this.fs.closeSync(fd); } catch { /* already failing */ }
      try { this.fs.unlinkSync(path); } catch { /* already failing */ }
      throw err;
    }
    this.fd = fd;
    this.segmentName = name;
    this.segmentSize = header.length;
    this.rotateRequested = false;
    this.lastLinkCheckMs = now;
    this.counters.segmentsCreated++;
  }

  private closeSegment(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    const name = this.segmentName!;
    this.fd = undefined;
    this.segmentName = undefined;
    this.segmentSize = 0;
    const dirty = this.dirty;
    this.dirty = false;
    if (!dirty) {
      try { this.fs.closeSync(fd); } catch { /* ignore */ }
      return;
    }
    // A finished segment is made durable in the thread pool, then closed: rotation does not wait for the disk.
    this.closing.set(name, fd);
    this.fs.fdatasync(fd, () => {
      if (this.closing.get(name) !== fd) return; // evicted and closed meanwhile
      this.closing.delete(name);
      try { this.fs.closeSync(fd); } catch { /* ignore */ }
    });
  }

  /** Closes at once a segment whose close still waits on its fdatasync: its space is freed only then. */
  private finishClosing(name: string): void {
    const fd = this.closing.get(name);
    if (fd === undefined) return;
    this.closing.delete(name);
    try { this.fs.closeSync(fd); } catch { /* ignore */ }
  }

  /** Evicts the oldest segments until the directory has room for `reserve` more bytes. */
  private enforceBudget(reserve: number): void {
    const names = this.fs.readdirSync(this.directory).filter((n) => SEGMENT_NAME.test(n)).sort();
    const sizes = names.map((n) => {
      try { return this.fs.statSync(join(this.directory, n)).size; } catch { return 0; }
    });
    let total = sizes.reduce((a, b) => a + b, 0);
    const held = this.segmentsHeldByOthers(names);
    for (let i = 0; i < names.length && total + reserve > this.maxBytes; i++) {
      // Another live writer is still appending to it: deleting it would lose what it acknowledges next.
      if (held.has(names[i]!)) continue;
      try {
        this.fs.unlinkSync(join(this.directory, names[i]));
        this.counters.segmentsEvicted++;
        this.counters.bytesEvicted += sizes[i];
      } catch { /* gone already */ }
      total -= sizes[i];
    }
  }

  /**
   * The segments other writers of the directory may still be appending to: the newest of each other
   * writer (pid and nonce in its name) whose process runs. The budget then holds those beyond it, one
   * segment per live writer.
   */
  private segmentsHeldByOthers(names: readonly string[]): Set<string> {
    const newest = new Map<string, string>();
    for (const name of names) {
      const [, pid, nonce] = SEGMENT_NAME.exec(name)!;
      if (nonce !== this.nonce) newest.set(`${pid}-${nonce}`, name); // names are sorted oldest first
    }
    const held = new Set<string>();
    for (const [writer, name] of newest) if (processRuns(Number(writer.split('-')[0]))) held.add(name);
    return held;
  }

  private writeAll(fd: number, bytes: Buffer, length: number): void {
    let offset = 0;
    while (offset < length) offset += this.fs.writeSync(fd, bytes, offset, length - offset);
  }

  private dropPending(): void {
    this.counters.recordsDropped += this.pendingRecords;
    this.pending.clear(4 * 1024 * 1024);
    this.pendingRecords = 0;
  }

  private fault(err: NodeJS.ErrnoException, now: number): void {
    this.dropPending();
    this.counters.faults++;
    if (this.fd !== undefined) {
      // Cut a partly written batch off, so the segment ends on a record boundary; a reader would skip it anyway.
      try { this.fs.ftruncateSync(this.fd, this.segmentSize); } catch { /* best effort */ }
      this.dirty = false;
      this.closeSegment();
    }
    this.counters.degraded = true;
    this.retryAtMs = now + this.faultRetryMs;
    if (!this.warned) {
      this.warned = true;
      const what = err.code === 'EUNTRUSTED' ? err.message : (err.code ?? err.message);
      diag.warn(`stall-why flight recorder: cannot write to ${this.directory} (${what}); dropping records and retrying every ${this.faultRetryMs} ms`);
    }
  }

  private recovered(): void {
    this.counters.degraded = false;
    this.warned = false;
    diag.info(`stall-why flight recorder: writing to ${this.directory} again (${this.counters.recordsDropped} records dropped so far)`);
  }
}

