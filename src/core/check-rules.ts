/**
 * What `check` proves about a built image, given its merged file tree (or a view of its mounted root). Pure.
 *
 * For every GCC X.Y.Z the name declares: /usr/bin/gcc-X.Y.Z exists; a symlink chain resolves (relative links
 * against their directory, absolute ones against the image root, at most 40 hops) to a regular file with an
 * execute bit, which is an ELF executable for the image's architecture. A full three-part /usr/bin/gcc-X.Y.Z
 * the name does not declare is an error (the name lies). Shorter names leading to the same compiler are info.
 */
import type { ContractReport } from './contract-rules.js';
import { ARCH_MACHINE, isExecutableElf, readElfHeader } from './elf.js';
import { resolvePath, type Resolution, type TreeView } from './filetree.js';
import { platformString, type Arch } from './names.js';
import { parseGccVersion } from './version.js';

export interface CheckExpectation {
  arch: Arch;
  gccVersions: string[];
}

export type Verdict = 'ok' | 'error';

export interface GccCheck {
  gcc: string;
  path: string;
  /** The link chain: the path and each target followed. */
  chain: string[];
  /** Final file, when the chain resolved. */
  resolved?: string;
  verdict: Verdict;
  /** What is wrong and what to change. */
  message?: string;
  /** Other /usr/bin names that lead to the same compiler (gcc-12, gcc12, …). */
  aliases: string[];
}

export interface CheckReport {
  /** The builder arch the image was checked as; null when its platform matches none (nothing was checked). */
  arch: Arch | null;
  platform: string;
  gccs: GccCheck[];
  /** Errors not tied to a declared GCC (undeclared compilers). */
  extra: { path: string; resolved?: string; message: string }[];
  /** The driver builder's contract (core/contract-rules.ts); absent or null when it was not checked. */
  contract?: ContractReport | null;
  ok: boolean;
}

const FULL_GCC = /^gcc-(\d+\.\d+\.\d+)$/;
const SHORT_GCC = /^gcc-?\d+(?:\.\d+)?$/;

export function checkTree(tree: TreeView, expect: CheckExpectation): CheckReport {
  const platform = platformString(expect.arch);
  const binNames = tree.list('/usr/bin');
  const resolvedAliases = new Map<string, string[]>();
  for (const name of binNames.filter((n) => SHORT_GCC.test(n) || FULL_GCC.test(n))) {
    const r = resolvePath(tree, `/usr/bin/${name}`);
    // Stryker disable next-line ConditionalExpression: a failed resolution would be stored under an undefined path, which no lookup asks for
    if (r.ok) resolvedAliases.set(r.path, [...(resolvedAliases.get(r.path) ?? []), `/usr/bin/${name}`]);
  }

  const gccs = expect.gccVersions.map((gcc) => checkOne(tree, gcc, expect.arch, platform, binNames, resolvedAliases));

  const extra: CheckReport['extra'] = [];
  for (const name of binNames) {
    const m = FULL_GCC.exec(name);
    if (!m || expect.gccVersions.includes(m[1]!) || !parseGccVersion(m[1]!)) continue;
    const r = resolvePath(tree, `/usr/bin/${name}`);
    extra.push({
      path: `/usr/bin/${name}`,
      resolved: r.ok ? r.path : undefined,
      message: `/usr/bin/${name} is in the image but the name does not declare GCC ${m[1]}: add _gcc${m[1]} to the Dockerfile name, or remove the link`,
    });
  }
  return { arch: expect.arch, platform, gccs, extra, ok: gccs.every((g) => g.verdict === 'ok') && extra.length === 0 };
}

function checkOne(tree: TreeView, gcc: string, arch: Arch, platform: string, binNames: string[], aliases: Map<string, string[]>): GccCheck {
  const path = `/usr/bin/gcc-${gcc}`;
  const r = resolvePath(tree, path);
  const fail = (message: string, resolution: Resolution = r): GccCheck => ({
    gcc,
    path,
    chain: resolution.chain,
    resolved: resolution.ok ? resolution.path : undefined,
    verdict: 'error',
    message,
    aliases: [],
  });
  if (!r.ok) return fail(resolutionProblem(r, gcc, platform, binNames));
  const node = r.node;
  if (node.type !== 'file') return fail(`${path} resolves to ${r.path}, which is a ${node.type === 'dir' ? 'directory' : 'special file'}, not a compiler`);
  if ((node.mode & 0o111) === 0) return fail(`${r.path} (from ${path}) has no execute bit (mode ${(node.mode & 0o7777).toString(8)}): chmod +x it in the Dockerfile`);
  const elf = readElfHeader(node.head);
  if (!elf || !isExecutableElf(elf)) return fail(`${r.path} (from ${path}) is not an ELF executable: the link must lead to the gcc driver binary`);
  if (elf.machine !== ARCH_MACHINE[arch]) {
    return fail(`${r.path} (from ${path}) is an ${elf.machineName} binary in a ${platform} image: install the ${platform} compiler (build the image with --platform ${platform})`);
  }
  const others = (aliases.get(r.path) ?? []).filter((a) => a !== path);
  return { gcc, path, chain: r.chain, resolved: r.path, verdict: 'ok', aliases: others };
}

function resolutionProblem(r: Extract<Resolution, { ok: false }>, gcc: string, platform: string, binNames: string[]): string {
  const path = `/usr/bin/gcc-${gcc}`;
  const shown = r.chain.join(' -> ');
  switch (r.problem) {
    case 'missing': {
      const major = gcc.split('.')[0];
      const candidate = binNames.find((n) => n === `gcc-${major}`) ?? binNames.find((n) => n.startsWith(`gcc-${major}.`) || n === `gcc${major}`);
      return candidate
        ? `${path} is missing: add \`RUN ln -s /usr/bin/${candidate} ${path}\` for ${platform}`
        : `${path} is missing and no gcc-${major} is installed for ${platform}: install GCC ${major} and add \`RUN ln -s /usr/bin/gcc-${major} ${path}\``;
    }
    case 'dangling':
      return `${path} is a dangling link (${shown}): ${r.at} does not exist in the ${platform} image`;
    case 'loop':
      return `${path} is a symlink loop (${shown}, more than 40 hops)`;
    case 'escape':
      return `${path} climbs out of the image root (${shown}): use a link that stays inside the image`;
    case 'not-a-directory':
      return `${path} cannot resolve: ${r.at} is not a directory (${shown})`;
  }
}
