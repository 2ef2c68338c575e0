import { Option, type Command } from 'commander';
import { join } from 'node:path';
import { runPush, type PushResult, type VerifyHook } from '../app/push.js';
import { registryAccess } from '../app/registry-client.js';
import { loadRepo, type Repo } from '../app/repo.js';
import { kernelSets, loadKernels, verifyBuiltImage } from '../app/verify.js';
import type { EngineName } from '../adapters/engines/detect.js';
import { formatTable, type Output } from '../util/output.js';
import { appendStepSummary, markdownTable } from '../util/step-summary.js';
import { action, collect, type Streams, insecureOption } from './context.js';
import { checkRepository, checkVersionTag, parseJobs, parsePairs } from './shared-options.js';

interface PushCliOptions {
  repo?: string[];
  engine?: string;
  scheme?: 'tree' | 'commit';
  version?: string[];
  ref?: boolean;
  jobs?: string;
  force?: boolean;
  dryRun?: boolean;
  allowDirty?: boolean;
  manifestsOnly?: boolean;
  buildArg?: string[];
  builder?: string[];
  insecure?: string[];
  json?: boolean;
  verify?: string[] | true;
}

export function register(program: Command, streams: Streams): void {
  program
    .command('push')
    .description('Build, check and publish changed images per arch and as multi-arch indexes')
    .argument('[dockerfiles...]', 'only these images (file names or paths in images/); default: all')
    .option('--repo <repository>', 'repository to publish to, repeatable: the first is built and pushed, the others filled by copy (default: config repositories)', collect)
    .option('--registry <repository>', 'same as --repo', collect)
    .addOption(new Option('--engine <engine>', 'build engine (default: config engine, i.e. auto)').choices(['auto', 'docker', 'buildah', 'podman']))
    .addOption(new Option('--scheme <scheme>', 'content tag scheme (default: config tagScheme)').choices(['tree', 'commit']))
    .option('--version <version>', 'extra version tag, repeatable (default: config versions, i.e. latest)', collect)
    .option('--ref', 'also tag with the branch or git tag name')
    .option('-j, --jobs <n>', 'images built at once', '2')
    .option('--force', 'rebuild and push even when the content tag exists')
    .option('--dry-run', 'print the plan (build, skip, index) and touch nothing')
    .option('--allow-dirty', 'push images with uncommitted inputs (only to a loopback registry)')
    .option('--manifests-only', 'build nothing: assemble the multi-arch indexes from what the registry holds')
    .option('--build-arg <KEY=VALUE>', 'build argument, repeatable (added to config buildArgs)', collect)
    .option('--builder <PLATFORM=NAME>', 'docker: remote BuildKit builder for a platform, repeatable', collect)
    .addOption(insecureOption())
    .option('--json', 'print the result as JSON')
    .option('--verify [headers...]', 'before publishing, build a kernel module with each built image against these kernel headers (as verify does; no sources: config verify)')
    .addHelpText(
      'after',
      `
Per image: skip when its content tag exists (only "not found" counts as absent), else build, check, push
<target>-<arch>_gcc…-<version> for every version; then <target>_gcc…-<version> OCI indexes for image sets with
both arches; then copy by digest to every other repository. A failed image does not stop the others.
Example:
  builder-images push --repo 127.0.0.1:5000/builders --engine buildah`,
    )
    .action(
      action<PushCliOptions>(async (opts, ctx, args) => {
        const repo = await loadRepo(ctx.cwd, ctx.configPath);
        const { client, insecureRegistries: insecure } = registryAccess(repo, { insecure: opts.insecure, debug: ctx.out.debug, idleTimeoutMs: ctx.idleTimeoutMs });
        const repositories = [...(opts.repo ?? []), ...((opts as { registry?: string[] }).registry ?? [])].map((r) => checkRepository(r));
        const verify = opts.verify && !opts.dryRun ? await prepareVerify(opts.verify, repo, insecure, ctx.out.progress) : undefined;
        const result = await runPush(repo, client, {
          verify: verify?.hook,
          repositories: repositories.length ? repositories : repo.config.repositories,
          engine: (opts.engine ?? repo.config.engine) as EngineName | 'auto',
          scheme: opts.scheme ?? repo.config.tagScheme,
          versions: opts.version?.map((v) => checkVersionTag(v, '--version')) ?? repo.config.versions,
          withRef: Boolean(opts.ref),
          jobs: parseJobs(opts.jobs, 2),
          force: Boolean(opts.force),
          dryRun: Boolean(opts.dryRun),
          allowDirty: Boolean(opts.allowDirty),
          manifestsOnly: Boolean(opts.manifestsOnly),
          only: args,
          buildArgs: parsePairs(opts.buildArg, '--build-arg'),
          builders: { ...repo.config.builders, ...parsePairs(opts.builder, '--builder') },
          onProgress: ctx.out.progress,
        });
        await verify?.cleanup();
        if (opts.json) ctx.out.json(result);
        else printSummary(ctx.out, result, Boolean(opts.dryRun));
        await appendStepSummary(markdownSummary(result, Boolean(opts.dryRun)));
        return result.ok ? 0 : 1;
      }, streams),
    );
}

/** Stage the kernels once for every image of the push; the hook builds the probe module with each built image. */
async function prepareVerify(given: string[] | true, repo: Repo, insecure: string[], onProgress: (line: string) => void): Promise<{ hook: VerifyHook; cleanup: () => Promise<void> }> {
  const sets = kernelSets(given === true ? undefined : given, {}, repo.config.verify);
  const loaded: Awaited<ReturnType<typeof loadKernels>>[] = [];
  try {
    for (const set of sets) loaded.push(await loadKernels(set.sources, set.overrides, { cwd: repo.root, cacheDir: join(repo.root, '.cache', 'headers'), onProgress }));
  } catch (err) {
    await Promise.all(loaded.map((l) => l.cleanup()));
    throw err;
  }
  const kernels = loaded.flatMap((l) => l.kernels);
  for (const k of kernels) onProgress(`verify: kernel ${k.release} (${k.arch}, target ${k.target}) from ${k.releaseFrom}`);
  const hook: VerifyHook = ({ image, engine, name, onProgress: log }) =>
    verifyBuiltImage(kernels, { image, engine, arch: name.arch, target: name.target, gccVersions: name.gccVersions }, { engine, insecureRegistries: insecure, onProgress: log });
  return { hook, cleanup: async () => void (await Promise.all(loaded.map((l) => l.cleanup()))) };
}

/** A failure's cause without the reference it was about: `<repo>:<tag>: cannot reach …` -> `cannot reach …`. */
function causeOf(message: string): string {
  return message.replace(/^[^\s/]+(?:\/[^\s/]+)+: /, '');
}

/**
 * The causes several rows failed with (an unreachable registry fails every lookup alike), numbered: those rows
 * say `[n]` and the cause is printed once below the tables instead of on each of them.
 */
function sharedCauses(r: PushResult): Map<string, { note: number; rows: number }> {
  const counts = new Map<string, number>();
  for (const row of [...r.images, ...r.indexes]) if (row.status === 'failed' && row.message) counts.set(causeOf(row.message), (counts.get(causeOf(row.message)) ?? 0) + 1);
  const shared = new Map<string, { note: number; rows: number }>();
  for (const [cause, rows] of counts) if (rows > 1) shared.set(cause, { note: shared.size + 1, rows });
  return shared;
}

type Notes = ReturnType<typeof sharedCauses>;

function noteOf(message: string | undefined, notes: Notes): string {
  if (!message) return '';
  const shared = notes.get(causeOf(message));
  return shared ? `[${shared.note}]` : message;
}

function noteLines(notes: Notes): string[] {
  return [...notes].map(([cause, { note, rows }]) => `[${note}] ${rows} rows: ${cause}`);
}

function imageRows(r: PushResult, notes: Notes = new Map()): string[][] {
  return [['IMAGE', 'ARCH', 'STATUS', 'DIGEST', 'NOTE'], ...r.images.map((i) => [i.tag, i.arch, i.status, i.digest?.slice(0, 19) ?? '-', noteOf(i.message, notes)])];
}

function indexRows(r: PushResult, notes: Notes = new Map()): string[][] {
  return [['INDEX', 'STATUS', 'DIGEST', 'NOTE'], ...r.indexes.map((i) => [i.tag, i.status, i.digest?.slice(0, 19) ?? '-', noteOf(i.message, notes)])];
}

function copyLines(r: PushResult): string[] {
  return r.copies.map((c) => `copied to ${c.repository}: ${c.tags} tag(s)${c.failed.length ? `, ${c.failed.length} failed: ${c.failed.join('; ')}` : ''}`);
}

/** The one line a reader needs: what happened (or would), failures always counted, in a dry run too. */
export function summaryLine(r: PushResult, dryRun: boolean): string {
  const images = (s: string) => r.images.filter((i) => i.status === s).length;
  const indexes = (s: string) => r.indexes.filter((i) => i.status === s).length;
  const failed = images('failed') + indexes('failed');
  if (dryRun) {
    const failures = failed ? `, ${failed} could not be planned (see NOTE)` : '';
    return `dry run, nothing was touched: would build ${images('would-build')}, ${images('would-skip')} up to date, would push ${indexes('would-push')} index(es)${failures}`;
  }
  return `${images('pushed')} built and pushed, ${images('skipped')} skipped (up to date), ${failed} failed, ${indexes('pushed')} index(es) pushed`;
}

// Shared causes are folded only in a dry run: a real push's failures are each image's own (build, check) story.
function printSummary(out: Output, r: PushResult, dryRun: boolean): void {
  const notes = dryRun ? sharedCauses(r) : new Map();
  if (r.images.length) out.result(formatTable(imageRows(r, notes)));
  if (r.indexes.length) out.result(`\n${formatTable(indexRows(r, notes))}`);
  if (notes.size) out.result(`\n${noteLines(notes).join('\n')}`);
  for (const line of copyLines(r)) out.result(line);
  out.result(`\n${summaryLine(r, dryRun)}`);
}

function markdownSummary(r: PushResult, dryRun: boolean): string {
  const notes = dryRun ? sharedCauses(r) : new Map();
  const parts = [`### builder-images push${dryRun ? ' (dry run)' : ''}`, '', `**${summaryLine(r, dryRun)}**`];
  if (r.images.length) parts.push('', markdownTable(imageRows(r, notes)));
  if (r.indexes.length) parts.push('', markdownTable(indexRows(r, notes)));
  if (notes.size) parts.push('', ...noteLines(notes).flatMap((line) => [line, '']).slice(0, -1));
  for (const line of copyLines(r)) parts.push('', line);
  return parts.join('\n');
}
