/**
 * verify --flow driverkit and --module with real parts: a bookworm compiler image (test/support/toolchain-image.ts),
 * bookworm's real kernel headers packages from the Debian mirror, real buildah. The module tree is the project's
 * own Falco-shaped one (core/probe-module.ts PROBE_CMAKE_FILES): CMake top level, configure probes under env -i
 * with -Werror, a generated Kbuild Makefile.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBE_CMAKE_FILES, PROBE_MODULE_FILES } from '../../src/core/probe-module.js';
import { makeRepo, runCli } from '../support/cli.js';
import { bookwormHeaders, toolchainImage } from '../support/toolchain-image.js';

const image = toolchainImage();
const cleanups: (() => void)[] = [];
let root: string;
let headers: string[];
beforeAll(() => {
  headers = bookwormHeaders();
  const repo = makeRepo({ 'builder-images.yaml': 'repositories: [127.0.0.1:5000/builders]\nengine: buildah\n' });
  cleanups.push(repo.cleanup);
  root = repo.root;
});
afterAll(() => cleanups.splice(0).forEach((c) => c()));

function writeTree(dir: string, files: Record<string, string>): string {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

type Row = { verdict: string; build: string; message: string; vermagic?: string; errors: string[] };
async function verify(args: string[]): Promise<{ code: number; rows: Row[] }> {
  const r = await runCli(['verify', `buildah:${image}`, '--gcc', '12.2.0', '--json', ...args, '--headers', ...headers], root);
  return { code: r.code, rows: JSON.parse(r.stdout) as Row[] };
}

const netnsList = () => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });

describe.skipIf(!image)('verify builds real module sources the driver builder\'s way (real headers, real buildah)', () => {
  it('--flow driverkit: curl from the loopback server, ar + tar, sed, cmake, make CC=… driver, strip, modinfo: a .ko for the kernel', async () => {
    const before = netnsList();
    const { code, rows } = await verify(['--flow', 'driverkit', '--driver-version', '1.2.3+driver']);
    expect(rows[0]).toMatchObject({ verdict: 'pass', build: 'flow' });
    expect(rows[0]!.message).toMatch(/^bi_probe\.ko: vermagic 6\.1\.0-\d+-amd64 SMP/);
    expect(code).toBe(0);
    // The file server's namespace is gone with the run.
    expect(netnsList()).toBe(before);
  }, 600_000);

  it('--module: a CMake project whose configure sanity probe fails stops with "Build system is broken"', async () => {
    const tree = writeTree(join(root, 'broken-driver'), {
      ...PROBE_CMAKE_FILES,
      // -Werror: an unused variable in the sanity probe is an error, as a broken compiler flag would be.
      'driver/configure/0__SANITY/test.c': 'static int __init t_init(void) { int unused; return 0; }\n',
    });
    const { code, rows } = await verify(['--module', tree]);
    expect(code).toBe(1);
    expect(rows[0]).toMatchObject({ verdict: 'fail', build: 'module' });
    expect(rows[0]!.errors.join('\n')).toMatch(/Build system is broken/);
  }, 600_000);

  it('--module TARBALL: a Kbuild tree in one top directory is built with make -C <headers> M=…', async () => {
    const tree = writeTree(join(root, 'kb', 'bi-probe-1.0'), PROBE_MODULE_FILES);
    const tarball = join(root, 'probe.tar.gz');
    execFileSync('tar', ['-czf', tarball, '-C', dirname(tree), 'bi-probe-1.0']);
    const { code, rows } = await verify(['--module', tarball]);
    expect(rows[0]).toMatchObject({ verdict: 'pass', build: 'module' });
    expect(rows[0]!.vermagic).toMatch(/^6\.1\.0-\d+-amd64 /);
    expect(code).toBe(0);
  }, 600_000);
});
