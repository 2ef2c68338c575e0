/**
 * What keeps a foreign build (a headers package's Makefile, a module's CMake, the driver builder's scripts) in its
 * container: the engine flags for fresh PID, network, IPC and UTS namespaces with every capability dropped, mount
 * sources that cannot be steered by a symlink, and, after the run, no process left in the container's PID
 * namespace. The namespaces are learnt from the host's /proc (never from anything the build wrote).
 */
import { access, lstat, readdir, readFile, readlink, realpath } from 'node:fs/promises';
import { constants } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';

/** How the sandboxed build reaches the network: not at all, or only the network namespace at this path. */
export type SandboxNetwork = { kind: 'none' } | { kind: 'netns'; path: string };

export interface Sandbox {
  network: SandboxNetwork;
  /** Capabilities given back after `--cap-drop ALL` (e.g. CHOWN for a tar that restores owners). */
  capabilities?: string[];
}

export class UnsafeMountError extends Error {}

/**
 * Where a bind mount's source really is, refused unless it stays inside its tree (a staged headers tree, or a
 * headers directory the caller gave): an engine follows a symlinked source, and a headers package can plant one
 * (`usr/src/x -> /`). A link inside the tree (Debian's `usr/src/linux-kbuild-6.1 -> ../lib/linux-kbuild-6.1`) is
 * resolved here, so the engine gets a path with no symlink on its way; every component of that path is lstat'ed,
 * and it must resolve to itself.
 */
export async function checkMountSource(source: string, tree: string): Promise<string> {
  const rel = relative(tree, source);
  if (!isAbsolute(source) || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) throw new UnsafeMountError(`mount source ${source} is not inside ${tree}`);
  const realTree = await realpath(tree);
  const real = await realpath(join(realTree, rel)).catch(() => undefined);
  if (!real) throw new UnsafeMountError(`mount source ${source} does not exist (or is a dangling link)`);
  if (real !== realTree && !real.startsWith(realTree + sep)) {
    const link = await readlink(join(realTree, rel)).catch(() => undefined);
    throw new UnsafeMountError(`mount source ${source}${link ? ` is a symlink (to ${link})` : ''} leading out of its tree (to ${real}): refused`);
  }
  let at = realTree;
  for (const part of relative(realTree, real).split(sep).filter(Boolean)) {
    at = join(at, part);
    const info = await lstat(at);
    if (info.isSymbolicLink() || (!info.isDirectory() && !info.isFile())) throw new UnsafeMountError(`mount source ${source}: ${at} is not a plain directory or file`);
  }
  if ((await realpath(at)) !== at) throw new UnsafeMountError(`mount source ${source} resolves elsewhere`);
  return at;
}

/** The staged tree a mount source is in (the first directory under `trees`), refused when that is a link. */
export async function stagedTreeOf(source: string, trees: string): Promise<string | undefined> {
  const rel = relative(trees, source);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  const tree = join(trees, rel.split(sep)[0]!);
  if ((await lstat(tree)).isSymbolicLink()) throw new UnsafeMountError(`mount source ${source}: its staged tree ${tree} is a symlink: refused`);
  return tree;
}

/** `pid:[4026531836]` of a host process, or undefined when it is gone. */
export async function pidNamespaceOf(pid: number | 'self'): Promise<string | undefined> {
  return readlink(`/proc/${pid}/ns/pid`).catch(() => undefined);
}

async function hostPids(): Promise<number[]> {
  return (await readdir('/proc')).filter((n) => /^\d+$/.test(n)).map(Number);
}

async function parentOf(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  // The command name may hold spaces and parentheses: the fields after the last ')' are fixed.
  const rest = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
  return rest ? Number(rest[1]) : undefined;
}

/** The PID namespaces (other than ours) of the processes below `root`, as seen now. */
export async function childNamespaces(root: number): Promise<Set<string>> {
  const own = await pidNamespaceOf('self');
  const children = new Map<number, number[]>();
  for (const pid of await hostPids()) {
    const parent = await parentOf(pid);
    if (parent !== undefined) children.set(parent, [...(children.get(parent) ?? []), pid]);
  }
  const found = new Set<string>();
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift()!;
    for (const child of children.get(pid) ?? []) {
      const ns = await pidNamespaceOf(child);
      if (ns && ns !== own) found.add(ns);
      else queue.push(child);
    }
  }
  return found;
}

/** Watch a running engine process for the PID namespaces its containers get, until stopped. */
export function watchNamespaces(root: number | undefined, intervalMs = 300): { seen: Set<string>; stop(): Promise<Set<string>> } {
  const seen = new Set<string>();
  const look = async () => {
    if (root !== undefined) for (const ns of await childNamespaces(root)) seen.add(ns);
  };
  let pending = look();
  const timer = setInterval(() => {
    pending = pending.then(look);
  }, intervalMs);
  return {
    seen,
    async stop() {
      clearInterval(timer);
      await pending;
      return seen;
    },
  };
}

/** Host processes in these PID namespaces (never in ours). */
export async function processesIn(namespaces: Set<string>): Promise<number[]> {
  const own = await pidNamespaceOf('self');
  const found: number[] = [];
  for (const pid of await hostPids()) {
    const ns = await pidNamespaceOf(pid);
    if (ns && ns !== own && namespaces.has(ns)) found.push(pid);
  }
  return found;
}

/**
 * Kill whatever still runs in the build's namespaces and check that nothing remains. Returns how many were
 * killed; throws when some survive SIGKILL for 5 s.
 */
export async function reapNamespaces(namespaces: Set<string>): Promise<number> {
  if (namespaces.size === 0) return 0;
  const left = await processesIn(namespaces);
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (let i = 0; i < 50; i++) {
    const still = await processesIn(namespaces);
    if (still.length === 0) return left.length;
    await new Promise((r) => setTimeout(r, 100));
  }
  const still = await processesIn(namespaces);
  throw new Error(`sandbox: ${still.length} process(es) of the build survived SIGKILL (pids ${still.join(', ')})`);
}

/**
 * The OCI runtime to ask for: runc when installed (crun refuses hybrid cgroup v1/v2 hosts, as here), else the
 * engine's default. BUILDER_IMAGES_OCI_RUNTIME overrides.
 */
export async function ociRuntime(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (env.BUILDER_IMAGES_OCI_RUNTIME) return env.BUILDER_IMAGES_OCI_RUNTIME;
  for (const dir of (env.PATH ?? '').split(':').filter(Boolean)) {
    if (await access(join(dir, 'runc'), constants.X_OK).then(() => true, () => false)) return 'runc';
  }
  return undefined;
}

/**
 * podman asks for RLIMIT_NOFILE/NPROC of 1M by default, which a host without CAP_SYS_RESOURCE cannot grant:
 * ask for this process's own hard limits instead (never more than the host gives us).
 */
export async function ownHardLimits(): Promise<{ nofile?: string; nproc?: string }> {
  const text = await readFile('/proc/self/limits', 'utf8').catch(() => '');
  const hard = (name: string) => {
    const m = new RegExp(`^${name}\\s+\\S+\\s+(\\S+)`, 'm').exec(text);
    return m ? (m[1] === 'unlimited' ? '-1' : m[1]) : undefined;
  };
  return { nofile: hard('Max open files'), nproc: hard('Max processes') };
}
