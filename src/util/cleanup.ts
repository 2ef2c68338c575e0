/**
 * What a run leaves behind when it is interrupted: nothing. Every place that creates something outside the
 * process (a temporary auth file, an engine mount, a working container, a built image, a child process) registers
 * how to undo it here before it creates it, and dismisses that once it has undone it itself:
 *
 *   const removal = onInterrupt(() => rm(dir, { recursive: true, force: true }));
 *   try { … } finally { await removal.runNow(); }
 *
 * On SIGINT or SIGTERM the CLI (cli.ts) interrupts the run's scope once: child processes are stopped first, then
 * the other clean-ups run, newest first, and the CLI exits with 128 + the signal number (130, 143).
 *
 * SIGKILL gives no chance to clean up: what is registered with `onDeath` (a process group, a path, an undo command)
 * is also told to the run's reaper (util/reaper.ts), a watcher that undoes it when the CLI dies. Long operations
 * take the scope's `signal` (currentSignal()): it aborts when the run is interrupted.
 *
 * The scope is per run (AsyncLocalStorage), not per module: main() can run twice, or twice at once, in one process.
 * Outside a scope (a library call, a unit test) registering is a no-op.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError } from '../errors.js';
import { ownedName, removeDeadRunsLeftovers } from './leftovers.js';
import { Reaper, type DeathUndo } from './reaper.js';

export type { DeathUndo } from './reaper.js';

export type Cleanup = () => unknown;

/** The run was interrupted: nothing new may start (thrown instead of creating something that would leak). */
export class InterruptedError extends CliError {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`, exitCodeForSignal(signal));
    this.name = 'InterruptedError';
  }
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/** The shell's convention: 128 + the signal number (SIGINT 130, SIGTERM 143). */
export function exitCodeForSignal(signal: NodeJS.Signals): number {
  return 128 + (SIGNAL_NUMBERS[signal] ?? 0);
}

export interface CleanupHandle {
  /** Forget the clean-up: what it would undo is gone, or is the run's result. */
  dismiss(): void;
  /** Run the clean-up now (at most once, also across an interruption) and forget it. */
  runNow(): Promise<void>;
}

export interface RegisterOptions {
  /** Stop processes before the other clean-ups run (they may still use what those remove). */
  first?: boolean;
  /** What the reaper undoes should this process die without cleaning up (SIGKILL). */
  onDeath?: DeathUndo;
}

interface Entry {
  fn: Cleanup;
  forgetDeath?: () => void;
  /** Stopping processes comes before everything else: removals fail on what a live process still uses. */
  first: boolean;
  done?: Promise<void>;
}

/** How long an interruption waits for one clean-up before it moves on: a hung engine must not hold the exit. */
const CLEANUP_TIMEOUT_MS = 60_000;

export class CleanupScope {
  private readonly entries = new Set<Entry>();
  private interruption: Promise<void> | undefined;
  private signalName: NodeJS.Signals | undefined;
  private interruptionDone = false;
  private readonly memo = new Map<string, unknown>();
  private readonly aborter = new AbortController();
  private readonly reaper = new Reaper();

  /** Aborts when the run is interrupted (reason: the InterruptedError): long operations take it. */
  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  get interrupted(): NodeJS.Signals | undefined {
    return this.signalName;
  }

  /** Throw InterruptedError once the run is interrupted. */
  assertRunning(): void {
    if (this.signalName) throw new InterruptedError(this.signalName);
  }

  register(fn: Cleanup, options: RegisterOptions = {}): CleanupHandle {
    const entry: Entry = { fn, first: Boolean(options.first) };
    if (this.signalName) {
      // Too late to start: undo whatever the caller just made, and stop it.
      void settle(fn);
      throw new InterruptedError(this.signalName);
    }
    this.entries.add(entry);
    if (options.onDeath) entry.forgetDeath = this.reaper.add(options.onDeath);
    const forget = () => {
      this.entries.delete(entry);
      entry.forgetDeath?.();
      entry.forgetDeath = undefined;
    };
    return {
      dismiss: forget,
      runNow: () => {
        this.entries.delete(entry);
        entry.done ??= settle(entry.fn).finally(forget);
        return entry.done;
      },
    };
  }

  /**
   * The run is over: the reaper has nothing left to do, unless an interruption's clean-ups are still under way (a
   * second signal cut them short): then the reaper finishes them once this process is gone.
   */
  close(): void {
    if (this.interruption && !this.interruptionDone) return;
    this.reaper.release();
  }

  /** The reaper's process id, once one was needed (tests). */
  get reaperPid(): number | undefined {
    return this.reaper.pid;
  }

  /** Per-run memo: asked once per run, not once per process (the environment of the next run may differ). */
  once<T>(key: string, make: () => T): T {
    if (!this.memo.has(key)) this.memo.set(key, make());
    return this.memo.get(key) as T;
  }

  /** Stop the processes, then run every other clean-up newest first; once, however often it is called. */
  interrupt(signal: NodeJS.Signals): Promise<void> {
    this.signalName ??= signal;
    if (!this.aborter.signal.aborted) this.aborter.abort(new InterruptedError(this.signalName));
    this.interruption ??= (async () => {
      const all = [...this.entries];
      this.entries.clear();
      const run = (e: Entry) => (e.done ??= settle(e.fn).finally(() => e.forgetDeath?.()));
      await Promise.all(all.filter((e) => e.first).map(run));
      for (const e of all.filter((x) => !x.first).reverse()) await run(e);
      this.interruptionDone = true;
    })();
    return this.interruption;
  }
}

async function settle(fn: Cleanup): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, CLEANUP_TIMEOUT_MS);
    timer.unref();
  });
  try {
    await Promise.race([Promise.resolve().then(fn), timeout]);
  } catch {
    // Best effort: one failed removal must not keep the others from running.
  } finally {
    clearTimeout(timer);
  }
}

const current = new AsyncLocalStorage<CleanupScope>();

/** Run `fn` with `scope` as the run's scope (everything it starts, awaited or not, registers there). */
export function runInScope<T>(scope: CleanupScope, fn: () => Promise<T>): Promise<T> {
  return current.run(scope, fn);
}

export function currentScope(): CleanupScope | undefined {
  return current.getStore();
}

/**
 * Register how to undo something before creating it (see the file comment). Throws InterruptedError when the run is
 * already interrupted (after starting `fn`, so whatever the caller made just before is undone too).
 */
export function onInterrupt(fn: Cleanup, options: RegisterOptions = {}): CleanupHandle {
  const scope = current.getStore();
  if (!scope) {
    let done: Promise<void> | undefined;
    return { dismiss: () => undefined, runNow: () => (done ??= settle(fn)) };
  }
  return scope.register(fn, options);
}

/** A value computed once per run (see CleanupScope.once); outside a run, every call computes it. */
export function perRun<T>(key: string, make: () => T): T {
  const scope = current.getStore();
  return scope ? scope.once(key, make) : make();
}

/** The run's AbortSignal (aborted on SIGINT/SIGTERM), or undefined outside a run. */
export function currentSignal(): AbortSignal | undefined {
  return current.getStore()?.signal;
}

export interface TempDirOptions {
  /** The directory to make it in (default: the system's temporary directory, $TMPDIR). */
  parent?: string;
}

/** A private temporary directory; `remove` is the normal way out. */
export interface TempDir {
  path: string;
  remove(): Promise<void>;
}

/**
 * A private temporary directory (mode 0700) named `<prefix><pid>-<16 hex>`, registered for removal before it
 * exists, so an interruption at any point removes it, and the reaper does when the process is killed; a later run
 * removes one whose process is gone (removeDeadTempDirs). Use it instead of mkdtemp:
 *
 *   const work = await tempDir('bi-verify-');
 *   try { … join(work.path, 'out') … } finally { await work.remove(); }
 */
export async function tempDir(prefix: string, options: TempDirOptions = {}): Promise<TempDir> {
  const path = join(options.parent ?? tmpdir(), ownedName(prefix));
  const remove = () => rm(path, { recursive: true, force: true, maxRetries: 3 });
  const removal = onInterrupt(remove, { onDeath: { path } });
  await mkdir(path, { mode: 0o700 });
  return { path, remove: () => removal.runNow() };
}

/**
 * Remove the temporary directories killed runs left in $TMPDIR (a SIGKILLed `push` with its auth file, a build's
 * registries.conf): `bi-<word>-<pid>-<hex>` whose pid is gone. Entries of live runs, and every other name, stay.
 */
export async function removeDeadTempDirs(dir = tmpdir()): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  // The prefixes tempDir is given across the CLI are each a `bi-<word>-`.
  const prefixes = new Set(names.map((n) => /^bi-[a-z]+-/.exec(n)?.[0]).filter((p) => p !== undefined));
  const removed: string[] = [];
  for (const prefix of prefixes) removed.push(...(await removeDeadRunsLeftovers(dir, prefix)));
  return removed;
}
