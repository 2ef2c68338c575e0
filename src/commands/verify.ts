import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { pickEngine, type EngineName } from '../adapters/engines/detect.js';
import { loadRepo } from '../app/repo.js';
import { candidateForImage, kernelSets, loadKernels, pickFromIndex, verifyAll, type Candidate, type ImageUnderTest, type VerifyKernel, type VerifyRow } from '../app/verify.js';
import type { IndexEntry } from '../core/index-schema.js';
import { isArch, parseImageTag, type Arch } from '../core/names.js';
import { tryParseReference } from '../core/reference.js';
import { parseGccVersion } from '../core/version.js';
import { UsageError } from '../errors.js';
import { githubAnnotation } from '../util/annotations.js';
import { formatTable, type Output } from '../util/output.js';
import { action, type Streams, insecureOption, formatOption } from './context.js';
import { readIndex } from './select.js';
import { mergeReports, planMatrix, runVerifyKernels, type GridFlags } from './verify-kernels.js';
import { registryAccess } from '../app/registry-client.js';
import { verifyOne } from '../app/verify.js';
import { probeModuleSource } from '../core/probe-module.js';

interface VerifyOptions extends Omit<GridFlags, 'kernels' | 'arch'> {
  kernels?: string;
  merge?: string[];
  headers?: string[];
  kernelRelease?: string;
  target?: string;
  arch?: string;
  gcc?: string;
  index?: string;
  tag?: string;
  engine?: string;
  format: 'text' | 'json' | 'github';
  json?: boolean;
  insecure?: string[];
}

export function register(program: Command, streams: Streams): void {
  program
    .command('verify')
    .description('Prove an image builds a kernel module: compile one against real headers with the GCC select picks')
    .argument('[images...]', 'images to verify (default: the pick of select over the index); registry reference or buildah:/podman:/docker:IMAGE')
    .option('--headers <sources...>', 'kernel headers: directories, .deb (with -common and linux-kbuild), .rpm (kernel-devel), tarballs; paths or https URLs, each optionally #sha256=HEX (default: config verify)')
    .option('--kernel-release <release>', 'the kernel release (default: from the headers, utsrelease.h first)')
    .option('--target <target>', 'driver builder target (default: from the headers: debian for .deb, centos for .el*…)')
    .option('--arch <arch>', 'x86_64 or aarch64 (default: from the headers .config or package arch)')
    .option('--gcc <X.Y.Z>', 'with images whose name does not say their GCCs: the GCC to build with')
    .option('--index <file>', 'builder index select reads (default: config index.file)')
    .option('--tag <tag>', 'image tag (version) select chooses among (default: the first config index tag)')
    .addOption(new Option('--engine <engine>', 'engine that runs the image (default: config engine)').choices(['auto', 'docker', 'podman', 'buildah']))
    .addOption(formatOption())
    .option('--json', 'same as --format json')
    .addOption(insecureOption())
    .option('--kernels <file|url>', "every kernel of a list (kernel-crawler's list.json, or kernels: [{release, target, arch, headers}]) with the image select sends it to")
    .option('--release <regex>', 'with --kernels: only the kernels whose release matches')
    .option('--image <name...>', 'with --kernels: only the kernels select sends to these images (a name, or its tag)')
    .option('--sample <n>', 'with --kernels: n kernels spread over the kernel series (deterministic)')
    .option('--shard <i/n>', 'with --kernels: only shard i of n of the (kernel, image) pairs (each pair is in exactly one)')
    .option('--jobs <n>', 'with --kernels: kernels built at once (default 1)')
    .option('--record', "with --kernels: skip pairs the registry's verification records prove for the same image digest, and record the new ones beside the image")
    .option('--plan <shards>', "print the GitHub Actions matrix of that many --shard values per arch (--arch: one), each with the config's runner, and build nothing")
    .option('--diff <git-ref>', 'with --kernels: only the kernels whose image or GCC images/ at <git-ref> and the working tree disagree on')
    .option('--comment-pr [number]', 'with --kernels: post the report as a pull request comment, updated in place (GITHUB_TOKEN, GITHUB_REPOSITORY; the number defaults to the pull_request event)')
    .option('--merge <reports...>', "print one report from shards' --json output, and build nothing")
    .addHelpText(
      'after',
      `
For each kernel in the headers, run the image (the one the driver builder would pick, or each image given, for
that arch) with the headers mounted read-only at their distro paths, and build a probe module with
make -C <headers> M=<module> CC=/usr/bin/gcc-X.Y.Z ARCH=<x86|arm64>. A kernel passes only when a .ko results that
is an ELF relocatable for its machine whose vermagic starts with its release. Nothing is published or changed.
Give images before --headers (or after --). Exit 1 when any build fails.
Examples:
  builder-images verify --headers linux-headers-6.1.0-56-amd64_6.1.192-2_amd64.deb \\
      linux-headers-6.1.0-56-common_6.1.192-2_all.deb linux-kbuild-6.1_6.1.192-2_amd64.deb
  builder-images verify ghcr.io/org/builders:any-x86_64_gcc12.0.0-latest --headers ./kernel-devel-5.14.0-427.el9.x86_64.rpm`,
    )
    .action(
      action<VerifyOptions>(async (opts, ctx, args) => {
        const format = opts.json ? 'json' : opts.format;
        if (opts.merge) return mergeReports(opts.merge, ctx, format);
        const repo = await loadRepo(ctx.cwd, ctx.configPath);
        if (opts.plan !== undefined) {
          if (opts.arch && !isArch(opts.arch)) throw new UsageError(`--arch must be x86_64 or aarch64 (got "${opts.arch}")`);
          ctx.out.result(JSON.stringify(planMatrix(opts.plan, repo.config.runners, opts.arch ? [opts.arch as Arch] : ['x86_64', 'aarch64'])));
          return 0;
        }
        const insecure = [...repo.config.insecureRegistries, ...(opts.insecure ?? [])];
        if (opts.arch && !isArch(opts.arch)) throw new UsageError(`--arch must be x86_64 or aarch64 (got "${opts.arch}")`);
        if (opts.gcc && !parseGccVersion(opts.gcc)) throw new UsageError(`--gcc ${opts.gcc} is not a full X.Y.Z version`);
        if (opts.kernels) {
          if (args.length || opts.headers) throw new UsageError('--kernels takes its images from the index (narrow them with --image), not from arguments or --headers');
          const engine = await pickEngine((opts.engine ?? repo.config.engine) as EngineName | 'auto');
          ctx.out.progress(`engine: ${engine}`);
          const indexFile = opts.index ?? repo.config.index.file;
          return runVerifyKernels(
            { ...opts, kernels: opts.kernels, arch: opts.arch as Arch | undefined },
            {
              repo,
              entries: await readIndex(resolve(ctx.cwd, indexFile), indexFile),
              tag: opts.tag ?? repo.config.index.tags[0] ?? 'latest',
              repoRoot: repo.root,
              cacheDir: join(repo.root, '.cache', 'headers'),
              client: registryAccess(repo, { insecure: opts.insecure, debug: ctx.out.debug }).client,
              moduleSource: probeModuleSource(),
              flow: 'probe',
              runPair: (kernel, candidate) => verifyOne(kernel, candidate, { engine, insecureRegistries: insecure, onProgress: ctx.out.progress }),
            },
            ctx,
            format,
          );
        }
        const sets = kernelSets(opts.headers, { release: opts.kernelRelease, arch: opts.arch as Arch | undefined, target: opts.target }, repo.config.verify);
        const images = args.map((a) => imageUnderTest(a, opts.gcc));
        const unnamed = images.find((i) => !i.gccVersions?.length);
        if (unnamed) throw new UsageError(`cannot tell which GCCs ${unnamed.image} holds: its tag is not a builder tag; pass --gcc X.Y.Z`);
        const entries = images.length ? [] : await readIndex(resolve(ctx.cwd, opts.index ?? repo.config.index.file), opts.index ?? repo.config.index.file);
        const tag = opts.tag ?? repo.config.index.tags[0] ?? 'latest';
        const engine = await pickEngine((opts.engine ?? repo.config.engine) as EngineName | 'auto');
        ctx.out.progress(`engine: ${engine}`);

        const rows: VerifyRow[] = [];
        for (const set of sets) {
          const { kernels, cleanup } = await loadKernels(set.sources, set.overrides, { cwd: ctx.cwd, cacheDir: join(repo.root, '.cache', 'headers'), onProgress: ctx.out.progress });
          try {
            for (const k of kernels) ctx.out.progress(`kernel ${k.release} (${k.arch}, target ${k.target}) from ${k.releaseFrom}, make -C ${k.buildDir}`);
            rows.push(...(await verifyAll(pairs(kernels, images, entries, tag), { engine, insecureRegistries: insecure, onProgress: ctx.out.progress })));
          } finally {
            await cleanup();
          }
        }
        print(ctx.out, rows, format);
        return rows.some((r) => r.verdict === 'fail') ? 1 : 0;
      }, streams),
    );
}

/** What an image argument names: a registry reference (its tag may say target, arch and GCCs) or a local image. */
export function imageUnderTest(spec: string, gcc?: string): ImageUnderTest {
  const local = /^(docker|podman|buildah):(.+)$/.exec(spec);
  const image = local ? local[2]! : spec;
  const tag = parseImageTag(tryParseReference(image)?.tag ?? '');
  return {
    image,
    engine: local ? (local[1] as EngineName) : undefined,
    arch: tag?.arch,
    target: tag?.target,
    gccVersions: gcc ? [gcc] : tag?.gccVersions,
  };
}

function pairs(kernels: VerifyKernel[], images: ImageUnderTest[], entries: IndexEntry[], tag: string): { kernel: VerifyKernel; candidate: Candidate | string }[] {
  if (images.length === 0) return kernels.map((kernel) => ({ kernel, candidate: pickFromIndex(kernel, entries, tag) }));
  return kernels.flatMap((kernel) => {
    const candidates = images.flatMap((img): (Candidate | string)[] => {
      const c = candidateForImage(kernel, img);
      return c === undefined ? [] : [c];
    });
    return candidates.length ? candidates.map((candidate) => ({ kernel, candidate })) : [{ kernel, candidate: `none of the images given is for ${kernel.arch} and target ${kernel.target}` }];
  });
}

function print(out: Output, rows: VerifyRow[], format: 'text' | 'json' | 'github'): void {
  if (format === 'json') {
    out.json(rows);
    return;
  }
  if (format === 'github') {
    for (const r of rows) {
      const where = `kernel ${r.kernel} (${r.arch}) with ${r.image} gcc ${r.gcc}`;
      if (r.verdict === 'fail') out.result(githubAnnotation('error', `${where}: ${r.message}${r.errors.length ? `\n${r.errors.join('\n')}` : ''}`, { title: 'verify' }));
      else out.result(githubAnnotation('notice', `${where}: ${r.verdict}: ${r.message}`, { title: 'verify' }));
    }
    return;
  }
  const table = [['KERNEL', 'ARCH', 'IMAGE', 'GCC', 'VERDICT', 'SECONDS']];
  for (const r of rows) table.push([r.kernel, r.arch, r.image, r.gcc, r.verdict, r.seconds.toFixed(1)]);
  out.result(formatTable(table));
  for (const r of rows) {
    out.result(`  ${r.kernel} ${r.arch}: ${r.verdict}: ${r.message}`);
    if (r.verdict !== 'pass') for (const line of r.errors) out.result(`    | ${line}`);
  }
  const failed = rows.filter((r) => r.verdict === 'fail').length;
  const skipped = rows.filter((r) => r.verdict === 'skipped').length;
  out.result(`${rows.length} build(s): ${rows.length - failed - skipped} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
}
