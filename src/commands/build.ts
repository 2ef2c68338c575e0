import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { action, type Streams } from './context.js';

// Placeholder until its issue lands: the command is listed so the CLI shape is fixed early.
export function register(program: Command, streams: Streams): void {
  program
    .command('build')
    .description('Build builder images per architecture with docker, buildah or podman')
    .action(
      action(async () => {
        throw new CliError('build is not implemented yet');
      }, streams),
    );
}
