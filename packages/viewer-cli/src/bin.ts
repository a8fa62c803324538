#!/usr/bin/env node
import { CommanderError } from 'commander';
import { createProgram } from './program.js';
import { EXIT_USAGE } from './exit-codes.js';
import { writeError } from './error-line.js';

// A reader that stops early (`stall-why ... | head`) closes the pipe: later writes fail with EPIPE,
// which is no error of ours. The rest of the output is dropped and the exit code still counts turns.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') return;
  writeError(`cannot write to stdout: ${err.code ?? err.message}`);
  process.exit(EXIT_USAGE);
});

// The one place that turns failures into exit codes: commander's own (usage) errors exit 2, and
// anything unexpected is one line on stderr, never a stack trace (set STALL_WHY_DEBUG=1 for it).
// A promise, not a top-level await: the bundle is a CommonJS file (scripts/bundle-cli.mjs says why).
createProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
    } else {
      const message = err instanceof Error ? err.message : String(err);
      writeError(message.split('\n')[0]!);
      if (process.env.STALL_WHY_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
      process.exitCode = EXIT_USAGE;
    }
  });
