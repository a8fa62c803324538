// Where the real Codex binary lives for the suites that drive it (e2e, the JSON-RPC fixture drift
// check, the corpus recorders). It is about 400 MB, so it is not a dev dependency that every
// `npm ci` downloads: `node test/install-codex.mjs` (run by `npm run test:e2e`) installs this
// pinned version into a git-ignored prefix.
import { join } from 'node:path';

export const CODEX_VERSION = '0.169.0';
export const CODEX_PREFIX = join(import.meta.dirname, 'e2e', '.codex');
export const CODEX = join(CODEX_PREFIX, 'node_modules', '@openai', 'codex-linux-x64', 'vendor', 'x86_64-unknown-linux-musl', 'bin', 'codex');
