/**
 * The driver builder's contract (core/driver-contract.ts) proven on an image's file tree. Pure.
 *
 * A command resolves as execvp would in the container: an absolute name as it is, any other through each
 * directory of the image's PATH (its config Env, else the engines' default) to the first regular file with an
 * execute bit, which must be an ELF executable for the image's arch, or a script whose `#!` interpreter resolves
 * the same way (`#!/usr/bin/env NAME`: NAME on PATH too). A file need must be a regular file at one of its
 * distro's paths. The distro comes from os-release in the tree.
 */
import { ARCH_MACHINE, isExecutableElf, readElfHeader } from './elf.js';
import { normalizePath, resolvePath, type Node, type TreeView } from './filetree.js';
import { platformString, type Arch } from './names.js';
import {
  contractNeeds,
  FILE_NEED_LABEL,
  filePaths,
  OS_RELEASE_PATHS,
  packageFor,
  parseOsRelease,
  type ContractChoice,
  type Distro,
  type Family,
  type FileNeed,
  type Flow,
  familiesOf,
} from './driver-contract.js';

/** The PATH docker, podman and buildah give a container whose image sets none. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ContractFinding {
  /** The command (`curl`, `/bin/bash`) or file need (`CA certificates`). */
  need: string;
  kind: 'command' | 'file';
  /** Which flows/families need it: `kmod`, `kmod/rpm`, `ebpf`. */
  for: string[];
  why: string;
  verdict: 'ok' | 'error';
  /** Where it was found (the resolved file). */
  found?: string;
  /** The package that ships it in the image's distro, when the distro is known. */
  package?: string;
  message?: string;
}

export interface ContractReport {
  contract: 'driverkit';
  flows: Flow[];
  families: Family[];
  distro: Distro | null;
  /** Where the distro was read from, or null. */
  osRelease: string | null;
  path: string[];
  findings: ContractFinding[];
  ok: boolean;
}

export interface ContractExpectation {
  arch: Arch;
  target?: string;
  choice: ContractChoice;
  /** The image config's Env (`KEY=value`), for PATH. */
  env?: readonly string[];
}

/** The contract's findings for an image; null when the contract is `none`. */
export function checkContract(tree: TreeView, expect: ContractExpectation): ContractReport | null {
  if (expect.choice.contract === 'none') return null;
  const { distro, from } = readDistro(tree);
  const path = pathOf(expect.env);
  const findings = contractNeeds(expect.target, expect.choice).map(({ need, for: needFor }): ContractFinding => {
    const name = need.kind === 'file' ? FILE_NEED_LABEL[need.name] : need.name;
    const r = need.kind === 'file' ? findFile(tree, need.name, distro) : findCommand(tree, need.name, path, expect.arch);
    const base = { need: name, kind: need.kind, for: needFor, why: need.why };
    if (r.ok) return { ...base, verdict: 'ok', found: r.found };
    const pkg = packageFor(need.name, distro);
    return { ...base, verdict: 'error', package: pkg, message: `${r.problem}: ${need.why}; ${installHint(pkg, distro)}` };
  });
  return {
    contract: 'driverkit',
    flows: [...expect.choice.flows],
    families: expect.choice.flows.includes('kmod') ? familiesOf(expect.target, expect.choice) : [],
    distro,
    osRelease: from,
    path,
    findings,
    ok: findings.every((f) => f.verdict === 'ok'),
  };
}

function installHint(pkg: string | undefined, distro: Distro | null): string {
  if (pkg) return `install ${pkg} (the ${distro!.name} package)`;
  return distro ? `install the ${distro.name} package that ships it` : 'install the package that ships it (the image has no /etc/os-release to tell its distro)';
}

/** The distro from os-release, /etc before /usr/lib; null when neither is a readable file. */
export function readDistro(tree: TreeView): { distro: Distro | null; from: string | null } {
  for (const path of OS_RELEASE_PATHS) {
    const r = resolvePath(tree, path);
    if (r.ok && r.node.type === 'file' && r.node.head) return { distro: parseOsRelease(Buffer.from(r.node.head).toString('utf8')), from: path };
  }
  return { distro: null, from: null };
}

/** PATH from the config Env (the last PATH= wins, as the engines apply Env in order), else the default. */
export function pathOf(env: readonly string[] | undefined): string[] {
  const value = [...(env ?? [])].reverse().find((e) => e.startsWith('PATH='))?.slice('PATH='.length) ?? DEFAULT_PATH;
  // execvp reads an empty entry as the working directory, which a build's commands cannot rely on.
  return value.split(':').filter((d) => d.startsWith('/'));
}

type Found = { ok: true; found: string } | { ok: false; problem: string };

/** A file need: a regular file (links followed) at one of its distro's paths. */
function findFile(tree: TreeView, need: FileNeed, distro: Distro | null): Found {
  const paths = filePaths(need, distro);
  for (const path of paths) {
    const r = resolvePath(tree, path);
    if (r.ok && r.node.type === 'file') return { ok: true, found: r.path };
  }
  return { ok: false, problem: `${FILE_NEED_LABEL[need]} are missing (no ${paths.join(' or ')})` };
}

/** Interpreters followed from a script: `#!/usr/bin/env bash` to bash is two. */
const MAX_INTERPRETERS = 4;

/** Find and judge a command as execvp would run it. */
export function findCommand(tree: TreeView, name: string, path: readonly string[], arch: Arch, depth = 0): Found {
  const slash = name.lastIndexOf('/');
  const dirs = slash >= 0 ? [name.slice(0, slash) || '/'] : path;
  const base = name.slice(slash + 1);
  const notExecutable: string[] = [];
  const dangling: string[] = [];
  const seen = new Set<string>();
  for (const dir of dirs) {
    // The directory first (usrmerge's /bin -> usr/bin is one place): only an entry in it can dangle.
    const d = resolvePath(tree, dir);
    if (!d.ok || d.node.type !== 'dir' || seen.has(d.path)) continue;
    seen.add(d.path);
    if (!tree.child(d.node, base, normalizePath(d.path))) continue;
    const candidate = `${d.path === '/' ? '' : d.path}/${base}`;
    const r = resolvePath(tree, candidate);
    if (!r.ok) {
      dangling.push(`${candidate} (${r.chain.join(' -> ')})`);
      continue;
    }
    if (r.node.type !== 'file') continue;
    if ((r.node.mode & 0o111) === 0) {
      notExecutable.push(`${r.path} (mode ${(r.node.mode & 0o7777).toString(8)})`);
      continue;
    }
    const judged = judgeExecutable(tree, r.node, r.path, candidate, path, arch, depth);
    return judged.ok ? { ok: true, found: r.path } : judged;
  }
  const where = slash >= 0 ? `${name} is missing` : `${name} is not on PATH (${path.join(':') || 'empty'})`;
  const also = [...(dangling.length ? [`dangling: ${dangling.join(', ')}`] : []), ...(notExecutable.length ? [`not executable: ${notExecutable.join(', ')}`] : [])];
  return { ok: false, problem: also.length ? `${where}; ${also.join('; ')}` : where };
}

function judgeExecutable(tree: TreeView, node: Node, resolved: string, asked: string, path: readonly string[], arch: Arch, depth: number): Found {
  const via = resolved === asked ? resolved : `${resolved} (from ${asked})`;
  const elf = readElfHeader(node.head);
  if (elf) {
    if (!isExecutableElf(elf)) return { ok: false, problem: `${via} is an ELF file but not an executable` };
    if (elf.machine !== ARCH_MACHINE[arch]) return { ok: false, problem: `${via} is an ${elf.machineName} binary in a ${platformString(arch)} image` };
    return { ok: true, found: resolved };
  }
  const shebang = parseShebang(node.head);
  if (!shebang) return { ok: false, problem: `${via} is neither an ELF executable nor a #! script` };
  // A #! line longer than the bytes kept cannot be judged: not a finding.
  if (shebang.interpreter === null) return { ok: true, found: resolved };
  if (depth >= MAX_INTERPRETERS) return { ok: false, problem: `${via}: more than ${MAX_INTERPRETERS} interpreters deep` };
  const interpreter = findCommand(tree, shebang.interpreter, path, arch, depth + 1);
  if (!interpreter.ok) return { ok: false, problem: `${via} is a script for ${shebang.interpreter}, which does not run: ${interpreter.problem}` };
  // `#!/usr/bin/env NAME` runs NAME from PATH.
  if (/(^|\/)env$/.test(shebang.interpreter) && shebang.argument && !shebang.argument.startsWith('-')) {
    const target = findCommand(tree, shebang.argument, path, arch, depth + 1);
    if (!target.ok) return { ok: false, problem: `${via} runs ${shebang.argument} through env, which does not run: ${target.problem}` };
  }
  return { ok: true, found: resolved };
}

/**
 * `#!interpreter [argument]` from a file's first bytes; null when it is not a script (or names no absolute
 * interpreter); interpreter null when the line runs past the bytes kept, so the interpreter may be cut.
 */
export function parseShebang(head: Uint8Array | undefined): { interpreter: string | null; argument?: string } | null {
  if (!head || head[0] !== 0x23 || head[1] !== 0x21) return null;
  const text = Buffer.from(head).toString('latin1').slice(2);
  const end = text.indexOf('\n');
  const line = (end === -1 ? text : text.slice(0, end)).replace(/^[ \t]+/, '');
  const [interpreter, ...rest] = line.trimEnd().split(/[ \t]+/);
  if (end === -1 && rest.length === 0) return { interpreter: null };
  if (!interpreter?.startsWith('/')) return null;
  // Only the interpreter matters when the line is cut; its argument may be partial.
  if (end === -1) return { interpreter };
  return rest.length ? { interpreter, argument: rest.join(' ') } : { interpreter };
}
