import type { AttributeValue, Attributes } from '@stall-why/flight-record';

/**
 * Attribute keys whose values are content (prompt text, tool arguments and output, model messages):
 * stall-why records none by default. Codex 0.169's `codex.tool_result` log record carries the full
 * tool `arguments` and `output` text, its `codex.user_prompt` a `prompt` (usually "[REDACTED]");
 * the OpenTelemetry GenAI conventions put content under the `gen_ai.*` keys below (opt-in there).
 */
export const CONTENT_ATTRIBUTE_KEYS: readonly string[] = Object.freeze([
  'prompt',
  'arguments',
  'output',
  'gen_ai.input.messages',
  'gen_ai.output.messages',
  'gen_ai.system_instructions',
  'gen_ai.tool.call.arguments',
  'gen_ai.tool.call.result',
]);

/** Key prefixes of content: the deprecated GenAI span attributes (`gen_ai.prompt.0.content`, `gen_ai.completion.0.content`, ...). */
export const CONTENT_ATTRIBUTE_PREFIXES: readonly string[] = Object.freeze(['gen_ai.prompt', 'gen_ai.completion']);

const CONTENT_KEYS = new Set(CONTENT_ATTRIBUTE_KEYS);

/** True for an attribute key whose value is content (see CONTENT_ATTRIBUTE_KEYS). */
export function isContentAttribute(key: string): boolean {
  return CONTENT_KEYS.has(key) || CONTENT_ATTRIBUTE_PREFIXES.some((prefix) => key.startsWith(prefix));
}

/**
 * `attributes` without the values of content attributes; each one's length is kept as
 * `<key>_length` (a text's length in UTF-16 code units, another value's as JSON), unless the
 * attributes already have that key (Codex sends `prompt_length` itself). How much was said is
 * timing evidence; what was said is not needed.
 */
export function withoutContent(attributes: Attributes): Attributes {
  let out: Attributes | undefined;
  for (const key of Object.keys(attributes)) {
    if (!isContentAttribute(key)) continue;
    out ??= { ...attributes };
    const value = out[key]!;
    delete out[key];
    const lengthKey = `${key}_length`;
    if (!(lengthKey in attributes)) out[lengthKey] = contentLength(value);
  }
  return out ?? attributes;
}

function contentLength(value: AttributeValue): number {
  return typeof value === 'string' ? value.length : JSON.stringify(value).length;
}
