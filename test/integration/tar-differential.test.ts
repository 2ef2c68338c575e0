/**
 * The differential test: each edge-case layer of the corpus, in an image (OCI layout), is read by `check` and
 * unpacked by umoci (Go's archive/tar, as containerd and podman use it). Both must give the same verdict: both
 * refuse the layer, or both accept it with the same /usr/bin listing and the same check result.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/adapters/registry/index.js';
import { DirectoryTree } from '../../src/adapters/rootfs/directory-tree.js';
import { openImageSource } from '../../src/adapters/sources/index.js';
import { readImageTree, judgeTree } from '../../src/app/check.js';
import { DEFAULT_CONTRACT } from '../../src/core/driver-contract.js';
import { buildLayeredImage, writeOciLayout } from '../support/image-builder.js';
import { corpus } from '../support/tar-corpus.js';

const work = mkdtempSync(join(tmpdir(), 'bi-tar-diff-'));
const client = new RegistryClient();
// The corpus layers hold a compiler only: the verdict compared is the GCC link's, the driver builder's contract is off.
const expectation = { gccVersions: ['12.0.0'], arch: 'x86_64' as const, contract: { ...DEFAULT_CONTRACT, contract: 'none' as const } };

interface Outcome {
  refused: boolean;
  why?: string;
  usrBin?: string[];
  ok?: boolean;
}

async function ours(layout: string): Promise<Outcome> {
  const [image] = await openImageSource(`oci:${layout}:case`, client).images();
  try {
    const { tree } = await readImageTree(image!);
    return { refused: false, usrBin: tree.list('/usr/bin'), ok: judgeTree(tree, image!.platform, expectation).ok };
  } catch (err) {
    return { refused: true, why: (err as Error).message };
  }
}

async function umoci(layout: string, bundle: string): Promise<Outcome> {
  const rootless = process.getuid?.() === 0 ? [] : ['--rootless'];
  const r = await execa('umoci', ['unpack', ...rootless, '--image', `${layout}:case`, bundle], { reject: false });
  if (r.exitCode !== 0) return { refused: true, why: r.stderr.split('\n').pop() };
  const root = join(bundle, 'rootfs');
  const platform = { os: 'linux', architecture: 'amd64' };
  return { refused: false, usrBin: readdirSync(join(root, 'usr/bin')).sort(), ok: judgeTree(new DirectoryTree(root), platform, expectation).ok };
}

describe('check reads layers as umoci (Go archive/tar) unpacks them', () => {
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  for (const [i, c] of corpus().entries()) {
    it(c.name, async () => {
      const layout = join(work, `layout${i}`);
      writeOciLayout(layout, [{ image: await buildLayeredImage(c.layers, { compression: 'gzip' }), refName: 'case' }]);
      const [mine, theirs] = [await ours(layout), await umoci(layout, join(work, `bundle${i}`))];
      expect(mine.refused, `check: ${mine.why ?? 'accepted'}; umoci: ${theirs.why ?? 'accepted'}`).toBe(theirs.refused);
      expect(mine.refused).toBe(c.expect === 'refused');
      if (mine.refused) {
        expect(mine.why).toMatch(/^layer \d+ of oci:.* (is not a valid tar|cannot be applied): /);
        if (c.message) expect(mine.why).toMatch(c.message);
        return;
      }
      expect(mine.usrBin).toEqual(theirs.usrBin);
      expect(mine.ok).toBe(theirs.ok);
    });
  }

  it('reads the corpus the same from zstd layers (the decoder stops at the end marker, the blob is still hashed whole)', async () => {
    for (const [i, c] of corpus().entries()) {
      const [gzip, zstd] = [join(work, `gz${i}`), join(work, `zst${i}`)];
      writeOciLayout(gzip, [{ image: await buildLayeredImage(c.layers, { compression: 'gzip' }), refName: 'case' }]);
      writeOciLayout(zstd, [{ image: await buildLayeredImage(c.layers, { compression: 'zstd' }), refName: 'case' }]);
      const [a, b] = [await ours(gzip), await ours(zstd)];
      const reason = (o: Outcome) => o.why?.replace(/ of oci:.*?\) /, ' ');
      expect({ ...b, why: reason(b) }, c.name).toEqual({ ...a, why: reason(a) });
    }
  });
});
