import { mkdir, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { pickEngine, type EngineName } from '../adapters/engines/detect.js';
import { buildImage, gitProvenance } from '../app/build-image.js';
import { loadRepo } from '../app/repo.js';
import { computeTags } from '../app/tags.js';
import { platformString } from '../core/names.js';
import { UsageError } from '../errors.js';
import { onInterrupt } from '../util/cleanup.js';
import { formatTable } from '../util/output.js';
import { action, collect, type Streams } from './context.js';
import { parsePairs } from './shared-options.js';

interface BuildOptions {
  engine?: string;
  output: string;
  buildArg?: string[];
  builder?: string[];
  check: boolean;
  keep?: boolean;
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
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nThe platform comes from each name\'s arch (x86_64 -> linux/amd64, aarch64 -> linux/arm64); a foreign arch builds\nthrough qemu binfmt or a remote builder, and the progress says which. Nothing is pushed.')
    .action(
      action<BuildOptions>(async (opts, ctx, args) => {
        const repo = await loadRepo(ctx.cwd, ctx.configPath);
        const all = await computeTags(repo);
        const selected = args.length ? all.filter((t) => args.some((a) => t.file === a || t.file.endsWith(`/${a}`))) : all;
        if (selected.length === 0) throw new UsageError(args.length ? `no image in ${repo.config.imagesDir}/ matches ${args.join(', ')}` : `no builder images in ${repo.config.imagesDir}/`);
        const engine = await pickEngine((opts.engine ?? repo.config.engine) as EngineName | 'auto');
        ctx.out.progress(`engine: ${engine}`);
        const builders = { ...repo.config.builders, ...parsePairs(opts.builder, '--builder') };
        const buildArgs = parsePairs(opts.buildArg, '--build-arg');
        const provenance = await gitProvenance(repo.root);
        const results: { file: string; platform: string; output: string; digest?: string; check: string; error?: string }[] = [];
        for (const t of selected) {
          const platform = platformString(t.name.arch);
          const output = resolve(ctx.cwd, opts.output, t.contentTag);
          // A layout cut short by an interruption is removed, not left half-written.
          const partial = onInterrupt(() => rm(output, { recursive: true, force: true }));
          try {
            await rm(output, { recursive: true, force: true });
            await mkdir(resolve(ctx.cwd, opts.output), { recursive: true });
            const built = await buildImage(repo, t, {
              engine,
              layoutDir: output,
              buildArgs,
              builders,
              provenance,
              check: opts.check,
              keep: opts.keep,
              onProgress: (line) => ctx.out.progress(`[${t.contentTag}] ${line}`),
            });
            const check = built.problems === undefined ? 'not run' : built.problems.length ? `failed: ${built.problems.join('; ')}` : 'ok';
            results.push({ file: t.file, platform, output, digest: built.manifest.digest, check });
          } catch (err) {
            results.push({ file: t.file, platform, output, check: 'not run', error: (err as Error).message });
          } finally {
            partial.dismiss();
          }
        }
        if (opts.json) ctx.out.json(results);
        else {
          const rows = [['IMAGE', 'PLATFORM', 'DIGEST', 'CHECK', 'OUTPUT']];
          for (const r of results) rows.push([r.file, r.platform, r.digest?.slice(0, 19) ?? 'build failed', r.check, r.error ?? r.output]);
          ctx.out.result(formatTable(rows));
          const failed = results.filter((r) => r.error || r.check.startsWith('failed')).length;
          ctx.out.result(`${results.length} image(s) built with ${engine}: ${results.length - failed} ok, ${failed} failed`);
        }
        return results.every((r) => !r.error && !r.check.startsWith('failed')) ? 0 : 1;
      }, streams),
    );
}
