import { Option, type Command } from 'commander';
import { pickEngine, type EngineName } from '../adapters/engines/detect.js';
import { openImageSource } from '../adapters/sources/index.js';
import { allTargets, checkTargets, DEFAULT_MAX_ENTRIES, explicitTarget, type Expectation, type TargetCheck, type TreeLimits } from '../app/check.js';
import { registryAccess } from '../app/registry-client.js';
import { loadRepo } from '../app/repo.js';
import { isArch, parseDockerfileName } from '../core/names.js';
import { parsePlatform, type Platform } from '../core/oci.js';
import { parseGccVersion } from '../core/version.js';
import type { ContractReport } from '../core/contract-rules.js';
import { UsageError } from '../errors.js';
import { ZstdWindowError } from '../adapters/compress/zstd.js';
import { githubAnnotation } from '../util/annotations.js';
import { formatTable, type Output } from '../util/output.js';
import { appendStepSummary, markdownTable } from '../util/step-summary.js';
import { checkRepository, checkVersionTag } from './shared-options.js';
import { action, collect, type Streams, insecureOption, formatOption } from './context.js';

interface CheckOptions {
  all?: boolean;
  repo?: string;
  tag?: string;
  name?: string;
  gcc?: string[];
  arch?: string;
  platform?: string;
  exec?: boolean;
  engine?: string;
  format: 'text' | 'json' | 'github';
  json?: boolean;
  insecure?: string[];
  maxEntries?: string;
  zstdWindowMib?: string;
  contract?: 'driverkit' | 'none';
}

export function register(program: Command, streams: Streams): void {
  program
    .command('check')
    .description("Prove every declared /usr/bin/gcc-X.Y.Z and the driver builder's tools exist in built images, read from their layers")
    .argument('[images...]', 'registry reference, oci:DIR[:REF], docker-archive:FILE[:TAG], or docker:/podman:/buildah:IMAGE')
    .option('--all', 'check every image images/ defines, under the configured repository and tag')
    .option('--repo <repository>', 'with --all: the repository (default: the first configured one)')
    .option('--tag <version>', 'with --all: the version tag (default: the first configured version, e.g. latest)')
    .option('--name <dockerfile>', 'what the image must hold, from a builder Dockerfile name')
    .option('--gcc <X.Y.Z>', 'a GCC the image must hold, repeatable (when no name says it)', collect)
    .option('--arch <arch>', 'the arch the image is for: x86_64 or aarch64')
    .option('--platform <os/arch>', 'which platform of a multi-arch index to check')
    .option('--exec', 'also run gcc-X.Y.Z -dumpfullversion inside the image through a build engine')
    .addOption(new Option('--contract <contract>', "the driver builder's contract to prove (default: builder-images.yaml check.contract, driverkit)").choices(['driverkit', 'none']))
    .addOption(new Option('--engine <engine>', 'engine for --exec').choices(['auto', 'docker', 'podman', 'buildah']))
    .addOption(formatOption())
    .option('--json', 'same as --format json')
    .addOption(insecureOption())
    .option('--max-entries <n>', `refuse an image with more tar entries than this, all layers together (default ${DEFAULT_MAX_ENTRIES})`)
    .option('--zstd-window-mib <n>', "largest zstd window a layer may need, in MiB (default 128, the zstd tool's; at most 2048)")
    .addHelpText(
      'after',
      `
Reads the image straight from its layers (no daemon): every declared /usr/bin/gcc-X.Y.Z must resolve, through
its symlink chain, to an executable ELF for the image's architecture; undeclared gcc-X.Y.Z links are errors.
The driver builder's contract (check.contract in builder-images.yaml, or --contract): every command driverkit's
scripts run for the image's target resolves on the image's PATH to an executable for its arch (cc and c++ for
cmake, curl and CA certificates for https, ar and xz for .deb headers, rpm2cpio and cpio for .rpm…); a missing
one is named with the package that ships it in the image's distro (from its /etc/os-release).
A reference's tag (<target>-<arch>_gcc…-<version>) says what it must hold; otherwise use --name or --gcc.
Examples:
  builder-images check 127.0.0.1:5000/builders:any-aarch64_gcc12.0.0-latest
  builder-images check --all --tag 1a2b3c4
  builder-images check oci:./out --name builder-any-x86_64_gcc12.0.0.Dockerfile --exec`,
    )
    .action(
      action<CheckOptions>(async (opts, ctx, args) => {
        const format = opts.json ? 'json' : opts.format;
        const repo = await loadRepo(ctx.cwd, ctx.configPath);
        if (opts.contract) repo.config.check = { ...repo.config.check, contract: opts.contract };
        const { client, insecureRegistries } = registryAccess(repo, { insecure: opts.insecure, debug: ctx.out.debug, idleTimeoutMs: ctx.idleTimeoutMs });
        const expect = expectationFromFlags(opts);
        const targets = opts.all
          ? allTargets(repo, opts.repo === undefined ? repo.config.repositories[0]! : checkRepository(opts.repo), opts.tag === undefined ? (repo.config.versions[0] ?? 'latest') : checkVersionTag(opts.tag))
          : args.map((spec) => {
              // What the spec names is checked first (a reference that does not parse, a docker: without a name):
              // that is the problem to report, not what its tag fails to say.
              openImageSource(spec, client, ctx.cwd);
              return explicitTarget(repo, spec, expect);
            });
        if (targets.length === 0) throw new UsageError('name an image to check, or use --all');
        const checks = await checkTargets(targets, {
          client,
          cwd: ctx.cwd,
          platform: opts.platform ? toPlatform(opts.platform) : undefined,
          engine: opts.exec ? await pickEngine((opts.engine ?? repo.config.engine) as EngineName | 'auto') : undefined,
          insecureRegistries,
          onProgress: ctx.out.progress,
          limits: layerLimits(opts),
        });
        for (const c of checks) if (c.error) c.error += hintFor(c.failure, opts.zstdWindowMib !== undefined);
        print(ctx.out, checks, format);
        await appendStepSummary(markdownVerdicts(checks));
        return checks.every((c) => c.ok) ? 0 : 1;
      }, streams),
    );
}

function positiveInteger(flag: string, text: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1 || n > max) throw new UsageError(`${flag} must be a whole number from 1 to ${max} (got "${text}")`);
  return n;
}

function layerLimits(opts: CheckOptions): TreeLimits {
  return {
    maxEntries: opts.maxEntries === undefined ? undefined : positiveInteger('--max-entries', opts.maxEntries),
    maxZstdWindow: opts.zstdWindowMib === undefined ? undefined : positiveInteger('--zstd-window-mib', opts.zstdWindowMib, 2048) * 2 ** 20,
  };
}

function toPlatform(text: string): Platform {
  try {
    return parsePlatform(text);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function expectationFromFlags(opts: CheckOptions): Expectation | undefined {
  if (opts.name) {
    const name = parseDockerfileName(opts.name.split('/').pop()!);
    if (!name) throw new UsageError(`--name ${opts.name} is not a builder Dockerfile name (builder-<target>-<arch>_gcc<X.Y.Z>….Dockerfile)`);
    return { gccVersions: name.gccVersions, arch: name.arch, target: name.target };
  }
  if (opts.gcc?.length) {
    const bad = opts.gcc.find((g) => !parseGccVersion(g));
    if (bad) throw new UsageError(`--gcc ${bad} is not a full X.Y.Z version`);
    if (opts.arch && !isArch(opts.arch)) throw new UsageError(`--arch must be x86_64 or aarch64 (got "${opts.arch}")`);
    return { gccVersions: opts.gcc, arch: opts.arch as Expectation['arch'] };
  }
  return undefined;
}

/** What the user can do about a failure, in this command's words (the adapters' errors carry only data). */
function hintFor(failure: unknown, windowGiven: boolean): string {
  for (let err = failure; err instanceof Error; err = err.cause) {
    if (err instanceof ZstdWindowError) {
      return `${windowGiven ? '' : " (the zstd tool's default)"}: allow it with --zstd-window-mib ${Math.ceil(err.window / 2 ** 20)} if the image is trusted`;
    }
  }
  return '';
}

/** Everything wrong with one checked image, one sentence each. */
function problemsOf(c: TargetCheck): string[] {
  return [
    ...(c.error ? [c.error] : []),
    ...c.report.gccs.filter((g) => g.verdict === 'error').map((g) => g.message!),
    ...c.report.extra.map((e) => e.message),
    ...contractFailures(c.report.contract).map((f) => f.message!),
    ...(c.exec ?? []).filter((e) => e.verdict === 'error').map((e) => e.message),
  ];
}

function contractFailures(contract: ContractReport | null | undefined) {
  return (contract?.findings ?? []).filter((f) => f.verdict === 'error');
}

/** One line on the contract: what was proven, on which distro, and what is missing. */
function contractLine(contract: ContractReport): string {
  const failed = contractFailures(contract);
  const scope = [...contract.flows.map((f) => (f === 'kmod' && contract.families.length ? `kmod (${contract.families.join(', ')})` : f))].join(', ');
  const distro = contract.distro ? contract.distro.name : 'unknown distro (no os-release)';
  const met = `${contract.findings.length - failed.length} of ${contract.findings.length} met`;
  return `driverkit contract, ${scope}, on ${distro}: ${met}${failed.length ? `; missing ${failed.map((f) => f.need).join(', ')}` : ''}`;
}

/** The packages that ship what is missing, once each (what to add to the Dockerfile's install line). */
function missingPackages(contract: ContractReport): string[] {
  return [...new Set(contractFailures(contract).flatMap((f) => (f.package ? [f.package] : [])))];
}

function verdictLine(checks: TargetCheck[]): string {
  const failed = checks.filter((c) => !c.ok).length;
  return `${checks.length} image(s) checked: ${checks.length - failed} ok, ${failed} failed`;
}

/** The job summary: one row per image and platform, failures first. */
function markdownVerdicts(checks: TargetCheck[]): string {
  const rows = [['IMAGE', 'PLATFORM', 'DIGEST', 'VERDICT', 'GCC', 'DRIVER BUILDER', 'PROBLEMS']];
  for (const c of [...checks].sort((a, b) => Number(a.ok) - Number(b.ok))) {
    const gccs = c.report.gccs.map((g) => `${g.gcc} ${g.verdict}`).join(', ');
    rows.push([c.description, c.platform || '-', c.digest ? c.digest.slice(0, 19) : '-', c.ok ? 'ok' : 'failed', gccs || '-', contractCell(c.report.contract), problemsOf(c).join('; ')]);
  }
  return [`### builder-images check`, '', `**${verdictLine(checks)}**`, '', markdownTable(rows)].join('\n');
}

function contractCell(contract: ContractReport | null | undefined): string {
  if (!contract) return '-';
  const failed = contractFailures(contract);
  if (!failed.length) return `ok (${contract.findings.length})`;
  const pkgs = missingPackages(contract);
  return `missing ${failed.map((f) => f.need).join(', ')}${pkgs.length ? ` (install ${pkgs.join(' ')})` : ''}`;
}

function print(out: Output, checks: TargetCheck[], format: 'text' | 'json' | 'github'): void {
  if (format === 'json') {
    out.json(
      checks.map((c) => ({
        image: c.description,
        digest: c.digest,
        platform: c.platform,
        arch: c.report.arch,
        dockerfile: c.dockerfile ?? null,
        ok: c.ok,
        error: c.error ?? null,
        gccs: c.report.gccs,
        undeclared: c.report.extra,
        contract: c.report.contract ?? null,
        exec: c.exec ?? null,
      })),
    );
    return;
  }
  for (const c of checks) {
    const problems = problemsOf(c);
    if (format === 'github') {
      for (const p of problems) out.result(githubAnnotation('error', `${c.description}: ${p}`, { file: c.dockerfile, line: c.dockerfile ? 1 : undefined, title: 'check' }));
      continue;
    }
    out.result(`== ${c.description}`);
    if (c.report.gccs.length) {
      const rows = [['GCC', 'PATH', 'RESOLVES TO', 'VERDICT']];
      for (const g of c.report.gccs) rows.push([g.gcc, g.path, g.resolved ?? '-', g.verdict]);
      out.result(formatTable(rows));
      for (const g of c.report.gccs) if (g.aliases.length) out.result(`  gcc ${g.gcc} is also reached as ${g.aliases.join(', ')}`);
    }
    if (c.report.contract) printContract(out, c.report.contract);
    for (const e of c.exec ?? []) out.result(`  exec gcc-${e.gcc}: ${e.verdict}: ${e.message}`);
    for (const p of problems) out.result(`  error: ${p}`);
  }
  out.result(verdictLine(checks));
}

function printContract(out: Output, contract: ContractReport): void {
  out.result(`  ${contractLine(contract)}`);
  const failed = contractFailures(contract);
  if (!failed.length) return;
  const rows = [['MISSING', 'PACKAGE', 'NEEDED BY']];
  for (const f of failed) rows.push([f.need, f.package ?? '?', f.for.join(', ')]);
  out.result(formatTable(rows).split('\n').map((l) => `  ${l}`).join('\n'));
  const pkgs = missingPackages(contract);
  if (pkgs.length) out.result(`  install: ${pkgs.join(' ')}`);
}
