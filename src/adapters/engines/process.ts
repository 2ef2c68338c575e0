/**
 * Engine commands as child processes that an interruption stops, with everything they started: each runs as its
 * own process group (a build's RUN steps too), and on SIGINT/SIGTERM the whole group gets SIGTERM, then SIGKILL,
 * before the run's other clean-ups remove what the engine left. Without that, an engine killed alone leaves its
 * RUN step running, and that step may even commit the image after the clean-up (buildah#3544).
 *
 * When the CLI itself is SIGKILLed, the run's reaper (util/reaper.ts) stops the group the same way: an engine
 * never outlives the CLI that started it.
 */
import { execa, type Options } from 'execa';
import { currentScope, onInterrupt } from '../../util/cleanup.js';

/** How long a stopped engine gets to exit on SIGTERM before its group gets SIGKILL. */
const STOP_GRACE_MS = 5_000;

export function engineProcess<O extends Options>(bin: string, args: readonly string[], options: O) {
  currentScope()?.assertRunning();
  const child = execa(bin, args, { ...options, detached: true });
  const stop = onInterrupt(() => stopGroup(child), { first: true, onDeath: child.pid === undefined ? undefined : { group: child.pid } });
  child.then(stop.dismiss, stop.dismiss);
  return child;
}

async function stopGroup(child: { pid?: number } & Promise<unknown>): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  killGroup(pid, 'SIGTERM');
  const force = setTimeout(() => killGroup(pid, 'SIGKILL'), STOP_GRACE_MS);
  try {
    await child.catch(() => undefined);
  } finally {
    clearTimeout(force);
    // The engine is gone; whatever it started and left behind in its group goes now.
    killGroup(pid, 'SIGKILL');
  }
}

/** Signal a process group started by engineProcess (its leader's pid); a group already gone is no error. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group has exited already.
  }
}
