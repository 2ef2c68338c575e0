import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { action, type Streams } from './context.js';

// Placeholder until its issue lands: the command is listed so the CLI shape is fixed early.
export function register(program: Command, streams: Streams): void {
  program
    .command('plan')
    .description('List the images that need building, e.g. as a GitHub Actions matrix')
    .action(
      action(async () => {
        throw new CliError('plan is not implemented yet');
      }, streams),
    );
}
