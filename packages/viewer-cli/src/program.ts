import { Command } from 'commander';
import { registerBufferCommand } from './commands/buffer.js';
import { registerCollectCommand } from './commands/collect.js';
import { registerExplainCommand } from './commands/explain.js';
import { registerRecordCommand } from './commands/record.js';
import { registerWatchCommand } from './commands/watch.js';
import { errorLine } from './error-line.js';
import { EXIT_USAGE } from './exit-codes.js';
import { VERSION } from './version.js';

export { VERSION };

/**
 * Builds the `stall-why` program. Each subcommand lives in its own module under commands/.
 *
 * Usage errors are one line on stderr (`errorLine`, like every other error) and exit 2 (no help dump after them: `--help` has the
 * examples). Program options go before a subcommand's name (`enablePositionalOptions`), so that
 * `watch` and the others own the options written after it.
 */
export function createProgram(): Command {
  const program = new Command()
    .name('stall-why')
    .description('Why is this AI agent turn stuck? Reads what was recorded and names the wait.')
    .version(VERSION)
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(errorLine(str)) });
  registerExplainCommand(program);
  registerWatchCommand(program);
  registerRecordCommand(program);
  registerCollectCommand(program);
  registerBufferCommand(program);
  return program;
}

export { EXIT_USAGE };
