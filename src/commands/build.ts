import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { EngineName } from '../adapters/engines/detect.js';
import { buildImages, type BuildOutcome, type BuildResult } from '../app/build.js';
import { summarizeDifferences } from '../core/reproduce.js';
import { loadRepo } from '../app/repo.js';
import { formatTable, type Output } from '../util/output.js';
import { action, collect, type Streams } from './context.js';
import { parsePairs } from './shared-options.js';

interface BuildCliOptions {
  engine?: string;
  output: string;
  buildArg?: string[];
  builder?: string[];
  check: boolean;
  keep?: boolean;
  reproduce?: boolean;
  json?: boolean;
}

export function register(program: Command, streams: Streams): void {
  program
    .command('build')
    .description('Build builder images per architecture with docker, buildah or podman')
    .argument('[dockerfiles...]', 'only these images (file names or paths in images/); default: all')
    .addOption(new Option('--engine <engine>', 'build engine (default: config engine, i.e. auto)').choices(['auto', 'docker', 'buildah', 'podman']))
    .option('-o, --output <dir>', 'where each image is exported as an OCI layout (<dir>/<content tag>)', '.cache/build')
    .option('--build-arg <KEY=VALUE>', 'build argument, repeatable (added to config buildArgs)', collect)
    .option('--builder <PLATFORM=NAME>', 'docker: remote BuildKit builder for a platform, repeatable', collect)
    .option('--no-check', 'do not check the built images')
    .option('--keep', 'keep the image in the engine as well (localhost/builder-images-build:<content tag>)')
    .option('--reproduce', 'build each image twice (the second without cache) and compare: the same digest, or the files that differ and why')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nThe platform comes from each name\'s arch (x86_64 -> linux/amd64, aarch64 -> linux/arm64); a foreign arch builds\nthrough qemu binfmt or a remote builder, and the progress says which. Nothing is pushed.')
    .action(
      action<BuildCliOptions>(async (opts, ctx, args) => {
        const repo = await loadRepo(ctx.cwd, ctx.configPath);
        const result = await buildImages(repo, {
          only: args,
          engine: (opts.engine ?? repo.config.engine) as EngineName | 'auto',
          outputDir: resolve(ctx.cwd, opts.output),
          buildArgs: parsePairs(opts.buildArg, '--build-arg'),
          builders: parsePairs(opts.builder, '--builder'),
          check: opts.check,
          keep: opts.keep,
          reproduce: opts.reproduce,
          onProgress: ctx.out.progress,
        });
        if (opts.json) ctx.out.json(result.images);
        else printSummary(ctx.out, result);
        return result.ok ? 0 : 1;
      }, streams),
    );
}

function printSummary(out: Output, result: BuildResult): void {
  const rows = [['IMAGE', 'PLATFORM', 'DIGEST', 'CHECK', 'OUTPUT']];
  for (const r of result.images) rows.push([r.file, r.platform, r.digest?.slice(0, 19) ?? 'build failed', r.check, r.error ?? r.output]);
  out.result(formatTable(rows));
  for (const r of result.images) if (r.reproduce) printReproduce(out, r);
  const failed = result.images.filter((r) => r.error || r.check.startsWith('failed') || r.reproduce?.reproducible === false).length;
  out.result(`${result.images.length} image(s) built with ${result.engine}: ${result.images.length - failed} ok, ${failed} failed`);
}

/** Differences shown in full up to this many files; --json has them all. */
const SHOWN_DIFFERENCES = 200;

function printReproduce(out: Output, r: BuildOutcome): void {
  const rep = r.reproduce!;
  if (rep.reproducible) {
    out.result(`${r.file} (${r.platform}): reproducible, both builds ${r.digest}`);
    return;
  }
  out.result(`${r.file} (${r.platform}): NOT reproducible: ${r.digest ?? '?'} then ${rep.secondDigest}`);
  if (rep.config.length) out.result(`  config differs in: ${rep.config.join(', ')}`);
  if (rep.layerCounts) out.result(`  layer count differs: ${rep.layerCounts[0]} vs ${rep.layerCounts[1]}`);
  out.result(`  layers that differ: ${rep.layers.join(', ') || 'none'}; ${summarizeDifferences(rep.files)}`);
  if (rep.files.length) {
    const rows = [['LAYER', 'PATH', 'DIFFERS', 'WHY'], ...rep.files.slice(0, SHOWN_DIFFERENCES).map((f) => [String(f.layer), f.path, f.differs.join(', '), f.cause ?? 'unknown: look at the RUN that writes it'])];
    out.result(formatTable(rows));
    if (rep.files.length > SHOWN_DIFFERENCES) out.result(`  … and ${rep.files.length - SHOWN_DIFFERENCES} more (--json lists them all)`);
  }
}
