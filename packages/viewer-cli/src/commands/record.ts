import type { Command } from 'commander';

// Placeholder until its issue lands: registered so `--help` lists it.
export function registerRecordCommand(program: Command): void {
  program
    .command('record')
    .description('(not yet implemented)')
    .action(() => {
      process.stderr.write('stall-why record: not yet implemented\n');
      process.exitCode = 2;
    });
}
