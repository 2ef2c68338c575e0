import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { action, type Streams } from './context.js';

// Placeholder until its issue lands: the command is listed so the CLI shape is fixed early.
export function register(program: Command, streams: Streams): void {
  program
    .command('lint')
    .description('Check builder Dockerfile names, FROM digest pins and index.yaml freshness')
    .action(
      action(async () => {
        throw new CliError('lint is not implemented yet');
      }, streams),
    );
}
