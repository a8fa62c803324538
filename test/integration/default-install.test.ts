// What `npm ci` (the README's first command) installs: it must run on the documented Node without
// EBADENGINE warnings, and must not fetch what only the e2e suite needs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { CODEX_PREFIX, CODEX_VERSION } from '../codex-binary.mjs';

const REPO = join(import.meta.dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8'));
const lockedPackages = Object.entries(lock.packages as Record<string, { version?: string; engines?: { node?: string } }>);

describe('the default install (npm ci)', () => {
  it('holds no package whose engines exclude the oldest Node the README documents', () => {
    const oldest = semver.minVersion(manifest.engines.node)!.version;
    expect(semver.major(oldest)).toBe(20);
    const excluding = lockedPackages
      .filter(([, p]) => typeof p.engines?.node === 'string' && !semver.satisfies(oldest, p.engines.node))
      .map(([path, p]) => `${path}@${p.version} wants node ${p.engines!.node}`);
    expect(excluding).toEqual([]);
  });

  it('does not install the Codex binary: test:e2e installs the pinned version into a git-ignored prefix', () => {
    expect(lockedPackages.filter(([path]) => path.includes('@openai/codex'))).toEqual([]);
    expect(manifest.devDependencies).not.toHaveProperty('@openai/codex');
    expect(manifest.scripts['test:e2e']).toMatch(/node test\/install-codex\.mjs && (.* )?node test\/e2e\/in-network-namespace\.mjs/);
    expect(CODEX_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
    expect(readFileSync(join(REPO, '.gitignore'), 'utf8').split('\n')).toContain(`${CODEX_PREFIX.slice(REPO.length + 1)}/`);
  });
});
