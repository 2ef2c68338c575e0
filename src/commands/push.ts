import { Option, type Command } from 'commander';
import { runPush, type PushResult } from '../app/push.js';
import { registryAccess } from '../app/registry-client.js';
import { loadRepo } from '../app/repo.js';
import type { EngineName } from '../adapters/engines/detect.js';
import { formatTable, type Output } from '../util/output.js';
import { action, collect, type Streams } from './context.js';
import { parseJobs, parsePairs } from './shared-options.js';

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
    .option('--insecure <host>', 'registry spoken to over plain HTTP (loopback ones always are), repeatable', collect)
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Per image: skip when its content tag exists (only "not found" counts as absent), else build, check, push
<target>-<arch>_gcc…-<version> for every version; then <target>_gcc…-<version> OCI indexes for image sets with
both arches; then copy by digest to every other repository. A failed image does not stop the others.
Example: builder-images push --repo 127.0.0.1:5000/builders --engine buildah`,
    )
    .action(
      action<PushCliOptions>(async (opts, ctx, args) => {
        const repo = await loadRepo(ctx.cwd, ctx.configPath);
        const { client } = registryAccess(repo, { insecure: opts.insecure, debug: ctx.out.debug, idleTimeoutMs: ctx.idleTimeoutMs });
        const repositories = [...(opts.repo ?? []), ...((opts as { registry?: string[] }).registry ?? [])];
        const result = await runPush(repo, client, {
          repositories: repositories.length ? repositories : repo.config.repositories,
          engine: (opts.engine ?? repo.config.engine) as EngineName | 'auto',
          scheme: opts.scheme ?? repo.config.tagScheme,
          versions: opts.version ?? repo.config.versions,
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
        if (opts.json) ctx.out.json(result);
        else printSummary(ctx.out, result, Boolean(opts.dryRun));
        return result.ok ? 0 : 1;
      }, streams),
    );
}

function printSummary(out: Output, r: PushResult, dryRun: boolean): void {
  if (r.images.length) {
    const rows = [['IMAGE', 'ARCH', 'STATUS', 'DIGEST', 'NOTE']];
    for (const i of r.images) rows.push([i.tag, i.arch, i.status, i.digest?.slice(0, 19) ?? '-', i.message ?? '']);
    out.result(formatTable(rows));
  }
  if (r.indexes.length) {
    const rows = [['INDEX', 'STATUS', 'DIGEST', 'NOTE']];
    for (const i of r.indexes) rows.push([i.tag, i.status, i.digest?.slice(0, 19) ?? '-', i.message ?? '']);
    out.result(`\n${formatTable(rows)}`);
  }
  for (const c of r.copies) out.result(`copied to ${c.repository}: ${c.tags} tag(s)${c.failed.length ? `, ${c.failed.length} failed: ${c.failed.join('; ')}` : ''}`);
  const count = (s: string) => r.images.filter((i) => i.status === s).length;
  const failed = count('failed') + r.indexes.filter((i) => i.status === 'failed').length;
  out.result(
    dryRun
      ? `\nplan: ${count('would-build')} to build, ${count('would-skip')} up to date, ${r.indexes.filter((i) => i.status === 'would-push').length} index(es) to push (dry run: nothing was touched)`
      : `\n${count('pushed')} built and pushed, ${count('skipped')} skipped (up to date), ${failed} failed, ${r.indexes.filter((i) => i.status === 'pushed').length} index(es) pushed`,
  );
}
