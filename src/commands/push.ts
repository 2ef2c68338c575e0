import { Option, type Command } from 'commander';
import { join, resolve } from 'node:path';
import { checkSigningKey, signPublished, type SignResult } from '../app/sign.js';
import { attestPublished } from '../app/attest.js';
import { reproduceBeforePush } from '../app/push-reproduce.js';
import { VERSION } from '../version.js';
import { runPush, type PushResult, type VerifyHook } from '../app/push.js';
import { registryAccess } from '../app/registry-client.js';
import { loadRepo, type Repo } from '../app/repo.js';
import { kernelSets, loadKernels, verifyBuiltImage, type RunVerifyOptions } from '../app/verify.js';
import { bootOptionsFrom, registerBootOptions } from './verify-boot.js';
import { UsageError } from '../errors.js';
import type { BuildSpec } from '../app/verify-build.js';
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
  flow?: 'driverkit' | 'probe';
  boot?: boolean;
  kernelImage?: string;
  bootTimeout?: string;
  bootAccel?: 'auto' | 'kvm' | 'tcg';
  sign?: string;
  attest?: boolean;
  reproduce?: boolean;
  signatureStore: string;
  lookasideUrl?: string;
}

export function register(program: Command, streams: Streams): void {
  const command = program
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
    .option('--reproduce', 'first build every image the push would build twice and compare; push only when each gives one digest')
    .option('--attest', 'attach an SPDX SBOM and SLSA provenance to every image built and pushed (OCI artifacts referring to it)')
    .option('--sign <key>', 'sign every published manifest and index (simple signing, gpg key id or fingerprint) into the lookaside store')
    .option('--signature-store <dir>', 'lookaside directory --sign writes (<repo>@sha256=<hex>/signature-N)', '.cache/signatures')
    .option('--lookaside-url <url>', 'where users read the store from, for the printed registries.d snippet (default: file:// of the directory)')
    .option('--verify [headers...]', 'before publishing, build a kernel module with each built image against these kernel headers (as verify does; no sources: config verify)')
    .addOption(new Option('--flow <flow>', "with --verify: driverkit runs the driver builder's own steps (curl, cmake, make driver, strip, modinfo); probe builds the built-in Kbuild probe").choices(['driverkit', 'probe']).default('driverkit'));
  // --boot (with --verify): the built module must also load in its kernel booted in qemu, as `verify --boot`.
  registerBootOptions(command);
  command
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
        if (opts.sign && !opts.dryRun) await checkSigningKey(opts.sign);
        if (opts.reproduce && !opts.dryRun && !opts.manifestsOnly) {
          const repositoryList = repositories.length ? repositories : repo.config.repositories;
          const outcomes = await reproduceBeforePush(repo, client, { repository: repositoryList[0] ?? '', only: args, force: Boolean(opts.force), engine: (opts.engine ?? repo.config.engine) as EngineName | 'auto', buildArgs: parsePairs(opts.buildArg, '--build-arg'), builders: { ...repo.config.builders, ...parsePairs(opts.builder, '--builder') }, onProgress: ctx.out.progress });
          const differing = outcomes.filter((o) => o.error || o.reproduce?.reproducible !== true);
          for (const o of outcomes) ctx.out.progress(`reproduce: ${o.file} (${o.platform}): ${o.error ?? (o.reproduce?.reproducible ? `one digest ${o.digest ?? ''}` : `${o.digest ?? '?'} then ${o.reproduce?.secondDigest ?? '?'}; ${o.reproduce?.files.map((f) => `${f.path} (${f.differs.join(', ')})`).slice(0, 20).join('; ') ?? ''}`)}`);
          if (differing.length) {
            ctx.out.result(`push --reproduce: ${differing.length} image(s) did not build reproducibly (build --reproduce lists every file); nothing was pushed`);
            return 1;
          }
        }
        if (opts.boot && !opts.verify) throw new UsageError('--boot goes with --verify: the module it boots is the one verify builds');
        const boot = bootOptionsFrom(opts, { cwd: ctx.cwd, cacheDir: join(repo.root, '.cache', 'kernels'), onProgress: ctx.out.progress });
        const verify = opts.verify && !opts.dryRun ? await prepareVerify(opts.verify, repo, insecure, ctx.out.progress, opts.flow ?? 'driverkit', boot) : undefined;
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
        const finalRepositories = repositories.length ? repositories : repo.config.repositories;
        const attested = opts.attest && !opts.dryRun && finalRepositories[0]
          ? await attestPublished(repo, client, result, { repository: finalRepositories[0], buildArgs: parsePairs(opts.buildArg, '--build-arg'), engine: opts.engine ?? repo.config.engine, toolVersion: VERSION, onProgress: ctx.out.progress })
          : undefined;
        const signed = opts.sign && !opts.dryRun ? await signPublished(result, finalRepositories, { key: opts.sign, store: resolve(ctx.cwd, opts.signatureStore), lookasideUrl: opts.lookasideUrl, onProgress: ctx.out.progress }) : undefined;
        if (opts.json) ctx.out.json({ ...result, ...(signed ? { signatures: signed } : {}), ...(attested ? { attestations: attested } : {}) });
        else {
          printSummary(ctx.out, result, Boolean(opts.dryRun));
          if (attested) for (const a of attested) ctx.out.result(`attested ${a.tag}: SBOM ${a.sbom.descriptor.digest.slice(0, 19)} (${a.packages} packages), provenance ${a.provenance.descriptor.digest.slice(0, 19)}`);
          if (signed) printSigned(ctx.out, signed);
        }
        await appendStepSummary(markdownSummary(result, Boolean(opts.dryRun)));
        return result.ok ? 0 : 1;
      }, streams),
    );
}

/** Stage the kernels once for every image of the push; the hook builds the probe module with each built image. */
async function prepareVerify(given: string[] | true, repo: Repo, insecure: string[], onProgress: (line: string) => void, flow: 'driverkit' | 'probe', afterBuild?: RunVerifyOptions['afterBuild']): Promise<{ hook: VerifyHook; cleanup: () => Promise<void> }> {
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
  const build: BuildSpec = flow === 'driverkit' ? { kind: 'flow', flow: 'driverkit' } : { kind: 'probe' };
  const hook: VerifyHook = ({ image, engine, name, onProgress: log }) =>
    verifyBuiltImage(kernels, { image, engine, arch: name.arch, target: name.target, gccVersions: name.gccVersions }, { engine, insecureRegistries: insecure, onProgress: log, build, afterBuild, paths: { cwd: repo.root, cacheDir: join(repo.root, '.cache', 'headers') } });
  return { hook, cleanup: async () => void (await Promise.all(loaded.map((l) => l.cleanup()))) };
}

function printSigned(out: Output, s: SignResult): void {
  const written = s.signatures.filter((x) => x.written).length;
  out.result(`\nsigned with ${s.fingerprint}: ${written} new signature(s), ${s.signatures.length - written} already in the store`);
  out.result(`registries.d snippet (e.g. /etc/containers/registries.d/builder-images.yaml):\n${s.registriesD}`);
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
