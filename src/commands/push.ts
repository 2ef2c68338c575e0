import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { action, type Streams } from './context.js';

// Placeholder until its issue lands: the command is listed so the CLI shape is fixed early.
export function register(program: Command, streams: Streams): void {
  program
    .command('push')
    .description('Build, check and publish changed images per arch and as multi-arch indexes')
    .action(
      action(async () => {
        throw new CliError('push is not implemented yet');
      }, streams),
    );
}
