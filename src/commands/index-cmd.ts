import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { createTwoFilesPatch } from 'diff';
import { builderImages } from '../adapters/fs/images-dir.js';
import { expectedIndexText, readIndexFile } from '../app/index-file.js';
import { loadRepo } from '../app/repo.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { action, collect, type Streams } from './context.js';

interface IndexOptions {
  repo?: string[];
  tag?: string[];
  check?: boolean;
  output?: string;
  stdout?: boolean;
}

export function register(program: Command, streams: Streams): void {
  program
    .command('index')
    .description('Regenerate index.yaml, the builder index the driver builder reads')
    .option('--repo <repository>', 'repository the index lists, repeatable (default: the first configured repository)', collect)
    .option('--tag <tag>', 'tag (version) the index lists, repeatable (default: config index.tags, i.e. latest)', collect)
    .option('--check', 'write nothing; print a diff and exit 1 when the file is stale')
    .option('-o, --output <file>', 'write here instead of the configured index file')
    .option('--stdout', 'print the index instead of writing it')
    .addHelpText('after', '\nThe driver builder reads the result with --builderrepo <file>. Output is deterministic and written atomically.')
    .action(
      action<IndexOptions>(async (opts, ctx) => {
        const repo = await loadRepo(ctx.cwd, ctx.configPath);
        const expected = expectedIndexText(repo.files, repo.config, { repositories: opts.repo, tags: opts.tag });
        const file = opts.output ? resolve(ctx.cwd, opts.output) : join(repo.root, repo.config.index.file);
        const shown = relative(repo.root, file) || file;
        if (opts.stdout) {
          streams.stdout.write(expected);
          return 0;
        }
        const current = await readIndexFile(file);
        const entries = builderImages(repo.files).length;
        if (opts.check) {
          if (current === expected) {
            ctx.out.result(`${shown} is up to date (${entries} image(s))`);
            return 0;
          }
          streams.stdout.write(createTwoFilesPatch(`a/${shown}`, `b/${shown}`, current ?? '', expected, '', '', { context: 3 }));
          ctx.out.result(`${shown} is ${current === undefined ? 'missing' : 'stale'}: run \`builder-images index\` to update it`);
          return 1;
        }
        if (current === expected) {
          ctx.out.result(`${shown} unchanged (${entries} image(s))`);
          return 0;
        }
        await writeFileAtomic(file, expected);
        ctx.out.result(`wrote ${shown} (${entries} image(s))`);
        return 0;
      }, streams),
    );
}
