import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { indexTooLarge, MAX_INDEX_BYTES, parseIndex, IndexParseError, type IndexEntry } from '../core/index-schema.js';
import { archOfKernelRelease, defaultGccForKernel, parseKernelRelease } from '../core/kernel.js';
import { ANY_TARGET, platformOfArch, type Arch } from '../core/names.js';
import { selectBuilder, selectionMatrix, type Selection } from '../core/select.js';
import { indexTargets } from '../core/select-diff.js';
import { formatGccVersion, widenVersion, type GccVersion } from '../core/version.js';
import { CliError, UsageError } from '../errors.js';
import { formatTable, type Output } from '../util/output.js';
import { registryAccess } from '../app/registry-client.js';
import { loadRepo } from '../app/repo.js';
import { readRegistryIndex } from '../app/registry-index.js';
import { DRIVERKIT_TARGETS, driverkitFlags, isDriverkitTarget, shellWords } from '../core/driverkit.js';
import { action, type CommandContext, type Streams, insecureOption } from './context.js';
import { runSelectDiff, type DiffFormat } from './select-diff.js';
import { runSelectKernels } from './select-kernels.js';

interface SelectOptions {
  target?: string;
  arch?: string;
  tag: string;
  index: string;
  gcc?: string;
  kernelRelease?: string;
  json?: boolean;
  matrix?: boolean;
  fromRegistry?: string;
  insecure?: string[];
  diff?: string;
  format?: DiffFormat;
  kernels?: string;
  release?: string;
  image?: string[];
  sample?: string;
}

export function register(program: Command, streams: Streams): void {
  program
    .command('select')
    .description('Show which builder image the driver builder would pick')
    .option('--target <target>', 'build target (distro), e.g. debian, centos, amazonlinux2')
    .option('--arch <arch>', "build arch: x86_64 or aarch64 (the index's names), or driverkit's and Debian's amd64 or arm64")
    .option('--tag <tag>', 'image tag (version) to choose among', 'latest')
    .option('--index <file>', 'builder index to read', 'index.yaml')
    .option('--gcc <X.Y.Z>', 'target GCC version')
    .option('--kernel-release <release>', "kernel release; the target GCC comes from the driver builder's default table")
    .option('--json', 'print the result as JSON')
    .option('--matrix', 'for every target in the index and kernel series 2.6 … 6.x, the pick (non-exact picks marked)')
    .option('--from-registry <repository>', "network: choose among the repository's tags as the driver builder lists them, instead of --index")
    .addOption(insecureOption('with --from-registry: registry spoken to over plain HTTP (loopback ones always are), repeatable'))
    .option('--diff <git-ref>', "the --matrix picks that change between images/ at <git-ref> and the working tree (also to $GITHUB_STEP_SUMMARY)")
    .addOption(new Option('--format <format>', 'output format (markdown: with --diff or --kernels)').choices(['text', 'json', 'markdown']))
    .option('--kernels <file|url>', "for every kernel of a list (kernel-crawler's list.json, or kernels: [{release, target, arch, headers}]) the pick, and the kernels per image")
    .option('--release <regex>', 'with --kernels: only the kernels whose release matches')
    .option('--image <name...>', 'with --kernels: only the kernels sent to these images (a name, or its tag)')
    .option('--sample <n>', 'with --kernels: n kernels spread over the kernel series (deterministic)')
    .addHelpText('after', '\nExample:\n  builder-images select --target centos --arch x86_64 --kernel-release 3.10.0-1160.el7.x86_64')
    .action(
      action<SelectOptions>(async (opts, ctx) => {
        if (opts.diff) {
          const arches: Arch[] = opts.arch ? [requireArch(opts.arch, ctx.out)] : ['x86_64', 'aarch64'];
          return runSelectDiff({ diff: opts.diff, tag: opts.tag, target: opts.target, arches, format: opts.json ? 'json' : (opts.format ?? 'text') }, ctx);
        }
        if (opts.kernels) {
          const entries = await loadEntries(opts, ctx);
          return runSelectKernels(entries, { ...opts, kernels: opts.kernels, arch: opts.arch ? requireArch(opts.arch, ctx.out) : undefined }, ctx);
        }
        if (opts.format === 'markdown') throw new UsageError('--format markdown goes with --diff or --kernels');
        if (opts.format === 'json') opts.json = true;
        const entries = await loadEntries(opts, ctx);
        if (opts.matrix) return printMatrix(entries, opts, ctx.out);

        if (!opts.target) throw new UsageError('--target is required (or use --matrix)');
        checkTarget(opts.target, entries, opts.fromRegistry ?? opts.index, ctx.out);
        const arch = requireArch(opts.arch, ctx.out);
        const { gcc, source } = targetGcc(opts, opts.target, arch);
        const pick = selectBuilder(entries, { target: opts.target, arch, tag: opts.tag, gcc });
        if (!pick) {
          throw new CliError(`no image in ${opts.fromRegistry ?? opts.index} for target ${opts.target} (or any), arch ${arch}, tag ${opts.tag}`);
        }
        if (opts.json) {
          ctx.out.json({ image: pick.image.name, gcc: pick.gcc, reason: pick.reason, why: pick.why, targetGcc: formatGccVersion(gcc), targetGccFrom: source, driverkit: driverkitForms(opts, arch, pick) });
        } else {
          ctx.out.result(`image:  ${pick.image.name}`);
          ctx.out.result(`gcc:    ${pick.gcc} (wanted ${formatGccVersion(gcc)}, ${source})`);
          ctx.out.result(`why:    ${pick.reason}: ${pick.why}`);
          printDriverkitForms(driverkitForms(opts, arch, pick), ctx.out);
        }
        return 0;
      }, streams),
    );
}

/** The entries to choose among: the index file, or the registry's tags as the driver builder reads them. */
async function loadEntries(opts: SelectOptions, ctx: CommandContext): Promise<IndexEntry[]> {
  if (!opts.fromRegistry) return readIndex(resolve(ctx.cwd, opts.index), opts.index);
  const { client } = registryAccess(await loadRepo(ctx.cwd, ctx.configPath), { insecure: opts.insecure, debug: ctx.out.debug });
  const seen = await readRegistryIndex(client, opts.fromRegistry, [opts.tag]);
  for (const line of seen.ambiguous) ctx.out.warn(line);
  for (const u of seen.unusable) ctx.out.warn(`${opts.fromRegistry}:${u.tag}: ${u.reason}`);
  return seen.entries;
}

/** The driverkit flags that reproduce the pick, with the index file and with the registry repository. */
function driverkitForms(opts: SelectOptions, arch: Arch, pick: Selection): { index?: string[]; registry: string[] } {
  const request = { target: opts.target!, arch, tag: opts.tag, kernelRelease: opts.kernelRelease, gccVersion: opts.gcc ? pick.gcc : undefined };
  const repository = opts.fromRegistry ?? pick.image.name.slice(0, pick.image.name.lastIndexOf(':'));
  return {
    ...(opts.fromRegistry ? {} : { index: driverkitFlags(request, opts.index) }),
    registry: driverkitFlags(request, repository),
  };
}

function printDriverkitForms(forms: { index?: string[]; registry: string[] }, out: Output): void {
  if (forms.index) out.result(`driverkit (index):    ${shellWords(forms.index)}`);
  out.result(`driverkit (registry): ${shellWords(forms.registry)}`);
}

/** The index a command reads, as a usage error when missing and a failure when it does not parse. */
export async function readIndex(file: string, shown: string): Promise<IndexEntry[]> {
  let text: string;
  try {
    // Too big is refused before it is read (a file of gigabytes must not fill the memory first).
    const { size } = await stat(file);
    if (size > MAX_INDEX_BYTES) throw indexTooLarge(shown, size);
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof IndexParseError) throw new UsageError(err.message);
    throw new UsageError(`cannot read the index ${shown}: generate it with \`builder-images index\` or pass --index FILE`);
  }
  try {
    return parseIndex(text, shown);
  } catch (err) {
    if (err instanceof IndexParseError) throw new UsageError(err.message);
    throw err;
  }
}

/** The driver builder's and Debian's names for each arch, and the index's own. */
const ARCH_NAMES: Record<string, Arch> = { x86_64: 'x86_64', aarch64: 'aarch64', amd64: 'x86_64', arm64: 'aarch64' };

/** --arch as the index names it; another name for it is accepted and said which it means (stderr). */
function requireArch(name: string | undefined, out: Output): Arch {
  if (name === undefined) throw new UsageError('--arch is required: x86_64 or aarch64 (amd64 and arm64 also work)');
  const arch = Object.hasOwn(ARCH_NAMES, name) ? ARCH_NAMES[name] : undefined;
  if (!arch) throw new UsageError(`--arch must be x86_64 or aarch64 (or amd64, arm64), not "${name}"`);
  if (name !== arch) out.progress(`--arch ${name} means ${arch}: the index's name for driverkit's --architecture ${platformOfArch(arch).architecture}`);
  return arch;
}

/**
 * driverkit refuses a --target it has no builder for, so a pick for one would mislead: an unknown target is a
 * usage error. A target only the index knows (its own images, or `any`) is picked, with a warning.
 */
function checkTarget(target: string, entries: IndexEntry[], source: string, out: Output): void {
  if (isDriverkitTarget(target)) return;
  const known = indexTargets(entries);
  if (!known.includes(target) && target !== ANY_TARGET) {
    throw new UsageError(
      `--target "${target}" is neither a driverkit target (${DRIVERKIT_TARGETS.join(', ')}) nor a target of ${source} (${known.join(', ') || 'none'}): driverkit would refuse it`,
    );
  }
  out.warn(`--target ${target} is not a driverkit target: driverkit refuses it ("target must be a valid target"); showing the pick among ${source}'s images all the same`);
}

/** A kernel release that names an arch must name the build's: another's headers cannot build for this one. */
function checkKernelArch(release: string, arch: Arch): void {
  const named = archOfKernelRelease(release);
  if (!named || named.arch === arch) return;
  const swap: Record<string, string> = { amd64: 'arm64', arm64: 'amd64', x86_64: 'aarch64', aarch64: 'x86_64' };
  const counterpart = release.trim().replace(new RegExp(`${named.named}$`), swap[named.named]!);
  throw new UsageError(
    `--kernel-release ${release} is an ${named.arch} kernel, but --arch is ${arch}: pass the ${arch} kernel's release (such as ${counterpart}) or --arch ${named.arch}`,
  );
}

function targetGcc(opts: SelectOptions, target: string, arch: Arch): { gcc: GccVersion; source: string } {
  if (opts.gcc && opts.kernelRelease) throw new UsageError('give either --gcc or --kernel-release, not both');
  if (opts.gcc) {
    const gcc = widenVersion(opts.gcc);
    if (!gcc) throw new UsageError(`--gcc "${opts.gcc}" is not a version such as 12.2.0`);
    return { gcc, source: 'from --gcc' };
  }
  if (opts.kernelRelease) {
    const kernel = parseKernelRelease(opts.kernelRelease);
    if (!kernel) throw new UsageError(`--kernel-release "${opts.kernelRelease}" is not a kernel release such as 6.1.0-18-amd64`);
    checkKernelArch(opts.kernelRelease, arch);
    const rule = defaultGccForKernel(target, kernel);
    return { gcc: rule.gcc, source: `default for kernel ${opts.kernelRelease} (rule ${rule.rule})` };
  }
  throw new UsageError('give --gcc X.Y.Z or --kernel-release R');
}

function printMatrix(entries: IndexEntry[], opts: SelectOptions, out: Output): number {
  const arches: Arch[] = opts.arch ? [requireArch(opts.arch, out)] : ['x86_64', 'aarch64'];
  if (opts.target) checkTarget(opts.target, entries, opts.fromRegistry ?? opts.index, out);
  const targets = opts.target ? [opts.target] : indexTargets(entries);
  const rows = selectionMatrix(entries, targets, arches, opts.tag);
  if (opts.json) {
    out.json(rows.map((r) => ({ target: r.target, arch: r.arch, kernel: r.kernel, wanted: r.wanted, image: r.pick?.image.name ?? null, gcc: r.pick?.gcc ?? null, reason: r.pick?.reason ?? 'none', exact: r.pick?.gcc === r.wanted })));
  } else {
    const table = [['TARGET', 'ARCH', 'KERNEL', 'WANTS', 'GETS', 'HOW', 'IMAGE']];
    for (const r of rows) {
      // A fallback to the "any" image still gives the wanted GCC: only a different GCC is marked.
      const mark = r.pick?.gcc === r.wanted ? '' : ' *';
      table.push([r.target, r.arch, r.kernel, r.wanted, (r.pick?.gcc ?? '-') + mark, r.pick?.reason ?? 'none', r.pick?.image.name ?? '(no image)']);
    }
    out.result(formatTable(table));
    const inexact = rows.filter((r) => r.pick?.gcc !== r.wanted).length;
    out.result(`\n${rows.length} pick(s), ${inexact} without the wanted GCC (marked *)`);
  }
  return 0;
}
