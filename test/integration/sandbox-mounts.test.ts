import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkMountSource, stagedTreeOf } from '../../src/adapters/engines/sandbox.js';

const root = mkdtempSync(join(tmpdir(), 'bi-mounts-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const trees = join(root, 'trees');
mkdirSync(join(trees, 'a', 'usr', 'lib', 'linux-kbuild-6.1'), { recursive: true });
mkdirSync(join(trees, 'a', 'usr', 'src', 'linux-headers-x'), { recursive: true });
mkdirSync(join(trees, 'b', 'usr', 'src', 'other'), { recursive: true });
writeFileSync(join(trees, 'a', 'usr', 'src', 'file'), '');
symlinkSync('../lib/linux-kbuild-6.1', join(trees, 'a', 'usr', 'src', 'linux-kbuild-6.1'));
symlinkSync('/', join(trees, 'a', 'usr', 'src', 'hostroot'));
symlinkSync('../../../b/usr/src/other', join(trees, 'a', 'usr', 'src', 'neighbour'));
symlinkSync('missing', join(trees, 'a', 'usr', 'src', 'dangling'));
symlinkSync(join(trees, 'a'), join(trees, 'linked'));

describe('mount sources (real file system)', () => {
  const check = async (source: string) => checkMountSource(source, (await stagedTreeOf(source, trees)) ?? trees);

  it('takes a real directory as it is, and resolves a link that stays inside its own tree', async () => {
    await expect(check(join(trees, 'a', 'usr', 'src', 'linux-headers-x'))).resolves.toBe(join(trees, 'a', 'usr', 'src', 'linux-headers-x'));
    await expect(check(join(trees, 'a', 'usr', 'src', 'linux-kbuild-6.1'))).resolves.toBe(join(trees, 'a', 'usr', 'lib', 'linux-kbuild-6.1'));
  });

  it.each([
    ['a link to the host root', join(trees, 'a', 'usr', 'src', 'hostroot'), /is a symlink \(to \/\) leading out of its tree/],
    ['a link into another staged tree', join(trees, 'a', 'usr', 'src', 'neighbour'), /leading out of its tree/],
    ['a dangling link', join(trees, 'a', 'usr', 'src', 'dangling'), /does not exist/],
    ['a tree that is itself a link', join(trees, 'linked', 'usr', 'src'), /staged tree .* is a symlink/],
    ['a path outside the trees', '/etc', /is not inside/],
  ])('refuses %s', async (_what, source, message) => {
    await expect(check(source)).rejects.toThrow(message);
  });
});
