import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { action, type Streams } from './context.js';

// Placeholder until its issue lands: the command is listed so the CLI shape is fixed early.
export function register(program: Command, streams: Streams): void {
  program
    .command('index')
    .description('Regenerate index.yaml, the builder index the driver builder reads')
    .action(
      action(async () => {
        throw new CliError('index is not implemented yet');
      }, streams),
    );
}
