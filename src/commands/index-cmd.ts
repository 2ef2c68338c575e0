import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { createTwoFilesPatch } from 'diff';
import { builderImages } from '../adapters/fs/images-dir.js';
import type { RegistryClient } from '../adapters/registry/index.js';
import { registryAccess } from '../app/registry-client.js';
import { expectedIndexEntries, expectedIndexText, indexFileInRepository, readIndexFile } from '../app/index-file.js';
import { readRegistryIndex, verifyIndex, type EntryVerdict } from '../app/registry-index.js';
import { loadRepo, type Repo } from '../app/repo.js';
import { renderIndex, sortEntries } from '../core/index-schema.js';
import { UsageError } from '../errors.js';
import { githubAnnotation } from '../util/annotations.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { Output } from '../util/output.js';
import { checkRepository, checkVersionTag } from './shared-options.js';
import { action, collect, type CommandContext, type Streams, insecureOption, formatOption } from './context.js';

interface IndexOptions {
  repo?: string[];
  tag?: string[];
  check?: boolean;
  output?: string;
  stdout?: boolean;
  verify?: boolean;
  fromRegistry?: string | boolean;
  format: 'text' | 'json' | 'github';
  json?: boolean;
  insecure?: string[];
}

export function register(program: Command, streams: Streams): void {
  program
    .command('index')
    .description('Regenerate index.yaml, the builder index the driver builder reads')
    .option('--repo <repository>', 'repository the index lists, repeatable (default: the first configured repository)', collect)
    .option('--tag <tag>', 'tag (version) the index lists, repeatable (default: config index.tags, i.e. latest)', collect)
    .option('--check', 'write nothing; print a diff and exit 1 when the file is stale (with --from-registry: when the registry differs)')
    .option('-o, --output <file>', 'write here instead of the configured index file')
    .option('--stdout', 'print the index instead of writing it')
    .option('--verify', 'network: every entry\'s image exists and its labels agree with the entry; exit 1 naming the others')
    .option('--from-registry [repository]', 'network: the index as the driver builder reads it from the repository\'s tags (default: --repo or the first configured one); printed, or diffed with --check')
    .addOption(formatOption('output format of --verify'))
    .option('--json', 'same as --format json')
    .addOption(insecureOption())
    .addHelpText(
      'after',
      `
The driver builder reads the result with --builderrepo <file>. Output is deterministic and written atomically.
--verify checks the index this command writes (same --repo and --tag) against the registry: a HEAD on every
entry's manifest, then its config labels (io.builder-images.target, .arch, .gcc-versions) and architecture.
--from-registry lists the repository's tags as the driver builder does (<target>-<arch>_gcc…-<tag>; multi-arch
index tags and content tags are not builder images to it), so \`index --from-registry --check\` shows every
difference between what the registry serves and what images/ declares.`,
    )
    .action(
      action<IndexOptions>(async (opts, ctx) => {
        const repo = await loadRepo(ctx.cwd, ctx.configPath);
        for (const r of opts.repo ?? []) checkRepository(r);
        for (const t of opts.tag ?? []) checkVersionTag(t);
        if (opts.verify && opts.fromRegistry !== undefined) throw new UsageError('give --verify or --from-registry, not both');
        if (opts.verify) return runVerify(repo, opts, ctx);
        if (opts.fromRegistry !== undefined) return runFromRegistry(repo, opts, ctx, streams);
        const expected = expectedIndexText(repo.files, repo.config, { repositories: opts.repo, tags: opts.tag });
        const file = opts.output ? resolve(ctx.cwd, opts.output) : await indexFileInRepository(repo.root, repo.config.index.file);
        const shown = relative(repo.root, file) || file;
        if (opts.stdout) {
          ctx.out.result(expected.replace(/\n$/, ''));
          return 0;
        }
        const current = await readIndexFile(file);
        const entries = builderImages(repo.files).length;
        if (opts.check) {
          if (current === expected) {
            ctx.out.result(`${shown} is up to date (${entries} image(s))`);
            return 0;
          }
          ctx.out.result(createTwoFilesPatch(`a/${shown}`, `b/${shown}`, current ?? '', expected, '', '', { context: 3 }).replace(/\n$/, ''));
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

function clientFor(repo: Repo, opts: IndexOptions, out: Output): RegistryClient {
  return registryAccess(repo, { insecure: opts.insecure, debug: out.debug }).client;
}

async function runVerify(repo: Repo, opts: IndexOptions, ctx: CommandContext): Promise<number> {
  const entries = expectedIndexEntries(repo.files, repo.config, { repositories: opts.repo, tags: opts.tag });
  ctx.out.progress(`verifying ${entries.length} index entr${entries.length === 1 ? 'y' : 'ies'} against the registry`);
  const verdicts = await verifyIndex(clientFor(repo, opts, ctx.out), entries, { onProgress: (line) => ctx.out.debug(line) });
  printVerdicts(verdicts, opts.json ? 'json' : opts.format, ctx.out);
  return verdicts.every((v) => v.status === 'ok') ? 0 : 1;
}

function printVerdicts(verdicts: EntryVerdict[], format: IndexOptions['format'], out: Output): void {
  const bad = verdicts.filter((v) => v.status !== 'ok');
  if (format === 'json') {
    out.json(verdicts.map((v) => ({ name: v.entry.name, target: v.entry.target, arch: v.entry.arch, tag: v.entry.tag, status: v.status, digest: v.digest ?? null, problems: v.problems, provenKernels: v.provenKernels ?? [] })));
    return;
  }
  for (const v of bad) {
    const text = `${v.status}: ${v.entry.name}: ${v.problems.join('; ')}`;
    out.result(format === 'github' ? githubAnnotation('error', text, { title: `index entry ${v.status}` }) : text);
  }
  for (const v of verdicts.filter((x) => x.provenKernels?.length)) {
    const kernels = v.provenKernels!;
    out.result(`verified: ${v.entry.name}: ${kernels.length} kernel(s) proven by verify (${kernels.slice(0, 3).join(', ')}${kernels.length > 3 ? ', …' : ''})`);
  }
  const count = (status: EntryVerdict['status']) => verdicts.filter((v) => v.status === status).length;
  const summary = `${verdicts.length} index entr${verdicts.length === 1 ? 'y' : 'ies'} verified: ${count('ok')} ok, ${count('missing')} missing, ${count('disagrees')} disagreeing, ${count('error')} error(s)`;
  out.result(bad.length ? `${summary}: the index promises images the registry does not serve as listed; do not publish it` : summary);
}

async function runFromRegistry(repo: Repo, opts: IndexOptions, ctx: CommandContext, streams: Streams): Promise<number> {
  const repository = typeof opts.fromRegistry === 'string' ? opts.fromRegistry : (opts.repo?.[0] ?? repo.config.repositories[0]!);
  const versions = opts.tag?.length ? opts.tag : repo.config.index.tags;
  ctx.out.progress(`listing the tags of ${repository}`);
  const seen = await readRegistryIndex(clientFor(repo, opts, ctx.out), repository, versions);
  for (const line of seen.ambiguous) ctx.out.warn(line);
  for (const u of seen.unusable) ctx.out.warn(`${repository}:${u.tag}: ${u.reason}`);
  const text = renderIndex(sortEntries(seen.entries));
  if (opts.check) {
    const declared = expectedIndexText(repo.files, repo.config, { repositories: [repository], tags: versions });
    const shown = repo.config.index.file;
    if (declared === text && seen.unusable.length === 0) {
      ctx.out.result(`${repository} serves exactly the declared index (${seen.entries.length} image(s))`);
      return 0;
    }
    streams.stdout.write(createTwoFilesPatch(`declared/${shown}`, `registry/${shown}`, declared, text, '', '', { context: 3 }));
    ctx.out.result(`${repository} differs from the declared index: lines with - are declared but not served, lines with + are served but not declared`);
    return 1;
  }
  if (opts.output && !opts.stdout) {
    await writeFileAtomic(resolve(ctx.cwd, opts.output), text);
    ctx.out.result(`wrote ${opts.output} (${seen.entries.length} image(s) in ${repository})`);
    return 0;
  }
  streams.stdout.write(text);
  return 0;
}
