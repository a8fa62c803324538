import type { Command } from 'commander';

// Placeholder until its issue lands: registered so `--help` lists it.
export function registerCollectCommand(program: Command): void {
  program
    .command('collect')
    .description('(not yet implemented)')
    .action(() => {
      process.stderr.write('stall-why collect: not yet implemented\n');
      process.exitCode = 2;
    });
}
