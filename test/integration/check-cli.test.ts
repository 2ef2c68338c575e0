/**
 * The check command end to end: --all over images/, the Dockerfile each result names, an image of no builder arch,
 * and --exec running the compilers for real through buildah (a tiny static program stands in for gcc).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReference } from '../../src/core/reference.js';
import { RegistryClient } from '../../src/adapters/registry/index.js';
import { makeRepo, runCli } from '../support/cli.js';
import { elfHeader, tinyProgram, X86_64 } from '../support/elf.js';
import { withDriverTools } from '../support/driver-tools.js';
import { gitInitCommit } from '../support/git.js';
import { dir, file, pushLayeredImage, symlink, type TestEntry } from '../support/image-builder.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

/**
 * An x86-64 image whose /usr/bin/gcc-<gcc> is a program printing `prints` (a header only when not given), with the
 * driver builder's tools (test/support/driver-tools.ts) so that only the GCC decides.
 */
const gccImage = (gcc: string, prints?: string): TestEntry[] =>
  withDriverTools([
    dir('usr/'),
    dir('usr/bin/'),
    file('usr/bin/x86_64-linux-gnu-gcc', prints === undefined ? elfHeader(X86_64) : tinyProgram(`${prints}\n`)),
    symlink(`usr/bin/gcc-${gcc}`, 'x86_64-linux-gnu-gcc'),
  ]);

describe('check command', () => {
  let reg: TestRegistry;
  let root: string;
  let cleanup: () => void;
  const client = new RegistryClient();
  const push = (ref: string, layers: TestEntry[][], arch?: string) => pushLayeredImage(client, parseReference(`${reg.host}/${ref}`), layers, arch ? { arch } : {});
  const check = async (...args: string[]) => {
    const out = await runCli(['check', '--format', 'json', ...args], root);
    return { code: out.code, stderr: out.stderr, results: JSON.parse(out.stdout || '[]') as Record<string, unknown>[] };
  };

  beforeAll(async () => {
    reg = await startRegistry();
    ({ root, cleanup } = makeRepo({
      'builder-images.yaml': `repositories: [${reg.host}/all]\n`,
      'images/builder-any-x86_64_gcc12.0.0.Dockerfile': 'FROM scratch\n',
      'images/builder-centos-x86_64_gcc12.0.0.Dockerfile': 'FROM scratch\n',
    }));
    gitInitCommit(root);
  });
  afterAll(async () => {
    cleanup?.();
    await reg?.stop();
  });

  it('--all checks every image images/ defines under the repository and tag, naming each Dockerfile', async () => {
    await push('all:any-x86_64_gcc12.0.0-v1', [gccImage('12.0.0')]);
    const { code, results } = await check('--all', '--tag', 'v1');
    expect(code).toBe(1); // the centos image was never pushed
    expect(results.map((r) => [String(r.image).split(' ')[0], r.dockerfile, r.ok])).toEqual([
      [`${reg.host}/all:any-x86_64_gcc12.0.0-v1`, 'images/builder-any-x86_64_gcc12.0.0.Dockerfile', true],
      [`${reg.host}/all:centos-x86_64_gcc12.0.0-v1`, 'images/builder-centos-x86_64_gcc12.0.0.Dockerfile', false],
    ]);
    expect(results[1]!.error).toMatch(/not found/);
    const other = await check('--all', '--repo', `${reg.host}/elsewhere`, '--tag', 'v1');
    expect(other.results.map((r) => String(r.image).split(' ')[0])).toEqual([`${reg.host}/elsewhere:any-x86_64_gcc12.0.0-v1`, `${reg.host}/elsewhere:centos-x86_64_gcc12.0.0-v1`]);
  });

  it('names the Dockerfile of the image\'s own target, and none when the target is not known', async () => {
    await push('all:centos-x86_64_gcc12.0.0-v2', [gccImage('12.0.0')]);
    const byTag = await check(`${reg.host}/all:centos-x86_64_gcc12.0.0-v2`);
    expect(byTag.results[0]).toMatchObject({ ok: true, dockerfile: 'images/builder-centos-x86_64_gcc12.0.0.Dockerfile' });
    const byName = await check('--name', 'builder-centos-x86_64_gcc12.0.0.Dockerfile', `${reg.host}/all:centos-x86_64_gcc12.0.0-v2`);
    expect(byName.results[0]!.dockerfile).toBe('images/builder-centos-x86_64_gcc12.0.0.Dockerfile');
    const byGcc = await check('--gcc', '12.0.0', `${reg.host}/all:centos-x86_64_gcc12.0.0-v2`);
    expect(byGcc.results[0]).toMatchObject({ ok: true, dockerfile: null });
  });

  it('an image of no builder arch is reported as such, never as x86_64, and --exec does not run it', async () => {
    await push('odd:s390x', [gccImage('12.0.0')], 's390x');
    const { code, results } = await check('--gcc', '12.0.0', `${reg.host}/odd:s390x`);
    expect(code).toBe(1);
    expect(results[0]).toMatchObject({ ok: false, arch: null, platform: 'linux/s390x', undeclared: [{ message: expect.stringContaining('no builder arch') }] });
    const exec = await check('--exec', '--engine', 'buildah', '--gcc', '12.0.0', `${reg.host}/odd:s390x`);
    expect(exec.results[0]!.exec).toEqual([{ gcc: '12.0.0', verdict: 'skipped', message: expect.stringContaining('no builder arch') }]);
  });

  it('--exec runs each compiler through the engine: the version it reports must match the name', async () => {
    await push('exec:any-x86_64_gcc12.0.0-good', [gccImage('12.0.0', '12.0.0')]);
    await push('exec:any-x86_64_gcc13.0.0-liar', [gccImage('13.0.0', '12.2.0')]);
    const good = await check('--exec', '--engine', 'buildah', `${reg.host}/exec:any-x86_64_gcc12.0.0-good`);
    expect(good.code, good.stderr).toBe(0);
    expect(good.results[0]).toMatchObject({ ok: true, exec: [{ gcc: '12.0.0', verdict: 'ok', version: '12.0.0' }] });

    // The layers are right (gcc-13.0.0 resolves to an x86-64 executable); only running it shows the lie.
    const liar = await check('--exec', '--engine', 'buildah', `${reg.host}/exec:any-x86_64_gcc13.0.0-liar`);
    expect(liar.code).toBe(1);
    expect(liar.results[0]).toMatchObject({ ok: false, gccs: [{ verdict: 'ok' }], exec: [{ verdict: 'error', version: '12.2.0', message: expect.stringContaining('the name promises GCC 13') }] });
    const layersOnly = await check(`${reg.host}/exec:any-x86_64_gcc13.0.0-liar`);
    expect(layersOnly.code).toBe(0);
  });
});
