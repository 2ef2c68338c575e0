/**
 * OCI layouts and docker archives are outside data too: their digests are checked before they name a file or
 * an entry, their documents are bounded and validated.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerArchiveSource } from '../../src/adapters/sources/archive.js';
import { DirectoryBlobStore, OciLayoutSource } from '../../src/adapters/sources/oci-layout.js';
import { MediaType } from '../../src/core/oci.js';

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const ZERO = 'sha256:../../../../dev/zero';

/** A layout with one image; `change` edits the manifest, `indexDigest` replaces index.json's digest. */
function writeLayout(dir: string, options: { change?: Record<string, unknown>; indexDigest?: string; sizeDelta?: number } = {}): void {
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (bytes: Buffer) => {
    writeFileSync(join(blobs, sha256(bytes).slice(7)), bytes);
    return { digest: sha256(bytes), size: bytes.length };
  };
  const layer = put(Buffer.from('not really a layer'));
  const config = put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] } })));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, ...config },
      layers: [{ mediaType: MediaType.OciLayer, ...layer }],
      ...options.change,
    }),
  );
  const m = put(manifest);
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const entry = { mediaType: MediaType.OciManifest, digest: options.indexDigest ?? m.digest, size: m.size + (options.sizeDelta ?? 0) };
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [entry] }));
}

describe('OCI layouts and docker archives from outside', () => {
  let root: string;
  let n = 0;
  const fresh = () => {
    const dir = join(root, String(n++));
    mkdirSync(dir);
    return dir;
  };
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'bi-hostile-sources-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reads a sound layout (control)', async () => {
    const dir = fresh();
    writeLayout(dir);
    const [image] = await new OciLayoutSource(dir).images();
    expect(image!.platform).toEqual({ os: 'linux', architecture: 'amd64' });
  });

  it('refuses an index.json digest that is a path, before it reads anything', async () => {
    const dir = fresh();
    writeLayout(dir, { indexDigest: ZERO });
    await expect(new OciLayoutSource(dir).images()).rejects.toThrow(/index\.json: malformed index: manifests\[0\]\.digest: not a valid digest/);
  });

  it('never turns a malformed digest into a path, whoever asks', async () => {
    const store = new DirectoryBlobStore(fresh());
    await expect(store.readJson(ZERO)).rejects.toThrow(/is not a valid digest/);
    expect(() => store.open(`sha512:${'A'.repeat(128)}`)).toThrow(/is not a valid digest/);
  });

  it('reads no more of a blob than its descriptor gives', async () => {
    const dir = fresh();
    writeLayout(dir, { sizeDelta: -10 });
    await expect(new OciLayoutSource(dir).images()).rejects.toThrow(/is larger than the \d+ bytes its descriptor gives/);
  });

  it('names the layout and the field of a malformed manifest', async () => {
    const dir = fresh();
    writeLayout(dir, { change: { layers: [] } });
    await expect(new OciLayoutSource(dir).images()).rejects.toThrow(/malformed manifest: layers: an image needs at least one layer/);
  });

  it('refuses a docker archive whose index.json names a blob by a path', async () => {
    const file = join(fresh(), 'image.tar');
    const pack = tar.pack();
    const add = (name: string, body: string) => pack.entry({ name }, body);
    add('oci-layout', '{"imageLayoutVersion":"1.0.0"}');
    add('index.json', JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MediaType.OciManifest, digest: ZERO, size: 10 }] }));
    pack.finalize();
    await pipeline(pack, createWriteStream(file));
    await expect(new DockerArchiveSource(file).images()).rejects.toThrow(/manifests\[0\]\.digest: not a valid digest/);
  });
});
