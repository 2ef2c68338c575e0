import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CleanupScope, currentSignal, exitCodeForSignal, InterruptedError, onInterrupt, perRun, removeDeadTempDirs, runInScope, tempDir } from '../../src/util/cleanup.js';
import { ownedName, removeDeadRunsLeftovers } from '../../src/util/leftovers.js';
import { redact, registerSecret } from '../../src/util/redact.js';

/** The pid of a process that has exited (and so names no live process, unless reused meanwhile). */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

describe('the run scope an interruption cleans up', () => {
  it('stops processes first, then undoes the rest newest first, each once', async () => {
    const scope = new CleanupScope();
    const order: string[] = [];
    await runInScope(scope, async () => {
      onInterrupt(() => order.push('image'));
      const mount = onInterrupt(() => order.push('mount'));
      onInterrupt(() => order.push('process'), { first: true });
      onInterrupt(() => order.push('auth file'));
      onInterrupt(() => order.push('dismissed')).dismiss();
      await mount.runNow();
    });
    expect(order).toEqual(['mount']);
    await Promise.all([scope.interrupt('SIGTERM'), scope.interrupt('SIGINT')]);
    expect(order).toEqual(['mount', 'process', 'auth file', 'image']);
    expect(scope.interrupted).toBe('SIGTERM');
  });

  it('refuses to start anything once interrupted, undoing what was just made', async () => {
    const scope = new CleanupScope();
    await scope.interrupt('SIGINT');
    let undone = false;
    await runInScope(scope, async () => {
      expect(() => onInterrupt(() => (undone = true))).toThrow(InterruptedError);
    });
    await new Promise((r) => setImmediate(r));
    expect(undone).toBe(true);
    await runInScope(scope, async () => {
      await expect(tempDir('bi-unit-')).rejects.toThrow(InterruptedError);
    });
  });

  it('a temporary directory exists until removed, and an interruption removes it', async () => {
    const scope = new CleanupScope();
    const dir = await runInScope(scope, () => tempDir('bi-unit-'));
    expect(existsSync(dir.path)).toBe(true);
    await scope.interrupt('SIGTERM');
    expect(existsSync(dir.path)).toBe(false);
  });

  it('exit codes follow the shell, and per-run values are per run', async () => {
    expect(exitCodeForSignal('SIGINT')).toBe(130);
    expect(exitCodeForSignal('SIGTERM')).toBe(143);
    let made = 0;
    const make = () => ++made;
    const [a, b] = await Promise.all([runInScope(new CleanupScope(), async () => [perRun('k', make), perRun('k', make)]), runInScope(new CleanupScope(), async () => perRun('k', make))]);
    expect(a).toEqual([1, 1]);
    expect(b).toBe(2);
  });

  it("hands out an AbortSignal that aborts with the interruption, and temporary directories named by the run's pid", async () => {
    const scope = new CleanupScope();
    const [signal, dir] = await runInScope(scope, async () => [currentSignal(), await tempDir('bi-unit-')] as const);
    expect(signal?.aborted).toBe(false);
    expect(basename(dir.path)).toMatch(new RegExp(`^bi-unit-${process.pid}-[0-9a-f]{16}$`));
    await scope.interrupt('SIGINT');
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBeInstanceOf(InterruptedError);
    expect(currentSignal()).toBeUndefined();
    scope.close();
  });

  it("a later run removes what dead processes left, and never a live process's entry or another name", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bi-leftovers-'));
    try {
      const dead = await deadPid();
      const names = [`k.tmp-${dead}-0123456789abcdef`, `k.tmp-${process.pid}-0123456789abcdef`, 'k.tmp-abcdef', `k.tmp-${dead}-0123456789abcdef.extra`, `bi-push-${dead}-0123456789abcdef`, `bi-push-${process.pid}-0123456789abcdef`, 'bi-test-run-abc123'];
      for (const n of names) mkdirSync(join(dir, n));
      expect(await removeDeadRunsLeftovers(dir, 'k.tmp-')).toEqual([join(dir, names[0]!)]);
      expect(await removeDeadTempDirs(dir)).toEqual([join(dir, names[4]!)]);
      expect(readdirSync(dir).sort()).toEqual([names[1], names[2], names[3], names[5], names[6]].sort());
      expect(ownedName('x-', '.part')).toMatch(new RegExp(`^x-${process.pid}-[0-9a-f]{16}\\.part$`));
      expect(await removeDeadRunsLeftovers(join(dir, 'absent'), 'k.tmp-')).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("secrets are the run's: one run's are not kept for the next, and those registered outside a run always apply", async () => {
    registerSecret('outside-secret-1');
    const first = new CleanupScope();
    const second = new CleanupScope();
    await runInScope(first, async () => registerSecret('first-run-secret'));
    expect(await runInScope(first, async () => redact('a first-run-secret b outside-secret-1'))).toBe('a *** b ***');
    expect(await runInScope(second, async () => redact('a first-run-secret b outside-secret-1'))).toBe('a first-run-secret b ***');
    expect(redact('first-run-secret')).toBe('first-run-secret');
  });
});
