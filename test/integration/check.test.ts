import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReference } from '../../src/core/reference.js';
import { RegistryClient } from '../../src/adapters/registry/index.js';
import { openImageSource } from '../../src/adapters/sources/index.js';
import { checkSource } from '../../src/app/check.js';
import { runCli } from '../support/cli.js';
import { withDriverTools } from '../support/driver-tools.js';
import { AARCH64, elfHeader, X86_64 } from '../support/elf.js';
import { buildLayeredImage, dir, file, hardlink, opaque, pushLayeredImage, symlink, whiteout, writeOciLayout, type TestEntry } from '../support/image-builder.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

// Each carries the driver builder's tools (test/support/driver-tools.ts): these tests are about the GCC links.
const GCC12_X86: TestEntry[] = withDriverTools([dir('usr/'), dir('usr/bin/'), file('usr/bin/x86_64-linux-gnu-gcc-12', Buffer.concat([elfHeader(X86_64), Buffer.alloc(4096)])), symlink('usr/bin/gcc-12', 'x86_64-linux-gnu-gcc-12')]);
const GCC12_ARM: TestEntry[] = withDriverTools([dir('usr/'), dir('usr/bin/'), file('usr/bin/aarch64-linux-gnu-gcc-12', elfHeader(AARCH64)), symlink('usr/bin/gcc-12', 'aarch64-linux-gnu-gcc-12')], { machine: AARCH64 });

describe('check reads images straight from their layers', () => {
  let reg: TestRegistry;
  const client = new RegistryClient();
  const push = (tag: string, layers: TestEntry[][], options: Parameters<typeof pushLayeredImage>[3] = {}) =>
    pushLayeredImage(client, parseReference(`${reg.host}/b/builder:${tag}`), layers, options);
  const check = async (tag: string, gccs: string[], arch: 'x86_64' | 'aarch64' = 'x86_64') => {
    const [result] = await checkSource(openImageSource(`${reg.host}/b/builder:${tag}`, client), { gccVersions: gccs, arch });
    return result!;
  };

  beforeAll(async () => {
    reg = await startRegistry();
  });
  afterAll(() => reg?.stop());

  it('passes an image whose link is added in a later layer (absolute link)', async () => {
    await push('good', [GCC12_X86, [symlink('usr/bin/gcc-12.0.0', '/usr/bin/gcc-12')]]);
    const r = await check('good', ['12.0.0']);
    expect(r.ok).toBe(true);
    expect(r.report.gccs[0]).toMatchObject({ resolved: '/usr/bin/x86_64-linux-gnu-gcc-12', chain: ['/usr/bin/gcc-12.0.0', '/usr/bin/gcc-12', 'x86_64-linux-gnu-gcc-12'] });
  });

  it('fails when a whiteout removes the link', async () => {
    await push('whiteout', [[...GCC12_X86, symlink('usr/bin/gcc-12.0.0', 'gcc-12')], [whiteout('usr/bin/gcc-12.0.0')]]);
    const r = await check('whiteout', ['12.0.0']);
    expect(r.ok).toBe(false);
    expect(r.report.gccs[0]!.message).toContain('add `RUN ln -s /usr/bin/gcc-12 /usr/bin/gcc-12.0.0`');
  });

  it('an opaque directory hides the lower compiler', async () => {
    await push('opaque', [[...GCC12_X86, symlink('usr/bin/gcc-12.0.0', 'gcc-12')], [opaque('usr/bin/'), symlink('usr/bin/gcc-12.0.0', 'gcc-12')]]);
    const r = await check('opaque', ['12.0.0']);
    expect(r.report.gccs[0]!.message).toMatch(/dangling link \(\/usr\/bin\/gcc-12\.0\.0 -> gcc-12\): \/usr\/bin\/gcc-12 does not exist/);
  });

  it('reports loops, dangling links and ../../ escapes with their chains', async () => {
    await push('broken', [[dir('usr/bin/'), symlink('usr/bin/gcc-9.0.0', 'gcc-9'), symlink('usr/bin/gcc-9', 'gcc-9.0.0'), symlink('usr/bin/gcc-8.0.0', 'gcc-8'), symlink('usr/bin/gcc-7.0.0', '../../../../../usr/bin/x')]]);
    const r = await check('broken', ['9.0.0', '8.0.0', '7.0.0']);
    expect(r.report.gccs.map((g) => g.message)).toEqual([
      expect.stringContaining('symlink loop'),
      expect.stringContaining('dangling link'),
      expect.stringContaining('climbs out of the image root'),
    ]);
  });

  it('follows hard links and reads zstd layers', async () => {
    await push('zstd', [GCC12_X86, [hardlink('usr/bin/gcc-12.0.0', 'usr/bin/x86_64-linux-gnu-gcc-12')]], { compression: ['zstd', 'zstd'] });
    const r = await check('zstd', ['12.0.0']);
    expect(r.ok).toBe(true);
  });

  it('a link overridden in a later layer counts as overridden', async () => {
    await push('override', [[...GCC12_X86, symlink('usr/bin/gcc-12.0.0', 'gcc-12')], [symlink('usr/bin/gcc-12.0.0', 'nowhere')]]);
    expect((await check('override', ['12.0.0'])).report.gccs[0]!.message).toContain('dangling');
  });

  it('catches an aarch64 variant that lacks its link, and a wrong-arch compiler', async () => {
    await push('arm-missing', [GCC12_ARM], { arch: 'arm64' });
    const missing = await check('arm-missing', ['12.0.0'], 'aarch64');
    expect(missing.report.gccs[0]!.message).toBe('/usr/bin/gcc-12.0.0 is missing: add `RUN ln -s /usr/bin/gcc-12 /usr/bin/gcc-12.0.0` for linux/arm64');
    await push('arm-wrong', [[...GCC12_X86, symlink('usr/bin/gcc-12.0.0', 'gcc-12')]], { arch: 'arm64' });
    expect((await check('arm-wrong', ['12.0.0'], 'aarch64')).report.gccs[0]!.message).toContain('is an x86-64 binary in a linux/arm64 image');
  });

  it('flags an undeclared GCC and an image built for the wrong platform', async () => {
    await push('extra', [[...GCC12_X86, symlink('usr/bin/gcc-12.0.0', 'gcc-12'), symlink('usr/bin/gcc-11.0.0', 'gcc-12')]]);
    const r = await check('extra', ['12.0.0']);
    expect(r.ok).toBe(false);
    expect(r.report.extra[0]!.message).toContain('does not declare GCC 11.0.0');
    await push('wrong-platform', [[...GCC12_ARM, symlink('usr/bin/gcc-12.0.0', 'gcc-12')]], { arch: 'arm64' });
    const wp = await checkSource(openImageSource(`${reg.host}/b/builder:wrong-platform`, client), { gccVersions: ['12.0.0'], arch: 'x86_64' });
    expect(wp[0]!.report.extra[0]!.message).toContain('the image is linux/arm64 but its name says x86_64');
  });

  it('rejects a layer whose bytes do not match its digest (OCI layout source)', async () => {
    const image = await buildLayeredImage([[...GCC12_X86, symlink('usr/bin/gcc-12.0.0', 'gcc-12')]]);
    const layer = image.manifest.layers[0]!.digest;
    const bytes = Buffer.from(image.blobs.get(layer)!);
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff; // corrupt the gzip trailer region
    image.blobs.set(layer, bytes);
    const layout = mkdtempSync(join(tmpdir(), 'bi-oci-'));
    writeOciLayout(layout, [{ image, refName: 'bad' }]);
    await expect(checkSource(openImageSource(`oci:${layout}:bad`, client), { gccVersions: ['12.0.0'], arch: 'x86_64' })).rejects.toThrow(/corrupt|cannot read/);
  });

  it('the CLI derives expectations from the tag, prints a table, and exits 1 on errors', async () => {
    await push('any-x86_64_gcc12.0.0-latest', [[...GCC12_X86, symlink('usr/bin/gcc-12.0.0', 'gcc-12')]]);
    await push('any-aarch64_gcc12.0.0-latest', [GCC12_ARM], { arch: 'arm64' });
    const good = await runCli(['check', `${reg.host}/b/builder:any-x86_64_gcc12.0.0-latest`]);
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/12\.0\.0\s+\/usr\/bin\/gcc-12\.0\.0\s+\/usr\/bin\/x86_64-linux-gnu-gcc-12\s+ok/);
    expect(good.stdout).toContain('gcc 12.0.0 is also reached as /usr/bin/gcc-12');
    const bad = await runCli(['check', '--format', 'json', `${reg.host}/b/builder:any-aarch64_gcc12.0.0-latest`]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)[0]).toMatchObject({ ok: false, platform: 'linux/arm64', gccs: [{ verdict: 'error' }] });
    const usage = await runCli(['check', `${reg.host}/b/builder:good`]);
    expect(usage).toMatchObject({ code: 2, stderr: expect.stringContaining('pass --name or --gcc') });
  });
});
