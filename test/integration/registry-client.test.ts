import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaType, sha256Digest, type ImageIndex } from '../../src/core/oci.js';
import { parseReference } from '../../src/core/reference.js';
import { AuthError, NotFoundError, RegistryClient } from '../../src/adapters/registry/index.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { pushIndex, pushRandomImage } from '../support/synthetic-images.js';

describe('registry client against the real registry (anonymous)', () => {
  let reg: TestRegistry;
  let client: RegistryClient;
  beforeAll(async () => {
    reg = await startRegistry();
    client = new RegistryClient({ chunkSize: 64 * 1024 });
  });
  afterAll(() => reg?.stop());

  it('pushes and reads manifests by tag and digest, with verified digests', async () => {
    const ref = parseReference(`${reg.host}/t/app:one`);
    const pushed = await pushRandomImage(client, ref, { layers: 2 });
    const head = await client.headManifest(ref);
    expect(head).toEqual({ digest: pushed.digest, mediaType: MediaType.OciManifest, size: pushed.bytes.length });
    const got = await client.getManifest({ ...ref, tag: undefined, digest: pushed.digest });
    expect(Buffer.from(got.bytes).equals(Buffer.from(pushed.bytes))).toBe(true);
    expect(got.digest).toBe(sha256Digest(pushed.bytes));
  });

  it('reports absent things as NotFoundError, and only those', async () => {
    await expect(client.headManifest(parseReference(`${reg.host}/t/none:x`))).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.getBlob({ registry: reg.host, repository: 't/app' }, `sha256:${'0'.repeat(64)}`)).rejects.toBeInstanceOf(NotFoundError);
    expect(await client.manifestExists(parseReference(`${reg.host}/t/none:x`))).toBe(false);
  });

  it('uploads large blobs in chunks and streams them back verified', async () => {
    const repo = { registry: reg.host, repository: 't/big' };
    const data = randomBytes(300 * 1024 + 17); // several 64 KiB chunks and a short tail
    const desc = await client.pushBlob(repo, data);
    expect(await client.headBlob(repo, desc.digest)).toBe(data.length);
    expect(Buffer.from(await client.getBlob(repo, desc.digest)).equals(data)).toBe(true);
  });

  it('picks a platform out of an index', async () => {
    const amd = await pushRandomImage(client, parseReference(`${reg.host}/t/multi:amd`), { platform: { os: 'linux', architecture: 'amd64' } });
    const arm = await pushRandomImage(client, parseReference(`${reg.host}/t/multi:arm`), { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
    const ref = parseReference(`${reg.host}/t/multi:both`);
    const indexDigest = await pushIndex(client, ref, [
      { digest: amd.digest, size: amd.bytes.length, platform: { os: 'linux', architecture: 'amd64' } },
      { digest: arm.digest, size: arm.bytes.length, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    ]);
    const image = await client.getImage(ref, { os: 'linux', architecture: 'arm64' });
    expect(image.digest).toBe(arm.digest);
    expect(image.index?.digest).toBe(indexDigest);
    await expect(client.getImage(ref, { os: 'linux', architecture: 's390x' })).rejects.toThrow(/no linux\/s390x image \(it has linux\/amd64, linux\/arm64\/v8\)/);
    await expect(client.getImage(ref)).rejects.toThrow(/multi-platform index/);
  });

  it('lists tags across pages (Link pagination)', async () => {
    const repo = parseReference(`${reg.host}/t/many:x`);
    const pushed = await pushRandomImage(client, repo);
    const tags = Array.from({ length: 23 }, (_, i) => `v${i}`);
    for (const tag of tags) await client.putManifest({ ...repo, tag }, pushed.bytes, MediaType.OciManifest);
    expect((await client.listTags(repo, 5)).sort()).toEqual([...tags, 'x'].sort());
  });

  it('copies an index to another repository by mounting, and a second copy moves nothing', async () => {
    const src = parseReference(`${reg.host}/t/multi:both`);
    const dst = parseReference(`${reg.host}/t/copy:both`);
    const first = await client.copy(src, dst);
    expect(first.blobsMounted).toBeGreaterThan(0);
    expect(first.blobsCopied).toBe(0);
    const index = (await client.getManifest(dst)).manifest as ImageIndex;
    expect(index.manifests).toHaveLength(2);
    const again = await client.copy(src, dst);
    expect(again).toMatchObject({ blobsCopied: 0, blobsMounted: 0, bytesCopied: 0, digest: first.digest });
  });
});

describe('registry client with auth', () => {
  for (const auth of ['htpasswd', 'token'] as const) {
    describe(auth, () => {
      let reg: TestRegistry;
      beforeAll(async () => {
        reg = await startRegistry({ auth });
      });
      afterAll(() => reg?.stop());

      it('pushes and pulls with the right credentials', async () => {
        const client = new RegistryClient({ credentials: { explicit: { [reg.host]: { username: reg.username, password: reg.password } } } });
        const ref = parseReference(`${reg.host}/secure/app:1`);
        const pushed = await pushRandomImage(client, ref);
        expect((await client.headManifest(ref)).digest).toBe(pushed.digest);
        if (auth === 'token') {
          expect(reg.tokenRequests.some((s) => s.includes('repository:secure/app:pull,push'))).toBe(true);
        }
      });

      it('fails with AuthError, not NotFoundError, on wrong or missing credentials, without leaking the secret', async () => {
        const wrong = new RegistryClient({ credentials: { explicit: { [reg.host]: { username: reg.username, password: 'wrong-password-123' } } } });
        const err = await wrong.headManifest(parseReference(`${reg.host}/secure/app:1`)).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(AuthError);
        expect(err).not.toBeInstanceOf(NotFoundError);
        expect(String((err as Error).message)).not.toContain('wrong-password-123');
        const anonymous = new RegistryClient({ credentials: { env: { HOME: '/nonexistent' } } });
        await expect(anonymous.headManifest(parseReference(`${reg.host}/secure/app:1`))).rejects.toBeInstanceOf(AuthError);
      });
    });
  }
});
