/**
 * select's arguments as a newcomer types them: the driver builder's arch names, a missing --arch, a target
 * driverkit does not know, a kernel release of the other arch. And every --help within 80 columns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRepo, PINNED_DOCKERFILE, runCli } from '../support/cli.js';
import { HELP_WIDTH } from '../../src/util/help-text.js';

let root: string;
let cleanup: () => void;
beforeAll(async () => {
  ({ root, cleanup } = makeRepo({
    'builder-images.yaml': 'repositories: [ghcr.io/acme/builders]\n',
    'images/builder-any-x86_64_gcc12.0.0.Dockerfile': PINNED_DOCKERFILE,
    'images/builder-any-aarch64_gcc12.0.0.Dockerfile': { link: 'builder-any-x86_64_gcc12.0.0.Dockerfile' },
    'images/builder-mydistro-x86_64_gcc11.0.0.Dockerfile': PINNED_DOCKERFILE,
  }));
  expect((await runCli(['index'], root)).code).toBe(0);
});
afterAll(() => cleanup());

const select = (...args: string[]) => runCli(['select', ...args], root);

describe('select --arch', () => {
  it.each([
    ['amd64', 'x86_64', 'amd64'],
    ['arm64', 'aarch64', 'arm64'],
  ])('takes driverkit\'s and Debian\'s %s, says it means %s, and picks that arch', async (name, arch, architecture) => {
    const r = await select('--target', 'debian', '--arch', name, '--gcc', '12');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`--arch ${name} means ${arch}: the index's name for driverkit's --architecture ${architecture}`);
    expect(r.stdout).toContain(`image:  ghcr.io/acme/builders:any-${arch}_gcc12.0.0-latest`);
    expect(r.stdout).toContain(`--architecture ${architecture} `);
    const plain = await select('--target', 'debian', '--arch', arch, '--gcc', '12');
    expect(plain.stdout).toBe(r.stdout);
    expect(plain.stderr).toBe('');
  });

  it('a missing --arch is "required"; an unknown one names what is accepted', async () => {
    expect(await select('--target', 'debian', '--gcc', '12')).toMatchObject({ code: 2, stderr: 'error: --arch is required: x86_64 or aarch64 (amd64 and arm64 also work)\n' });
    expect(await select('--target', 'debian', '--arch', 'x86-64', '--gcc', '12')).toMatchObject({ code: 2, stderr: 'error: --arch must be x86_64 or aarch64 (or amd64, arm64), not "x86-64"\n' });
  });

  it('refuses a kernel release of the other arch, naming the one to pass', async () => {
    const r = await select('--target', 'debian', '--arch', 'aarch64', '--kernel-release', '6.1.0-57-amd64');
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toBe("error: --kernel-release 6.1.0-57-amd64 is an x86_64 kernel, but --arch is aarch64: pass the aarch64 kernel's release (such as 6.1.0-57-arm64) or --arch x86_64\n");
    const rpm = await select('--target', 'centos', '--arch', 'amd64', '--kernel-release', '4.18.0-553.el8_10.aarch64');
    expect(rpm.code).toBe(2);
    expect(rpm.stderr).toContain('(such as 4.18.0-553.el8_10.x86_64) or --arch aarch64');
    // A release that names no arch (Ubuntu's, vanilla) and a matching one are fine.
    expect((await select('--target', 'ubuntu', '--arch', 'aarch64', '--kernel-release', '5.15.0-1019-aws')).code).toBe(0);
    expect((await select('--target', 'debian', '--arch', 'aarch64', '--kernel-release', '6.1.0-57-arm64')).code).toBe(0);
  });
});

describe('select --target', () => {
  it('an unknown target is a usage error, as driverkit refuses it: no silent fallback to any', async () => {
    const r = await select('--target', 'nosuch', '--arch', 'x86_64', '--gcc', '12');
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toMatch(/^error: --target "nosuch" is neither a driverkit target \(alinux, .*debian.*, vanilla\) nor a target of index\.yaml \(any, mydistro\): driverkit would refuse it\n$/);
    expect((await select('--matrix', '--target', 'nosuch')).code).toBe(2);
  });

  it('a target only the index has is picked, with a warning that driverkit refuses it', async () => {
    const r = await select('--target', 'mydistro', '--arch', 'x86_64', '--gcc', '11');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('image:  ghcr.io/acme/builders:mydistro-x86_64_gcc11.0.0-latest');
    expect(r.stderr).toBe('warning: --target mydistro is not a driverkit target: driverkit refuses it ("target must be a valid target"); showing the pick among index.yaml\'s images all the same\n');
  });
});

describe('--help', () => {
  it(`every command's help, its added text too, is at most ${HELP_WIDTH} columns`, async () => {
    for (const command of [[], ['lint'], ['index'], ['select'], ['check'], ['verify'], ['tag'], ['build'], ['push'], ['plan'], ['bump']]) {
      const help = await runCli([...command, '--help']);
      expect(help.code).toBe(0);
      const wide = help.stdout.split('\n').filter((line) => [...line].length > HELP_WIDTH);
      expect(wide, `${command.join(' ') || 'builder-images'} --help`).toEqual([]);
    }
    // A command line too wide is continued with backslashes, so it still pastes into a shell.
    const check = (await runCli(['check', '--help'])).stdout;
    expect(check).toContain('  builder-images check oci:./out --name \\\n    builder-any-x86_64_gcc12.0.0.Dockerfile --exec\n');
    expect((await runCli(['--help'])).stdout).toContain('From a checkout: node bin/builder-images.js <command>');
  });
});
