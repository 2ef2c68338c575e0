/**
 * What a SIGKILLed run leaves: nothing it told its reaper about. SIGKILL gives the CLI no chance to clean up, so a
 * run that starts engine process groups or makes temporary paths also starts one small watcher process (its own
 * session, so a terminal's ^C does not reach it) and tells it, line by line on a pipe, what to undo. When the CLI
 * ends normally it says "release" and the watcher exits doing nothing; when the pipe closes without that (the CLI
 * died), the watcher stops the groups (SIGTERM, then SIGKILL after a grace), then removes the paths and runs the
 * undo commands, newest first.
 *
 * Chosen over PR_SET_PDEATHSIG (`setpriv --pdeathsig KILL`): that reaches only the engine itself, not what it
 * started in its group (a RUN step, a working container's process), and it cannot remove files or containers.
 */
import { execa, type ResultPromise } from 'execa';

/** What the watcher undoes for one registration. */
export type DeathUndo = { group: number } | { path: string } | { argv: string[] };

/**
 * The watcher itself, run as `node -e` (CommonJS): no file to ship beside the bundle, nothing to resolve. It keeps
 * its own state only; every input line is JSON it parses, and it never runs a shell.
 */
const WATCHER = String.raw`
const { rmSync } = require('node:fs');
const { spawnSync } = require('node:child_process');
const live = new Map();
let released = false;
let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    let m;
    try { m = JSON.parse(line); } catch { continue; }
    if (m.op === 'add') live.set(m.id, m.undo);
    else if (m.op === 'forget') live.delete(m.id);
    else if (m.op === 'release') released = true;
  }
});
const groupAlive = (pid) => { try { process.kill(-pid, 0); return true; } catch { return false; } };
const signalGroup = (pid, sig) => { try { process.kill(-pid, sig); } catch {} };
process.stdin.on('end', async () => {
  if (released) process.exit(0);
  const all = [...live.values()];
  const groups = all.filter((u) => typeof u.group === 'number' && u.group > 1).map((u) => u.group);
  for (const pid of groups) signalGroup(pid, 'SIGTERM');
  const until = Date.now() + GRACE_MS;
  while (groups.some(groupAlive) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  for (const pid of groups) signalGroup(pid, 'SIGKILL');
  for (const u of all.reverse()) {
    try {
      if (typeof u.path === 'string') rmSync(u.path, { recursive: true, force: true, maxRetries: 3 });
      else if (Array.isArray(u.argv) && u.argv.length) spawnSync(u.argv[0], u.argv.slice(1), { stdio: 'ignore', timeout: 60000 });
    } catch {}
  }
  process.exit(0);
});
`;

/** How long stopped groups get to exit on SIGTERM before SIGKILL (as engines/process.ts gives them). */
const GRACE_MS = 5_000;

export class Reaper {
  private child: ResultPromise | undefined;
  private released = false;
  private nextId = 0;

  /** Tell the watcher what to undo if this process dies; the returned function forgets it again. */
  add(undo: DeathUndo): () => void {
    const id = ++this.nextId;
    this.send({ op: 'add', id, undo });
    return () => this.send({ op: 'forget', id });
  }

  /** The run ended in an orderly way (its own clean-ups ran): the watcher exits without undoing anything. */
  release(): void {
    if (!this.child || this.released) return;
    this.send({ op: 'release' });
    this.released = true;
    this.child.stdin?.end();
  }

  /** The watcher's process id (tests). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  private send(message: { op: string; id?: number; undo?: DeathUndo }): void {
    // After release nothing is watched any more; a forget needs no watcher.
    if (this.released || (message.op === 'forget' && !this.child)) return;
    const child = (this.child ??= this.start());
    child.stdin?.write(`${JSON.stringify(message)}\n`);
  }

  private start(): ResultPromise {
    const child = execa(process.execPath, ['-e', WATCHER.replace('GRACE_MS', String(GRACE_MS))], {
      detached: true,
      stdin: 'pipe',
      stdout: 'ignore',
      stderr: 'ignore',
      reject: false,
      // execa's own exit hook would kill the watcher exactly when it is needed.
      cleanup: false,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    // Neither the watcher nor its pipe keeps this process alive.
    child.unref();
    (child.stdin as { unref?: () => void } | null)?.unref?.();
    child.stdin?.on('error', () => undefined);
    return child;
  }
}
