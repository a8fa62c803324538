import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_PHASE_KIND, PHASE_KIND_POINT } from '@stall-why/conventions';

/**
 * Prints phases to a stream (stderr) as they happen: a point phase once, a duration phase when
 * it opens and when it closes. The CLI's default "where the spans went" when no file is given.
 */
export class PhaseLogProcessor implements SpanProcessor {
  private readonly origin = Date.now();

  constructor(private readonly out: NodeJS.WritableStream = process.stderr) {}

  onStart(span: Span, _parentContext: Context): void {
    const readable = span as unknown as ReadableSpan;
    const point = readable.attributes[ATTR_PHASE_KIND] === PHASE_KIND_POINT;
    this.out.write(`${this.clock()} ${point ? '·' : '▶'} ${readable.name}\n`);
  }

  onEnd(span: ReadableSpan): void {
    if (span.attributes[ATTR_PHASE_KIND] === PHASE_KIND_POINT) return;
    const ms = span.duration[0] * 1000 + span.duration[1] / 1e6;
    this.out.write(`${this.clock()} ■ ${span.name} (${ms.toFixed(0)} ms)\n`);
  }

  private clock(): string {
    return `+${((Date.now() - this.origin) / 1000).toFixed(3)}s`;
  }

  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}
