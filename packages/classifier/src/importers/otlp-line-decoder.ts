/**
 * The fast path for OTLP JSON lines: reads an ExportTraceServiceRequest line byte by byte and builds
 * only what the verdict needs, the spans of the wanted names with their vocabulary attributes. Events,
 * links, other attributes and unwanted spans are skipped without a string or an object made for them.
 * `JSON.parse` of a 600 KB line made a few thousand objects per span batch that were thrown away at
 * once (most of the import's time went to them and to the garbage collector).
 *
 * Any line not in the shape read here (or not valid JSON) is left to the generic path, which parses it
 * whole and reports errors: the two paths give the same spans (tested on every importer fixture).
 */
import type { Attributes, RecordedSpan } from '@stall-why/flight-record';
import { JsonCursor, NOT_THIS_SHAPE, ascii, keyLiteral } from './json-cursor.js';
import { anyValue, nanosToMs, otlpAttributes, otlpId, otlpSpanKind, otlpStatusCode } from '@stall-why/flight-record';
import { VOCABULARY_ATTRIBUTES, recordedOtlpSpan, type OtlpSpanParts } from './otlp-span.js';

const K = {
  resourceSpans: ascii('resourceSpans'),
  resourceLogs: ascii('resourceLogs'),
  resource: ascii('resource'),
  scopeSpans: ascii('scopeSpans'),
  instrumentationLibrarySpans: ascii('instrumentationLibrarySpans'),
  scope: ascii('scope'),
  instrumentationLibrary: ascii('instrumentationLibrary'),
  spans: ascii('spans'),
  key: ascii('key'),
  value: ascii('value'),
  stringValue: ascii('stringValue'),
  intValue: ascii('intValue'),
  doubleValue: ascii('doubleValue'),
  boolValue: ascii('boolValue'),
  code: ascii('code'),
};

/**
 * A span's members in the order the OTLP JSON encoding (the Collector, opentelemetry-js) writes them.
 * Each member's key is first matched as the literal that follows the last one read, in one compare;
 * a key in another order (or with whitespace around it) is read and looked up.
 */
const SPAN_MEMBERS = ['traceId', 'spanId', 'parentSpanId', 'name', 'kind', 'startTimeUnixNano', 'endTimeUnixNano', 'attributes', 'status'];
const [TRACE_ID, SPAN_ID, PARENT_SPAN_ID, NAME, KIND, START_TIME, END_TIME, ATTRIBUTES, STATUS] = SPAN_MEMBERS.map((_, i) => i);
const OTHER_MEMBER = -1;
const SPAN_MEMBER_KEYS = SPAN_MEMBERS.map(ascii);
const SPAN_MEMBER_LITERALS = SPAN_MEMBERS.map(keyLiteral);
const KEY_LITERAL = keyLiteral('key');
const VALUE_LITERAL = keyLiteral('value');
const STRING_VALUE_LITERAL = keyLiteral('stringValue');

const QUOTE = 0x22;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const NULL_START = 0x6e; // 'n'

type AttributeValue = ReturnType<typeof anyValue>;
/** An attribute value not in a shape read in place. */
const NOT_PLAIN: unique symbol = Symbol('not plain');
// Attribute keys seen, in a hashed table of chains; a file's distinct keys are a few dozen.
const KEY_SLOTS = 256;
const MAX_KEYS = 1024;

/** What one line gave: values found (as the generic path counts them) and spans skipped by name. */
export interface LineResult {
  readonly found: number;
  readonly skipped: number;
}

/**
 * The last few distinct ASCII strings seen in one place, matched against the bytes where the next
 * string stands before it is walked (a hit, the usual case for trace ids, parents, names and most
 * attribute values, reads it in one compare). No Buffer copy is kept of them: one object per new
 * value (item and call ids are new on every span) cost more in garbage collection than it saved.
 */
class RecentStrings {
  private readonly strings: string[] = [];
  private next = 0;

  constructor(private readonly size: number) {}

  /** Consumes the next string and returns it when it is one of these; else undefined, nothing consumed. */
  take(c: JsonCursor): string | undefined {
    const strings = this.strings;
    for (let i = 0; i < strings.length; i++) if (c.takeString(strings[i]!)) return strings[i];
    return undefined;
  }

  /** The cursor's last string read, decoded, and remembered when it is plain ASCII. */
  remember(c: JsonCursor): string {
    const value = c.stringValue();
    if (c.strEscaped || c.strWide) return value;
    this.strings[this.strings.length < this.size ? this.strings.length : this.next++ % this.size] = value;
    return value;
  }

  /** The next string, read (it must be one). */
  read(c: JsonCursor): string {
    const hit = this.take(c);
    if (hit !== undefined) return hit;
    c.string();
    return this.remember(c);
  }
}

interface KeyEntry {
  readonly bytes: Buffer;
  readonly key: string;
  /** A vocabulary attribute: kept. */
  readonly kept: boolean;
  /** Its recent values. */
  readonly values: RecentStrings;
  /** The next key in its table slot. */
  next: KeyEntry | undefined;
}

export class OtlpLineDecoder {
  private readonly c = new JsonCursor();
  /** Resource and scope carry over from line to line, as in the generic path. */
  resource: Attributes | undefined;
  scope: string | undefined;
  // Staged while a line is read, committed when it all decodes.
  private lineResource: Attributes | undefined;
  private lineScope: string | undefined;
  private found = 0;
  private skipped = 0;
  private readonly spans: RecordedSpan[] = [];
  private readonly parts: OtlpSpanParts = {
    traceId: '', spanId: '', parentSpanId: undefined, name: '', kind: undefined, startTimeMs: 0, endTimeMs: undefined,
    attributes: {}, statusCode: undefined, statusMessage: undefined,
  };
  // Strings that repeat from span to span (a turn's trace id, its parents, span names, attribute keys
  // and values such as thread and turn ids) are matched by their bytes and reused, not decoded again.
  private readonly keyTable: (KeyEntry | undefined)[] = new Array<KeyEntry | undefined>(KEY_SLOTS).fill(undefined);
  private keyCount = 0;
  private readonly traceIds = new RecentStrings(2);
  private readonly parentIds = new RecentStrings(4);
  private readonly names = new RecentStrings(16);

  constructor(private readonly wanted: ReadonlySet<string> | undefined) {}

  /**
   * Decodes one line; `emit` gets its spans only when the whole line decoded. Returns undefined when
   * the line is not in the shape read here: the caller then parses it the generic way.
   */
  decode(line: Buffer, emit: (span: RecordedSpan) => void): LineResult | undefined {
    const c = this.c;
    c.reset(line, 0, line.length);
    this.lineResource = this.resource;
    this.lineScope = this.scope;
    this.found = 0;
    this.skipped = 0;
    this.spans.length = 0;
    try {
      if (c.openObject()) {
        do {
          c.nextKey();
          if (c.stringIs(K.resourceSpans)) this.resourceSpans();
          // Log records are few and read whole: the generic path.
          else if (c.stringIs(K.resourceLogs)) throw NOT_THIS_SHAPE;
          else c.skipValue();
        } while (c.endMember());
      }
      if (!c.atEnd()) return undefined;
    } catch (error) {
      if (error === NOT_THIS_SHAPE) return undefined;
      throw error;
    }
    this.resource = this.lineResource;
    this.scope = this.lineScope;
    for (const span of this.spans) emit(span);
    this.spans.length = 0;
    return { found: this.found, skipped: this.skipped };
  }

  // `[{...}, ...]`: calls `member` after each member's key (the cursor on its value), which must read it.
  private eachMemberOfObjects(member: () => void): void {
    const c = this.c;
    if (c.peek() !== OPEN_ARRAY) throw NOT_THIS_SHAPE;
    if (!c.openArray()) return;
    do {
      if (!c.openObject()) continue;
      do {
        c.nextKey();
        member();
      } while (c.endMember());
    } while (c.endElement());
  }

  private resourceSpans(): void {
    const c = this.c;
    this.eachMemberOfObjects(() => {
      if (c.stringIs(K.resource)) {
        const [s, e] = c.valueBounds();
        const o = (c.parse(s, e) ?? {}) as Record<string, unknown>;
        this.lineResource = otlpAttributes(o.attributes);
        this.found++;
      } else if (c.stringIs(K.scopeSpans) || c.stringIs(K.instrumentationLibrarySpans)) this.scopeSpans();
      else c.skipValue();
    });
  }

  private scopeSpans(): void {
    const c = this.c;
    this.eachMemberOfObjects(() => {
      if (c.stringIs(K.scope) || c.stringIs(K.instrumentationLibrary)) {
        const [s, e] = c.valueBounds();
        const o = (c.parse(s, e) ?? {}) as Record<string, unknown>;
        this.lineScope = typeof o.name === 'string' ? o.name : undefined;
        this.found++;
      } else if (c.stringIs(K.spans)) {
        if (c.peek() !== OPEN_ARRAY) throw NOT_THIS_SHAPE;
        if (!c.openArray()) return;
        do this.span();
        while (c.endElement());
      } else c.skipValue();
    });
  }

  private span(): void {
    const c = this.c;
    this.found++;
    const p = this.parts;
    p.parentSpanId = undefined;
    p.kind = undefined;
    p.endTimeMs = undefined;
    // The object attributes() makes, or {} made at the end for a span without attributes (not one per span thrown away).
    let attributes: Attributes | undefined;
    p.statusCode = undefined;
    p.statusMessage = undefined;
    let hasTrace = false;
    let hasSpan = false;
    let hasName = false;
    let hasStart = false;
    // Attributes of a span whose name is not wanted are skipped, not read.
    let unwanted = false;
    let attributesSkipped = false;
    if (c.peek() !== OPEN_OBJECT) throw NOT_THIS_SHAPE;
    if (c.openObject()) {
      let expected = TRACE_ID;
      do {
        const member = this.spanMember(expected);
        if (member !== OTHER_MEMBER) expected = member + 1;
        switch (member) {
          case TRACE_ID:
            p.traceId = this.id(32, this.traceIds);
            hasTrace = true;
            break;
          case SPAN_ID:
            p.spanId = this.id(16, undefined);
            hasSpan = true;
            break;
          case PARENT_SPAN_ID:
            if (c.peek() === QUOTE) p.parentSpanId = this.parentId();
            else {
              c.scalar();
              p.parentSpanId = undefined;
            }
            break;
          case NAME:
            if (c.peek() !== QUOTE) throw NOT_THIS_SHAPE;
            p.name = this.names.read(c);
            hasName = true;
            unwanted = this.wanted !== undefined && !this.wanted.has(p.name);
            break;
          case KIND:
            p.kind = this.kind();
            break;
          case START_TIME: {
            const ms = this.nanos();
            if (ms === undefined) throw NOT_THIS_SHAPE;
            p.startTimeMs = ms;
            hasStart = true;
            break;
          }
          case END_TIME:
            p.endTimeMs = this.nanos();
            break;
          case ATTRIBUTES:
            if (unwanted) {
              c.skipValue();
              attributesSkipped = true;
            } else attributes = this.attributes();
            break;
          case STATUS:
            this.status(p);
            break;
          default:
            c.skipValue();
        }
      } while (c.endMember());
    }
    // What the generic path would reject (with its error) goes to it.
    if (!hasName) throw NOT_THIS_SHAPE;
    if (this.wanted && !this.wanted.has(p.name)) {
      this.skipped++;
      return;
    }
    // A second "name" member made it wanted after its attributes were skipped: the generic path reads it.
    if (attributesSkipped) throw NOT_THIS_SHAPE;
    if (!hasTrace || !hasSpan || !hasStart) throw NOT_THIS_SHAPE;
    p.attributes = attributes ?? {};
    this.spans.push(recordedOtlpSpan(p, this.lineResource, this.lineScope));
  }

  /** Which of SPAN_MEMBERS the next key is (OTHER_MEMBER if none), with the key and colon read. */
  private spanMember(expected: number): number {
    const c = this.c;
    if (expected < SPAN_MEMBER_LITERALS.length && c.takeLiteral(SPAN_MEMBER_LITERALS[expected]!)) return expected;
    c.nextKey();
    for (let m = 0; m < SPAN_MEMBER_KEYS.length; m++) if (c.stringIs(SPAN_MEMBER_KEYS[m]!)) return m;
    return OTHER_MEMBER;
  }

  private id(hexDigits: number, recent: RecentStrings | undefined): string {
    const c = this.c;
    // Only ids checked as lowercase hex are remembered, so a hit is one.
    const hit = recent?.take(c);
    if (hit !== undefined) return hit;
    if (c.lowerHexString(hexDigits)) return recent ? recent.remember(c) : c.stringValue();
    if (c.peek() !== QUOTE) throw NOT_THIS_SHAPE;
    c.string();
    if (c.stringIsLowerHex(hexDigits)) return recent ? recent.remember(c) : c.stringValue();
    const id = otlpId(c.stringValue(), hexDigits);
    if (id === undefined) throw NOT_THIS_SHAPE;
    return id;
  }

  private parentId(): string | undefined {
    const c = this.c;
    const hit = this.parentIds.take(c);
    if (hit !== undefined) return hit;
    if (c.lowerHexString(16)) return this.parentIds.remember(c);
    c.string();
    if (c.strEnd === c.strStart) return undefined;
    return c.stringIsLowerHex(16) ? this.parentIds.remember(c) : otlpId(c.stringValue(), 16);
  }

  private kind(): number | undefined {
    const c = this.c;
    if (c.peek() === QUOTE) {
      c.string();
      return otlpSpanKind(c.stringValue());
    }
    if (c.peek() === OPEN_OBJECT || c.peek() === OPEN_ARRAY) {
      c.skipValue();
      return undefined;
    }
    c.scalar();
    const first = c.buf[c.strStart]!;
    if (first === NULL_START || first === 0x74 || first === 0x66) return undefined;
    // The usual one-digit kind without a string made for it.
    if (c.strEnd - c.strStart === 1 && first >= 0x30 && first <= 0x39) return Math.max(0, first - 0x30 - 1);
    return Math.max(0, c.scalarNumber() - 1);
  }

  // Nanoseconds as nanosToMs reads them; a string of up to 21 digits without making it a string.
  private nanos(): number | undefined {
    const c = this.c;
    const b = c.peek();
    if (b === QUOTE) {
      c.string();
      const length = c.strEnd - c.strStart;
      if (!c.strEscaped && length > 0 && length <= 21) {
        if (length <= 15) {
          const n = c.stringDigits(c.strStart, c.strEnd);
          // '0' is "not set"; '00' is epoch 0, as Number() reads it.
          if (n >= 0) return length === 1 && n === 0 ? undefined : n / 1e6;
        } else {
          const high = c.stringDigits(c.strStart, c.strEnd - 6);
          const low = c.stringDigits(c.strEnd - 6, c.strEnd);
          if (high >= 0 && low >= 0) return high + low / 1e6;
        }
      }
      return nanosToMs(c.stringValue());
    }
    if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
      c.skipValue();
      return undefined;
    }
    c.scalar();
    const first = c.buf[c.strStart]!;
    if (first === NULL_START || first === 0x74 || first === 0x66) return undefined;
    return nanosToMs(c.scalarNumber());
  }

  // `{"code":0}` read by hand; anything else parsed whole, read as the generic path reads it.
  private status(p: OtlpSpanParts): void {
    const c = this.c;
    const b = c.peek();
    if (b !== OPEN_OBJECT) {
      if (b !== NULL_START) throw NOT_THIS_SHAPE;
      c.scalar();
      return;
    }
    const start = c.pos;
    let code: 0 | 1 | 2 | undefined;
    let simple = true;
    if (c.openObject()) {
      do {
        c.nextKey();
        if (simple && c.stringIs(K.code) && c.peek() !== QUOTE) {
          c.scalar();
          const digit = c.buf[c.strStart]! - 0x30;
          // Codes past 2 are no status to the generic reading (otlpStatusCode): it decides them.
          if (c.strEnd - c.strStart === 1 && digit >= 0 && digit <= 2) code = digit as 0 | 1 | 2;
          else simple = false;
        } else {
          simple = false;
          c.skipValue();
        }
      } while (c.endMember());
    }
    if (simple) {
      p.statusCode = code;
      p.statusMessage = undefined;
      return;
    }
    const st = c.parse(start, c.pos) as Record<string, unknown>;
    p.statusCode = otlpStatusCode(st.code);
    p.statusMessage = typeof st.message === 'string' ? st.message : undefined;
  }

  // Vocabulary attributes only; a kept value is decoded in the same pass when it is a plain string,
  // int, double or bool, else parsed whole.
  private attributes(): Attributes {
    const c = this.c;
    const out: Attributes = {};
    if (c.peek() !== OPEN_ARRAY) {
      c.skipValue();
      return out;
    }
    if (!c.openArray()) return out;
    do {
      if (c.peek() !== OPEN_OBJECT) throw NOT_THIS_SHAPE;
      let entry: KeyEntry | undefined;
      let value: AttributeValue | typeof NOT_PLAIN | undefined;
      let valueStart = -1;
      let valueEnd = -1;
      let keyCount = 0;
      if (c.openObject()) {
        do {
          const isKey = c.takeLiteral(KEY_LITERAL);
          const isValue = !isKey && c.takeLiteral(VALUE_LITERAL);
          if (!isKey && !isValue) c.nextKey();
          if (isKey || (!isValue && c.stringIs(K.key))) {
            keyCount++;
            if (c.peek() !== QUOTE) throw NOT_THIS_SHAPE;
            c.string();
            entry = this.attributeKey();
          } else if (isValue || c.stringIs(K.value)) {
            c.peek();
            valueStart = c.pos;
            // A value whose key came first and is not kept is only skipped.
            if (entry && !entry.kept) {
              c.skipValue();
              value = undefined;
            } else value = this.plainValue(entry?.values);
            valueEnd = c.pos;
          } else c.skipValue();
        } while (c.endMember());
      }
      if (keyCount > 1) throw NOT_THIS_SHAPE;
      if (entry === undefined || !entry.kept || valueStart < 0) continue;
      const v = value === NOT_PLAIN || value === undefined ? this.parsedValue(valueStart, valueEnd) : value;
      if (v !== undefined) out[entry.key] = v;
    } while (c.endElement());
    return out;
  }

  private attributeKey(): KeyEntry {
    const c = this.c;
    const slot = this.keySlot();
    for (let entry = this.keyTable[slot]; entry !== undefined; entry = entry.next) if (c.stringIs(entry.bytes)) return entry;
    const key = c.stringValue();
    const entry: KeyEntry = { bytes: Buffer.from(c.buf.subarray(c.strStart, c.strEnd)), key, kept: VOCABULARY_ATTRIBUTES.has(key), values: new RecentStrings(4), next: undefined };
    // Escaped keys are rare and not worth keeping (stringIs never matches them); the table is
    // emptied when full, so a stream of ever new keys cannot grow it.
    if (!c.strEscaped) {
      if (this.keyCount >= MAX_KEYS) {
        this.keyTable.fill(undefined);
        this.keyCount = 0;
      }
      entry.next = this.keyTable[slot];
      this.keyTable[slot] = entry;
      this.keyCount++;
    }
    return entry;
  }

  // The key table's slot of the cursor's last string: its length, last byte and middle byte, which
  // tell the vocabulary's keys (`stall_why.turn.id`, `gen_ai.tool.name`, ...) apart.
  private keySlot(): number {
    const c = this.c;
    const length = c.strEnd - c.strStart;
    if (length === 0) return 0;
    const b = c.buf;
    return (length * 31 + b[c.strEnd - 1]! * 7 + b[c.strStart + (length >> 1)]!) & (KEY_SLOTS - 1);
  }

  /**
   * `{"stringValue":"…"}` and the other one-member scalar shapes, read where they stand; anything
   * else is skipped and NOT_PLAIN returned, for `parsedValue` (the generic reading, key precedence
   * and all) to decide.
   */
  private plainValue(recent: RecentStrings | undefined): AttributeValue | typeof NOT_PLAIN {
    const c = this.c;
    const start = c.pos;
    if (c.buf[start] !== OPEN_OBJECT) {
      c.skipValue();
      return NOT_PLAIN;
    }
    c.pos++;
    const isString = c.takeLiteral(STRING_VALUE_LITERAL);
    if (!isString) {
      if (c.peek() !== QUOTE) return this.skippedFrom(start);
      c.nextKey();
    }
    let v: AttributeValue | typeof NOT_PLAIN = NOT_PLAIN;
    if (isString || c.stringIs(K.stringValue)) {
      if (c.peek() === QUOTE) {
        if (recent) v = recent.read(c);
        else {
          c.string();
          v = c.stringValue();
        }
      }
    } else if (c.stringIs(K.intValue) || c.stringIs(K.doubleValue)) {
      if (c.peek() === QUOTE) {
        c.string();
        v = Number(c.stringValue());
      } else if (c.peek() !== OPEN_OBJECT && c.peek() !== OPEN_ARRAY) {
        c.scalar();
        const first = c.buf[c.strStart]!;
        if (first !== NULL_START && first !== 0x74 && first !== 0x66) v = c.scalarNumber();
      }
    } else if (c.stringIs(K.boolValue)) {
      if (c.peek() === 0x74 || c.peek() === 0x66) {
        c.scalar();
        v = c.buf[c.strStart] === 0x74;
      }
    }
    // One member only, else the generic reading decides.
    if (v === NOT_PLAIN || c.peek() !== CLOSE_OBJECT) return this.skippedFrom(start);
    c.pos++;
    return v;
  }

  private skippedFrom(start: number): typeof NOT_PLAIN {
    const c = this.c;
    c.pos = start;
    c.skipValue();
    return NOT_PLAIN;
  }

  // A value not in a plain shape, as the generic path reads it.
  private parsedValue(start: number, end: number): AttributeValue {
    return anyValue(this.c.parse(start, end));
  }
}
