/**
 * `check` on `docker save` archives: written by skopeo (the real docker-archive format), plain and gzipped, and
 * by hand in the legacy layout docker uses for shared layers (a layer.tar that is a symlink to another's).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/adapters/registry/index.js';
import { openImageSource } from '../../src/adapters/sources/index.js';
import { checkSource } from '../../src/app/check.js';
import { DEFAULT_CONTRACT } from '../../src/core/driver-contract.js';
import { sha256Digest } from '../../src/core/oci.js';
import { runCli } from '../support/cli.js';
import { buildLayeredImage, writeOciLayout } from '../support/image-builder.js';
import { baseLayer, END, header, tarFile, tarSymlink } from '../support/tar-corpus.js';

const work = mkdtempSync(join(tmpdir(), 'bi-archive-'));
const client = new RegistryClient();
// These archives are about the archive formats: the driver builder's contract is off.
const expectation = { gccVersions: ['12.0.0'], arch: 'x86_64' as const, contract: { ...DEFAULT_CONTRACT, contract: 'none' as const } };
const GOOD = baseLayer(tarSymlink('usr/bin/gcc-12.0.0', 'gcc-12'), END);

describe('check reads docker save archives', () => {
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('reads an archive skopeo wrote, plain and gzipped, and names a broken layer', async () => {
    const layout = join(work, 'layout');
    writeOciLayout(layout, [{ image: await buildLayeredImage([GOOD, Buffer.concat([tarFile('etc/motd', 'hi', 0o644), END])]), refName: 'good' }]);
    const archive = join(work, 'good.tar');
    await execa('skopeo', ['copy', '--quiet', `oci:${layout}:good`, `docker-archive:${archive}:b/builder:any-x86_64_gcc12.0.0-latest`]);
    const [plain] = await checkSource(openImageSource(`docker-archive:${archive}`, client), expectation);
    expect(plain).toMatchObject({ ok: true, layers: 2 });
    writeFileSync(`${archive}.gz`, gzipSync(readFileSync(archive)));
    const [gz] = await checkSource(openImageSource(`${archive}.gz`, client), expectation);
    expect(gz).toMatchObject({ ok: true, layers: 2 });
  });

  it('follows a shared layer linked to another layer directory, and refuses a layer that is not a valid tar', async () => {
    const config = (diffIds: string[]) => Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } }));
    const other = Buffer.concat([tarFile('etc/motd', 'hi', 0o644), END]);
    const bad = baseLayer(header({ name: 'usr/bin/x', type: 'Z' }), END);
    const build = (layers: Buffer[], file: string) => {
      const names = layers.map((_, i) => `layer${i}/layer.tar`);
      const manifest = Buffer.from(JSON.stringify([{ Config: 'config.json', RepoTags: ['b/builder:t'], Layers: [...names, 'shared/layer.tar'] }]));
      // The last layer repeats the first: docker save writes it as a link to the first one's tar.
      const cfgShared = config([...layers.map((l) => sha256Digest(l)), sha256Digest(layers[0]!)]);
      const tar = Buffer.concat([
        ...layers.map((l, i) => tarFile(names[i]!, l, 0o644)),
        tarSymlink('shared/layer.tar', '../layer0/layer.tar'),
        tarFile('config.json', cfgShared, 0o644),
        tarFile('manifest.json', manifest, 0o644),
        END,
      ]);
      writeFileSync(file, tar);
    };
    build([GOOD, other], join(work, 'legacy.tar'));
    const [legacy] = await checkSource(openImageSource(`docker-archive:${join(work, 'legacy.tar')}`, client), expectation);
    expect(legacy).toMatchObject({ ok: true, layers: 3 });

    build([other, bad], join(work, 'bad.tar'));
    const run = await runCli(['check', '--gcc', '12.0.0', '--arch', 'x86_64', `docker-archive:${join(work, 'bad.tar')}`]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/error: layer 2 of docker-archive:.*bad\.tar.* is not a valid tar: .*typeflag 'Z'/);
  });
});
