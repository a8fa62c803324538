import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as conventions from '@stall-why/conventions';
import { PHASES, VERDICTS } from '@stall-why/conventions';

/** docs/vocabulary.md must name every phase, attribute, value and verdict the conventions export, so it cannot drift. */
const doc = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'vocabulary.md'), 'utf8');
const rows = doc.split('\n').filter((line) => line.startsWith('| `'));
const rowOf = (value: string, constant: string) => rows.find((row) => row.startsWith(`| \`${value}\` | \`${constant}\` |`));

/** Constants that name no span, attribute or value (a prefix, Chrome export keys): they need no row. */
const NOT_VOCABULARY = new Set(['STALL_WHY_PREFIX', 'CHROME_ARG_SPAN', 'CHROME_ARG_VERDICT']);

describe('docs/vocabulary.md', () => {
  it('has a row for every phase with its kind and attributes', () => {
    const missing = PHASES.filter((phase) => {
      const row = rows.find((r) => r.startsWith(`| \`${phase.name}\` |`));
      return !row || !row.includes(`| ${phase.kind} |`) || phase.attributes.some((a) => !row.includes(`\`${a}\``));
    });
    expect(missing.map((p) => `| \`${p.name}\` | | ${p.kind} | ${p.meaning} | ${p.attributes.map((a) => `\`${a}\``).join(', ')} |`)).toEqual([]);
  });

  it('has a row for every exported string constant: attributes, values, states and verdicts', () => {
    const constants = Object.entries(conventions).filter((entry): entry is [string, string] => typeof entry[1] === 'string' && !NOT_VOCABULARY.has(entry[0]));
    expect(constants.length).toBeGreaterThan(100);
    const missing = constants.filter(([name, value]) => !rowOf(value, name));
    expect(missing.map(([name, value]) => `| \`${value}\` | \`${name}\` | <meaning from packages/conventions/src> |`)).toEqual([]);
  });

  it('gives every verdict its meaning', () => {
    for (const verdict of VERDICTS) expect(rows.find((r) => r.startsWith(`| \`${verdict.id}\` | \`VERDICT_`)), verdict.id).toContain(verdict.meaning);
  });
});
