import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CleanupScope, exitCodeForSignal, InterruptedError, onInterrupt, perRun, runInScope, tempDir } from '../../src/util/cleanup.js';

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
});
