import { defineConfig } from 'vitest/config';

// Four projects: `unit` is the fast default (`npm test`); `slow` holds crash loops, outage and
// fuzz suites; `clickhouse` needs embedded ClickHouse (npm `chdb`, ~550 MB, installed only by
// `npm run test:clickhouse`, never by `npm ci`); `e2e` drives the real Codex app-server, only inside a
// network namespace with loopback alone (`npm run test:e2e` makes it). CI runs all four.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts', 'test/integration/**/*.test.ts', 'examples/test/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'slow',
          include: ['packages/*/test/**/*.slow.ts', 'test/slow/**/*.slow.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'clickhouse',
          include: ['packages/*/test/**/*.chdb.ts', 'test/clickhouse/**/*.chdb.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.e2e.ts'],
          globalSetup: ['test/e2e/loopback-only.mjs'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
