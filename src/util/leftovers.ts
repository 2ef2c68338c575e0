/**
 * Names that say which process made them, so a later run can remove what a killed run left (a half-unpacked
 * tree, a `.part` download, a temporary directory) without touching what another run still uses.
 *
 * The rule is the pid: `<prefix><pid>-<16 hex><suffix>`. An entry is a dead run's when no process with that pid
 * exists (kill(pid, 0) says ESRCH); a live pid, ours included, keeps it. A reused pid only keeps a leftover longer
 * (the safe side). It assumes the runs sharing a directory share a pid namespace (one machine or container); a
 * cache shared across pid namespaces would need a lock instead.
 */
import { randomBytes } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** A fresh name this process owns: `<prefix><pid>-<16 hex><suffix>`. */
export function ownedName(prefix: string, suffix = ''): string {
  return `${prefix}${process.pid}-${randomBytes(8).toString('hex')}${suffix}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove the entries of `dir` named by ownedName(prefix, suffix) whose process is gone; returns what it removed.
 * `prefix` is a literal, or a RegExp for prefixes that vary (a cache key). A missing directory has nothing to
 * remove; a removal that fails is left for the next run.
 */
export async function removeDeadRunsLeftovers(dir: string, prefix: string | RegExp, suffix = ''): Promise<string[]> {
  const head = typeof prefix === 'string' ? escapeRegExp(prefix) : prefix.source;
  const pattern = new RegExp(`^${head}(\\d+)-[0-9a-f]{16}${escapeRegExp(suffix)}$`);
  const names = await readdir(dir).catch(() => [] as string[]);
  const dead = names.filter((name) => {
    const pid = pattern.exec(name)?.[1];
    return pid !== undefined && !processAlive(Number(pid));
  });
  const removed: string[] = [];
  for (const name of dead) {
    const path = join(dir, name);
    await rm(path, { recursive: true, force: true, maxRetries: 3 }).then(
      () => removed.push(path),
      () => undefined,
    );
  }
  return removed;
}
