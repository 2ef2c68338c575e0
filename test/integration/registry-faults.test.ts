import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseReference } from '../../src/core/reference.js';
import { AuthError, DigestMismatchError, NotFoundError, RegistryClient, RegistryError } from '../../src/adapters/registry/index.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { pushRandomImage, type PushedImage } from '../support/synthetic-images.js';

describe('registry client under injected faults', () => {
  let reg: TestRegistry;
  let proxy: FaultProxy;
  let image: PushedImage;
  let blob: Buffer;
  let blobDigest: string;
  const client = () => new RegistryClient({ backoffMs: 10, maxAttempts: 4 });

  beforeAll(async () => {
    reg = await startRegistry();
    proxy = await startFaultProxy(reg.host);
    const direct = new RegistryClient();
    image = await pushRandomImage(direct, parseReference(`${reg.host}/f/app:1`));
    blob = randomBytes(512 * 1024);
    blobDigest = (await direct.pushBlob({ registry: reg.host, repository: 'f/app' }, blob)).digest;
  });
  afterAll(async () => {
    await proxy?.stop();
    await reg?.stop();
  });
  beforeEach(() => {
    proxy.clear();
    proxy.log.splice(0);
  });
  const ref = () => parseReference(`${proxy.host}/f/app:1`);
  const repo = () => ({ registry: proxy.host, repository: 'f/app' });

  it('retries 5xx and succeeds', async () => {
    proxy.inject({ match: /\/manifests\//, kind: 'status', status: 503, times: 2 });
    expect((await client().headManifest(ref())).digest).toBe(image.digest);
    expect(proxy.log.map((l) => l.status)).toEqual([503, 503, 200]);
  });

  it('honours Retry-After on 429', async () => {
    proxy.inject({ match: /\/manifests\//, kind: 'rate-limit', retryAfter: 1 });
    const started = Date.now();
    expect((await client().headManifest(ref())).digest).toBe(image.digest);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(proxy.log.map((l) => l.status)).toEqual([429, 200]);
  });

  it('gives up after the attempt cap with an error that says so', async () => {
    proxy.inject({ match: /\/manifests\//, kind: 'status', status: 500, times: 10 });
    const err = await client().headManifest(ref()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect(err).not.toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toMatch(/HTTP 500 after 4 attempts/);
    expect(proxy.log).toHaveLength(4);
  });

  it('does not retry other 4xx', async () => {
    proxy.inject({ match: /\/manifests\//, kind: 'status', status: 403, times: 5 });
    await expect(client().headManifest(ref())).rejects.toBeInstanceOf(AuthError);
    expect(proxy.log).toHaveLength(1);
    proxy.clear();
    proxy.log.splice(0);
    await expect(client().headManifest(parseReference(`${proxy.host}/f/app:absent`))).rejects.toBeInstanceOf(NotFoundError);
    expect(proxy.log).toHaveLength(1);
  });

  it('resumes a blob download cut in the middle and still verifies it', async () => {
    proxy.inject({ match: /\/blobs\/sha256/, method: 'GET', kind: 'cut' });
    const got = Buffer.from(await client().getBlob(repo(), blobDigest));
    expect(got.equals(blob)).toBe(true);
    expect(proxy.log.map((l) => l.status)).toEqual(['cut', 206]);
  });

  it('rejects flipped bytes in a blob and never hands them on as good', async () => {
    proxy.inject({ match: /\/blobs\/sha256/, method: 'GET', kind: 'flip' });
    await expect(client().getBlob(repo(), blobDigest)).rejects.toBeInstanceOf(DigestMismatchError);
  });

  it('rejects a flipped manifest', async () => {
    proxy.inject({ match: /\/manifests\//, method: 'GET', kind: 'flip' });
    await expect(client().getManifest({ ...ref(), tag: undefined, digest: image.digest })).rejects.toBeInstanceOf(DigestMismatchError);
  });
});
