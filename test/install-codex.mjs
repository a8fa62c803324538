// Installs the pinned Codex binary into test/e2e/.codex (git-ignored) unless it is there already.
// Run outside the e2e network namespace: the namespace has no route to the registry.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CODEX, CODEX_PREFIX, CODEX_VERSION } from './codex-binary.mjs';

function installedVersion() {
  const manifest = join(CODEX_PREFIX, 'node_modules', '@openai', 'codex', 'package.json');
  return existsSync(manifest) && existsSync(CODEX) ? JSON.parse(readFileSync(manifest, 'utf8')).version : undefined;
}

if (installedVersion() !== CODEX_VERSION) {
  console.error(`install-codex: installing @openai/codex@${CODEX_VERSION} (about 400 MB) into ${CODEX_PREFIX}`);
  const r = spawnSync('npm', ['install', '--prefix', CODEX_PREFIX, '--no-audit', '--no-fund', '--no-save', `@openai/codex@${CODEX_VERSION}`], { stdio: 'inherit' });
  if (r.status !== 0 || installedVersion() !== CODEX_VERSION) {
    console.error(`install-codex: npm install of @openai/codex@${CODEX_VERSION} failed (exit ${r.status ?? r.signal})`);
    process.exit(2);
  }
}
