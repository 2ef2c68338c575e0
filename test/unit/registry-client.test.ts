/**
 * The registry client against a scripted registry: a `fetch` stand-in that answers each request from a route
 * table and records what it was asked, so every request the client makes (method, URL, headers, body) and
 * every answer it gets are exact. No sockets, no timers: fast enough for the mutation run.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DigestMismatchError, NotFoundError, RegistryClient, RegistryError } from '../../src/adapters/registry/index.js';
import { bodyDeadlineMs } from '../../src/adapters/http/guard.js';
import { MediaType } from '../../src/core/oci.js';

const HOST = '127.0.0.1:5999';
const ORIGIN = `http://${HOST}`;
const REPO = { registry: HOST, repository: 'team/app' };
const WHAT = `tags of ${HOST}/team/app`;

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
}

type Route = (req: Seen) => Response | undefined;

/** A client whose fetch answers from `route` (404 when it gives nothing) and records every request in `seen`. */
function scripted(route: Route, options: ConstructorParameters<typeof RegistryClient>[0] = {}) {
  const seen: Seen[] = [];
  const fake = (async (input: string | URL | Request, init: RequestInit = {}) => {
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const raw = init.body;
    let body: Buffer | undefined;
    if (raw instanceof Uint8Array) body = Buffer.from(raw);
    else if (typeof raw === 'string') body = Buffer.from(raw);
    else if (raw) body = Buffer.from(await new Response(raw as ReadableStream).arrayBuffer());
    const req: Seen = { method: init.method ?? 'GET', url: String(input), headers, body };
    seen.push(req);
    return route(req) ?? new Response('{"errors":[{"code":"NAME_UNKNOWN","message":"no"}]}', { status: 404 });
  }) as typeof fetch;
  const client = new RegistryClient({ fetch: fake, backoffMs: 1, maxAttempts: 2, credentials: { env: { DOCKER_CONFIG: '/nonexistent' } }, ...options });
  return { client, seen };
}

const tagPage = (tags: unknown, link?: string) =>
  new Response(typeof tags === 'string' ? tags : JSON.stringify({ name: 'team/app', tags }), {
    status: 200,
    headers: { 'content-type': 'application/json', ...(link ? { link } : {}) },
  });

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('listTags follows Link pagination', () => {
  it('asks for pageSize tags, requests every linked page in order and returns their union', async () => {
    const { client, seen } = scripted((req) => {
      const url = new URL(req.url);
      if (url.pathname !== '/v2/team/app/tags/list') return undefined;
      const last = url.searchParams.get('last');
      if (last === null) return tagPage(['a', 'b'], '</v2/team/app/tags/list?n=2&last=b>; rel="next"');
      // relative to the page that gave it, no quotes, no spaces
      if (last === 'b') return tagPage(['c', 'd'], '<list?n=2&last=d>;rel=next');
      if (last === 'd') return tagPage(['e'], `<${ORIGIN}/v2/team/app/tags/list?n=2&last=e>  ;  rel="next"`);
      if (last === 'e') return tagPage(['f'], '</v2/team/app/tags/list?n=2&last=zzz>; rel="prev"');
      return undefined;
    });
    expect(await client.listTags(REPO, 2)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual([
      `GET ${ORIGIN}/v2/team/app/tags/list?n=2`,
      `GET ${ORIGIN}/v2/team/app/tags/list?n=2&last=b`,
      `GET ${ORIGIN}/v2/team/app/tags/list?n=2&last=d`,
      `GET ${ORIGIN}/v2/team/app/tags/list?n=2&last=e`,
    ]);
  });

  it('asks for 1000 tags a page by default and stops at a page without Link', async () => {
    const { client, seen } = scripted(() => tagPage(['only']));
    expect(await client.listTags(REPO)).toEqual(['only']);
    expect(seen.map((r) => r.url)).toEqual([`${ORIGIN}/v2/team/app/tags/list?n=1000`]);
  });

  it('stops with an error when a Link repeats a page, naming it without its query', async () => {
    const { client, seen } = scripted((req) => {
      const url = new URL(req.url);
      if (url.searchParams.get('last') === null) return tagPage(['a'], '</v2/team/app/tags/list?last=a&token=s3cret>; rel="next"');
      return tagPage(['b'], '</v2/team/app/tags/list?last=a&token=s3cret>; rel="next"');
    });
    const err = (await client.listTags(REPO).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.message).toBe(`${WHAT}: the registry's Link pagination loops (it sent ${ORIGIN}/v2/team/app/tags/list again)`);
    expect(seen).toHaveLength(2);
  });

  it('follows 1000 pages and refuses the 1001st', async () => {
    // The 1001st page would end the chain: only the cap stops it.
    const { client, seen } = scripted((req) => {
      const page = Number(new URL(req.url).searchParams.get('page') ?? '1');
      return tagPage([`t${page}`], page < 1001 ? `</v2/team/app/tags/list?page=${page + 1}>; rel="next"` : undefined);
    });
    await expect(client.listTags(REPO)).rejects.toThrow(new RegistryError(`${WHAT}: more than 1000 pages; refusing to follow the registry's Link chain further`));
    expect(seen).toHaveLength(1000);
    expect(seen[999]?.url).toBe(`${ORIGIN}/v2/team/app/tags/list?page=1000`);
  });

  it('reads empty and missing tag lists as no tags, and refuses malformed ones', async () => {
    for (const body of ['null', '{}', '{"tags":null}', '{"tags":[]}']) {
      expect(await scripted(() => tagPage(body)).client.listTags(REPO)).toEqual([]);
    }
    await expect(scripted(() => tagPage('{"tags":')).client.listTags(REPO)).rejects.toThrow(new RegistryError(`${WHAT}: the registry's tag list is not JSON`));
    for (const body of ['{"tags":"a"}', '{"tags":[1]}', '{"tags":["a",2]}', '{"tags":[null,"a"]}']) {
      await expect(scripted(() => tagPage(body)).client.listTags(REPO)).rejects.toThrow(new RegistryError(`${WHAT}: malformed tag list: tags: expected an array of strings`));
    }
  });

  it('reports an absent repository as NotFoundError', async () => {
    const { client, seen } = scripted(() => undefined);
    await expect(client.listTags(REPO)).rejects.toBeInstanceOf(NotFoundError);
    expect(seen[0]?.headers).not.toHaveProperty('authorization');
  });
});

/** A registry in memory behind the scripted fetch: manifests, blobs, uploads and mounts, as distribution does them. */
function memoryRegistry() {
  const manifests = new Map<string, { bytes: Buffer; mediaType: string }>();
  const blobs = new Map<string, Buffer>();
  const uploads = new Map<string, { repo: string; parts: Buffer[] }>();
  let nextUpload = 0;
  const route: Route = (req) => {
    const url = new URL(req.url);
    const path = url.pathname;
    const head = req.method === 'HEAD';
    if (path === '/v2/') return new Response('{}', { status: 200 });
    const list = /^\/v2\/(.+)\/tags\/list$/.exec(path);
    if (list) {
      const tags = [...manifests.keys()].filter((k) => k.startsWith(`${list[1]}@`) && !k.includes('@sha256:')).map((k) => k.slice(k.indexOf('@') + 1));
      return tagPage(tags);
    }
    let m = /^\/v2\/(.+)\/blobs\/uploads\/(.*)$/.exec(path);
    if (m) {
      const [, repo, id] = m as unknown as [string, string, string];
      if (req.method === 'POST') {
        const mount = url.searchParams.get('mount');
        const from = url.searchParams.get('from');
        if (mount && from && blobs.has(`${from}@${mount}`)) {
          blobs.set(`${repo}@${mount}`, blobs.get(`${from}@${mount}`)!);
          return new Response(null, { status: 201, headers: { location: `/v2/${repo}/blobs/${mount}` } });
        }
        const upload = `u${++nextUpload}`;
        uploads.set(upload, { repo, parts: [] });
        return new Response(null, { status: 202, headers: { location: `/v2/${repo}/blobs/uploads/${upload}?_state=0` } });
      }
      const upload = uploads.get(id);
      if (!upload) return undefined;
      if (req.method === 'DELETE') {
        uploads.delete(id);
        return new Response(null, { status: 204 });
      }
      if (req.method === 'PATCH') {
        upload.parts.push(req.body ?? Buffer.alloc(0));
        return new Response(null, { status: 202, headers: { location: `/v2/${repo}/blobs/uploads/${id}?_state=${upload.parts.length}` } });
      }
      if (req.method === 'PUT') {
        const data = Buffer.concat([...upload.parts, req.body ?? Buffer.alloc(0)]);
        const digest = url.searchParams.get('digest')!;
        if (sha(data) !== digest) return new Response('{"errors":[{"code":"DIGEST_INVALID"}]}', { status: 400 });
        blobs.set(`${repo}@${digest}`, data);
        uploads.delete(id);
        return new Response(null, { status: 201, headers: { 'docker-content-digest': digest } });
      }
      return undefined;
    }
    m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(path);
    if (!m) return undefined;
    const [, repo, kind, target] = m as unknown as [string, string, string, string];
    if (kind === 'manifests') {
      if (req.method === 'PUT') {
        const bytes = req.body ?? Buffer.alloc(0);
        const entry = { bytes, mediaType: req.headers['content-type'] ?? '' };
        manifests.set(`${repo}@${target}`, entry);
        manifests.set(`${repo}@${sha(bytes)}`, entry);
        return new Response(null, { status: 201, headers: { 'docker-content-digest': sha(bytes) } });
      }
      const entry = manifests.get(`${repo}@${target}`);
      if (!entry) return undefined;
      if (req.method === 'DELETE') {
        manifests.delete(`${repo}@${target}`);
        return new Response(null, { status: 202 });
      }
      const headers = { 'content-type': entry.mediaType, 'content-length': String(entry.bytes.length), 'docker-content-digest': sha(entry.bytes) };
      return new Response(head ? null : entry.bytes, { status: 200, headers });
    }
    const blob = blobs.get(`${repo}@${target}`);
    if (!blob) return undefined;
    return new Response(head ? null : blob, { status: 200, headers: { 'content-length': String(blob.length), 'content-type': 'application/octet-stream' } });
  };
  return { manifests, blobs, uploads, route };
}

const enc = (value: unknown) => Buffer.from(JSON.stringify(value));
const CONFIG = enc({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
const LAYER = Buffer.from('layer bytes, a few of them');
const descriptor = (mediaType: string, bytes: Buffer) => ({ mediaType, digest: sha(bytes), size: bytes.length });
const imageManifest = (config = CONFIG, layers = [LAYER]) =>
  enc({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: descriptor(MediaType.OciConfig, config), layers: layers.map((l) => descriptor(MediaType.OciLayer, l)) });

/** The memory registry with one image at team/app:1 (and by digest). */
function withImage() {
  const mem = memoryRegistry();
  const manifest = imageManifest();
  mem.blobs.set(`team/app@${sha(CONFIG)}`, CONFIG);
  mem.blobs.set(`team/app@${sha(LAYER)}`, LAYER);
  for (const target of ['1', sha(manifest)]) mem.manifests.set(`team/app@${target}`, { bytes: manifest, mediaType: MediaType.OciManifest });
  return { ...mem, manifest, digest: sha(manifest) };
}

const REF = { registry: HOST, repository: 'team/app', tag: '1' };
const ACCEPT = [MediaType.OciIndex, MediaType.DockerManifestList, MediaType.OciManifest, MediaType.DockerManifest].join(', ');

describe('manifests', () => {
  it('HEADs a manifest with the Accept list and reads digest, media type (parameters cut) and size', async () => {
    const mem = withImage();
    const { client, seen } = scripted((req) => {
      const res = mem.route(req);
      if (req.method !== 'HEAD' || !res) return res;
      return new Response(null, { status: 200, headers: { 'content-type': ` ${MediaType.OciManifest} ; charset=utf-8`, 'docker-content-digest': mem.digest, 'content-length': '321' } });
    });
    expect(await client.headManifest(REF)).toEqual({ digest: mem.digest, mediaType: MediaType.OciManifest, size: 321 });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'HEAD', url: `${ORIGIN}/v2/team/app/manifests/1`, headers: { accept: ACCEPT } });
  });

  it('reads the manifest when a HEAD leaves out the digest or the media type, and takes a missing length as 0', async () => {
    const mem = withImage();
    for (const headers of [{ 'content-type': MediaType.OciManifest }, { 'docker-content-digest': 'sha256:' + '0'.repeat(64) }] as Record<string, string>[]) {
      const { client, seen } = scripted((req) => (req.method === 'HEAD' ? new Response(null, { status: 200, headers }) : mem.route(req)));
      expect(await client.headManifest(REF)).toEqual({ digest: mem.digest, mediaType: MediaType.OciManifest, size: mem.manifest.length });
      expect(seen.map((r) => r.method)).toEqual(['HEAD', 'GET']);
    }
    const { client } = scripted(() => new Response(null, { status: 200, headers: { 'content-type': MediaType.OciManifest, 'docker-content-digest': mem.digest } }));
    expect(await client.headManifest(REF)).toEqual({ digest: mem.digest, mediaType: MediaType.OciManifest, size: 0 });
  });

  it('refuses a malformed digest header, and a digest other than the one asked for', async () => {
    const bad = 'x'.repeat(100);
    const { client } = scripted(() => new Response(null, { status: 200, headers: { 'content-type': MediaType.OciManifest, 'docker-content-digest': bad } }));
    await expect(client.headManifest(REF)).rejects.toThrow(new RegistryError(`${HOST}/team/app:1: the registry answered with a malformed digest header (${JSON.stringify(bad.slice(0, 80))})`));
    const mem = withImage();
    const other = `sha256:${'e'.repeat(64)}`;
    const byDigest = scripted(() => new Response(null, { status: 200, headers: { 'content-type': MediaType.OciManifest, 'docker-content-digest': mem.digest } }));
    const ref = { registry: HOST, repository: 'team/app', digest: other };
    const err = await byDigest.client.headManifest(ref).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DigestMismatchError);
    expect((err as Error).message).toBe(`${HOST}/team/app@${other}: the registry reports digest ${mem.digest}, not the one asked for; refused`);
    expect(await byDigest.client.headManifest({ ...ref, digest: mem.digest })).toMatchObject({ digest: mem.digest });
    expect(byDigest.seen.map((r) => r.url)).toEqual([`${ORIGIN}/v2/team/app/manifests/${other}`, `${ORIGIN}/v2/team/app/manifests/${mem.digest}`]);
  });

  it('asks for latest when a reference has neither tag nor digest', async () => {
    const { client, seen } = scripted(() => undefined);
    expect(await client.manifestExists({ registry: HOST, repository: 'team/app' })).toBe(false);
    expect(seen[0]?.url).toBe(`${ORIGIN}/v2/team/app/manifests/latest`);
  });

  it('GETs the exact bytes with their digest, media type and size', async () => {
    const mem = withImage();
    const { client, seen } = scripted(mem.route);
    const got = await client.getManifest({ ...REF, tag: undefined, digest: mem.digest });
    expect(got).toMatchObject({ digest: mem.digest, mediaType: MediaType.OciManifest, size: mem.manifest.length });
    expect(Buffer.from(got.bytes).equals(mem.manifest)).toBe(true);
    expect(seen[0]).toMatchObject({ method: 'GET', url: `${ORIGIN}/v2/team/app/manifests/${mem.digest}`, headers: { accept: ACCEPT } });
  });

  it('refuses content that does not hash to the digest asked for or announced', async () => {
    const mem = withImage();
    const other = `sha256:${'e'.repeat(64)}`;
    const serve = (announced?: string) =>
      scripted(() => new Response(mem.manifest, { status: 200, headers: { 'content-type': MediaType.OciManifest, ...(announced === undefined ? {} : { 'docker-content-digest': announced }) } })).client;
    const asked = await serve().getManifest({ registry: HOST, repository: 'team/app', digest: other }).catch((e: unknown) => e);
    expect(asked).toBeInstanceOf(DigestMismatchError);
    expect((asked as Error).message).toBe(`${HOST}/team/app@${other}: the manifest's content hashes to ${mem.digest}, not the requested digest`);
    for (const announced of [other, 'not-a-digest', `${'y'.repeat(80)}zzz`]) {
      const err = await serve(announced).getManifest(REF).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DigestMismatchError);
      expect((err as Error).message).toBe(`${HOST}/team/app:1: the manifest's content hashes to ${mem.digest}, the registry announced ${JSON.stringify(announced.slice(0, 80))}`);
    }
    expect((await serve('').getManifest(REF)).digest).toBe(mem.digest);
    expect((await serve(mem.digest).getManifest(REF)).digest).toBe(mem.digest);
  });

  it('checks the media type the registry sent against the one the manifest declares', async () => {
    const mem = withImage();
    const { client } = scripted(() => new Response(mem.manifest, { status: 200, headers: { 'content-type': `${MediaType.OciIndex}; charset=utf-8` } }));
    await expect(client.getManifest(REF)).rejects.toThrow(
      new RegistryError(`${HOST}/team/app:1: the manifest says its media type is ${MediaType.OciManifest} but the registry sent ${MediaType.OciIndex}`),
    );
  });

  it('turns a malformed manifest into a RegistryError naming the reference', async () => {
    const { client } = scripted(() => new Response('{"schemaVersion":2,"mediaType":"x"', { status: 200, headers: { 'content-type': MediaType.OciManifest } }));
    const err = await client.getManifest(REF).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as Error).message).toMatch(new RegExp(`^${HOST}/team/app:1: the manifest is not valid JSON`));
  });

  it('PUTs exact bytes under the tag, the digest asked for, or their own digest', async () => {
    const mem = memoryRegistry();
    const { client, seen } = scripted(mem.route);
    const bytes = imageManifest();
    expect(await client.putManifest(REF, bytes, MediaType.OciManifest)).toBe(sha(bytes));
    expect(await client.putManifest({ registry: HOST, repository: 'team/app', digest: `sha256:${'a'.repeat(64)}` }, bytes, MediaType.OciManifest)).toBe(sha(bytes));
    expect(await client.putManifest({ registry: HOST, repository: 'team/app' }, bytes, 'x/y')).toBe(sha(bytes));
    expect(seen.map((r) => `${r.method} ${r.url} ${r.headers['content-type']}`)).toEqual([
      `PUT ${ORIGIN}/v2/team/app/manifests/1 ${MediaType.OciManifest}`,
      `PUT ${ORIGIN}/v2/team/app/manifests/sha256:${'a'.repeat(64)} ${MediaType.OciManifest}`,
      `PUT ${ORIGIN}/v2/team/app/manifests/${sha(bytes)} x/y`,
    ]);
    expect(seen.every((r) => r.body?.equals(bytes))).toBe(true);
  });

  it('accepts 200, 201 and 202 for a manifest PUT, and refuses a registry that stored other bytes', async () => {
    const bytes = imageManifest();
    for (const status of [200, 201, 202]) {
      expect(await scripted(() => new Response(null, { status })).client.putManifest(REF, bytes, MediaType.OciManifest)).toBe(sha(bytes));
    }
    const other = `sha256:${'e'.repeat(64)}`;
    const { client } = scripted(() => new Response(null, { status: 201, headers: { 'docker-content-digest': other } }));
    await expect(client.putManifest(REF, bytes, MediaType.OciManifest)).rejects.toThrow(new DigestMismatchError(`${HOST}/team/app:1: the registry stored ${other}, we sent ${sha(bytes)}`));
    await expect(scripted(() => new Response(null, { status: 204 })).client.putManifest(REF, bytes, MediaType.OciManifest)).rejects.toThrow(`push manifest ${HOST}/team/app:1: ${HOST} answered HTTP 204`);
  });

  it('DELETEs a manifest by digest, accepting 200 and 202', async () => {
    const mem = withImage();
    for (const status of [200, 202]) {
      const { client, seen } = scripted(() => new Response(null, { status }));
      await client.deleteManifest({ registry: HOST, repository: 'team/app', digest: mem.digest });
      expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual([`DELETE ${ORIGIN}/v2/team/app/manifests/${mem.digest}`]);
    }
    await expect(scripted(() => new Response(null, { status: 204 })).client.deleteManifest({ registry: HOST, repository: 'team/app', digest: mem.digest })).rejects.toThrow(
      `delete ${HOST}/team/app@${mem.digest}: ${HOST} answered HTTP 204`,
    );
  });
});

describe('images and configs', () => {
  const platformImage = (mem: ReturnType<typeof memoryRegistry>, architecture: string) => {
    const config = enc({ architecture, os: 'linux' });
    const manifest = imageManifest(config);
    mem.blobs.set(`team/app@${sha(config)}`, config);
    mem.manifests.set(`team/app@${sha(manifest)}`, { bytes: manifest, mediaType: MediaType.OciManifest });
    return manifest;
  };
  const withIndex = () => {
    const mem = memoryRegistry();
    const amd = platformImage(mem, 'amd64');
    const arm = platformImage(mem, 'arm64');
    const index = enc({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [
        { ...descriptor(MediaType.OciManifest, amd), platform: { os: 'linux', architecture: 'amd64' } },
        { ...descriptor(MediaType.OciManifest, arm), platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        descriptor(MediaType.OciManifest, amd),
      ],
    });
    for (const target of ['multi', sha(index)]) mem.manifests.set(`team/app@${target}`, { bytes: index, mediaType: MediaType.OciIndex });
    return { ...mem, amd, arm, index };
  };

  it('gives a single-platform image as it is, whatever platform was asked for', async () => {
    const mem = withImage();
    const { client } = scripted(mem.route);
    const image = await client.getImage(REF, { os: 'linux', architecture: 's390x' });
    expect(image).toEqual({ manifest: JSON.parse(mem.manifest.toString()), digest: mem.digest, mediaType: MediaType.OciManifest });
  });

  it('picks the platform child of an index, naming every platform when none matches or none was asked for', async () => {
    const mem = withIndex();
    const { client, seen } = scripted(mem.route);
    const ref = { ...REF, tag: 'multi' };
    const image = await client.getImage(ref, { os: 'linux', architecture: 'arm64' });
    expect(image).toEqual({ manifest: JSON.parse(mem.arm.toString()), digest: sha(mem.arm), mediaType: MediaType.OciManifest, index: { digest: sha(mem.index), mediaType: MediaType.OciIndex } });
    expect(seen.map((r) => r.url)).toEqual([`${ORIGIN}/v2/team/app/manifests/multi`, `${ORIGIN}/v2/team/app/manifests/${sha(mem.arm)}`]);
    const none = await client.getImage(ref, { os: 'linux', architecture: 's390x' }).catch((e: unknown) => e);
    expect(none).toBeInstanceOf(NotFoundError);
    expect((none as Error).message).toBe(`${HOST}/team/app:multi has no linux/s390x image (it has linux/amd64, linux/arm64/v8, ?)`);
    const unasked = await client.getImage(ref).catch((e: unknown) => e);
    expect(unasked).not.toBeInstanceOf(NotFoundError);
    expect((unasked as Error).message).toBe(`${HOST}/team/app:multi is a multi-platform index (linux/amd64, linux/arm64/v8, ?): say which platform`);
  });

  it('refuses an index where an image manifest is needed', async () => {
    const mem = withIndex();
    const { client } = scripted(mem.route);
    const ref = { ...REF, tag: 'multi' };
    const m = await client.getManifest(ref);
    expect(() => client.imageOf(m, ref)).toThrow(new RegistryError(`${HOST}/team/app:multi: expected an image manifest, found an index (${MediaType.OciIndex})`));
    await expect(client.getConfig(REPO, m.manifest as never)).rejects.toThrow(new RegistryError(`${HOST}/team/app: the manifest has no config (is it an index?)`));
  });

  it('reads a config by its descriptor: the exact size, the digest, then the JSON', async () => {
    const mem = withImage();
    const { client, seen } = scripted(mem.route);
    const manifest = client.imageOf(await client.getManifest(REF), REF);
    expect(await client.getConfig(REPO, manifest)).toEqual(JSON.parse(CONFIG.toString()));
    expect(seen.at(-1)).toMatchObject({ method: 'GET', url: `${ORIGIN}/v2/team/app/blobs/${sha(CONFIG)}` });
    const what = `config ${sha(CONFIG)} in ${HOST}/team/app`;
    const serving = (body: Buffer) => scripted((req) => (req.url.includes('/blobs/') ? new Response(body, { status: 200 }) : undefined)).client;
    await expect(serving(CONFIG.subarray(1)).getConfig(REPO, manifest)).rejects.toThrow(new DigestMismatchError(`${what}: got ${CONFIG.length - 1} bytes, the descriptor says ${CONFIG.length}`));
    const flipped = Buffer.from(CONFIG);
    flipped[0] = flipped[0]! ^ 1;
    await expect(serving(flipped).getConfig(REPO, manifest)).rejects.toThrow(new DigestMismatchError(`${what}: content hashes to ${sha(flipped)}; rejected`));
    const notConfig = enc({ os: 'linux' });
    const bad = { ...manifest, config: descriptor(MediaType.OciConfig, notConfig) };
    const err = await serving(notConfig).getConfig(REPO, bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as Error).message).toBe(`config ${sha(notConfig)} in ${HOST}/team/app: malformed image config: architecture: Invalid input: expected string, received undefined`);
  });

  it('refuses a config descriptor larger than 4 MiB before asking for it, and reads one of exactly 4 MiB', async () => {
    const { client, seen } = scripted(() => undefined);
    const digest = `sha256:${'c'.repeat(64)}`;
    const manifest = { schemaVersion: 2 as const, config: { mediaType: MediaType.OciConfig, digest, size: 4 * 1024 * 1024 + 1 }, layers: [] };
    await expect(client.getConfig(REPO, manifest)).rejects.toThrow(`config ${digest} in ${HOST}/team/app: its descriptor says 4194305 bytes, more than the 4194304 allowed`);
    expect(seen).toHaveLength(0);
    await expect(client.getConfig(REPO, { ...manifest, config: { ...manifest.config, size: 4 * 1024 * 1024 } })).rejects.toBeInstanceOf(NotFoundError);
    expect(seen).toHaveLength(1);
  });
});

/** A body that sends `bytes` (in pieces of `piece`) and then, when `cut`, breaks the connection. */
function body(bytes: Buffer, cut: boolean, piece = bytes.length || 1): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at < bytes.length) {
        controller.enqueue(new Uint8Array(bytes.subarray(at, at + piece)));
        at += piece;
      } else if (cut) controller.error(new Error('connection cut'));
      else controller.close();
    },
  });
}

/** A blob server that honours Range (unless told not to) and sends at most `perAnswer` bytes before a cut. */
function blobServer(blob: Buffer, options: { perAnswer?: number; ignoreRange?: boolean; piece?: number } = {}): Route {
  return (req) => {
    if (!req.url.includes('/blobs/')) return undefined;
    if (req.method === 'HEAD') return new Response(null, { status: 200 });
    const from = options.ignoreRange ? 0 : Number(/bytes=(\d+)-/.exec(req.headers.range ?? '')?.[1] ?? 0);
    const rest = blob.subarray(from);
    const perAnswer = options.perAnswer ?? rest.length;
    const cut = rest.length > perAnswer;
    return new Response(body(rest.subarray(0, perAnswer), cut, options.piece), { status: from > 0 ? 206 : 200 });
  };
}

const readAll = async (stream: Readable) => {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
};

describe('blobs', () => {
  const BLOB = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
  const DIGEST = sha(BLOB);
  const WHAT_BLOB = `blob ${DIGEST} in ${HOST}/team/app`;

  it('HEADs a blob for its size (-1 when not given), and tells present from absent', async () => {
    const { client, seen } = scripted((req) => {
      if (req.url.endsWith(DIGEST)) return new Response(null, { status: 200, headers: { 'content-length': '100' } });
      if (req.url.endsWith('1'.repeat(64))) return new Response(null, { status: 200 });
      return undefined;
    });
    expect(await client.headBlob(REPO, DIGEST)).toBe(100);
    expect(await client.headBlob(REPO, `sha256:${'1'.repeat(64)}`)).toBe(-1);
    expect(await client.blobExists(REPO, DIGEST)).toBe(true);
    expect(await client.blobExists(REPO, `sha256:${'2'.repeat(64)}`)).toBe(false);
    expect(seen.map((r) => `${r.method} ${r.url}`)[0]).toBe(`HEAD ${ORIGIN}/v2/team/app/blobs/${DIGEST}`);
    const denied = scripted(() => new Response(null, { status: 403 }));
    await expect(denied.client.headBlob(REPO, DIGEST)).rejects.toThrow(`${WHAT_BLOB}: ${HOST} denied access (HTTP 403)`);
  });

  it('refuses a malformed digest before any request', () => {
    const { client, seen } = scripted(() => undefined);
    expect(() => client.openBlob(REPO, 'sha256:../../etc')).toThrow(RegistryError);
    expect(seen).toHaveLength(0);
  });

  it('resumes a cut download with a Range request from where it broke', async () => {
    const { client, seen } = scripted(blobServer(BLOB, { perAnswer: 40 }), { maxAttempts: 5 });
    expect((await client.getBlob(REPO, DIGEST)).length).toBe(100);
    expect(Buffer.from(await client.getBlob(REPO, DIGEST)).equals(BLOB)).toBe(true);
    expect(seen.slice(0, 3).map((r) => `${r.method} ${r.headers.range}`)).toEqual(['GET undefined', 'GET bytes=40-', 'GET bytes=80-']);
    expect(client.openBlob(REPO, DIGEST).readableObjectMode).toBe(false);
  });

  it('skips what it already has when the registry ignores Range', async () => {
    let answers = 0;
    const full = blobServer(BLOB, { ignoreRange: true, piece: 30 });
    const { client, seen } = scripted((req) => (answers++ === 0 ? new Response(body(BLOB.subarray(0, 45), true, 30), { status: 200 }) : full(req)));
    expect(Buffer.from(await client.getBlob(REPO, DIGEST)).equals(BLOB)).toBe(true);
    expect(seen.map((r) => r.headers.range)).toEqual([undefined, 'bytes=45-']);
  });

  it('gives up after maxResumes resumes (3 by default) or when the attempt budget is spent', async () => {
    const many = scripted(blobServer(BLOB, { perAnswer: 10 }), { maxAttempts: 10 });
    const broke = (await many.client.getBlob(REPO, DIGEST).catch((e: unknown) => e)) as RegistryError;
    expect(broke).toBeInstanceOf(RegistryError);
    expect(broke.message).toBe(`${WHAT_BLOB}: the connection broke at byte 40 (connection cut)`);
    expect((broke.cause as Error).message).toBe('connection cut');
    expect(many.seen).toHaveLength(4);
    const one = scripted(blobServer(BLOB, { perAnswer: 10 }), { maxAttempts: 10 });
    await expect(readAll(one.client.openBlob(REPO, DIGEST, { maxResumes: 1 }))).rejects.toThrow(`${WHAT_BLOB}: the connection broke at byte 20 (connection cut)`);
    expect(one.seen).toHaveLength(2);
    const budget = scripted(blobServer(BLOB, { perAnswer: 10 }), { maxAttempts: 2 });
    await expect(budget.client.getBlob(REPO, DIGEST)).rejects.toThrow(`${WHAT_BLOB}: the connection broke at byte 20 (connection cut)`);
    expect(budget.seen).toHaveLength(2);
  });

  it('ends a blob that trickles above the per-window floor at its overall deadline, resumes included', async () => {
    // 10 bytes every 20 ms: never idle, but the 100-byte blob needs 200 ms and gets 60.
    const slow = (bytes: Buffer) => {
      let at = 0;
      return new ReadableStream<Uint8Array>({
        async pull(controller) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          if (at >= bytes.length) return controller.close();
          controller.enqueue(new Uint8Array(bytes.subarray(at, at + 10)));
          at += 10;
        },
      });
    };
    const trickle = scripted((req) => (req.url.includes('/blobs/') ? new Response(slow(BLOB), { status: 200 }) : undefined), { blobDeadlineMs: 60 });
    await expect(trickle.client.getBlob(REPO, DIGEST)).rejects.toThrow(/: not complete within its 0\.06 s deadline \([1-9]\d? bytes came\); the registry is too slow$/);
    // A cut after the deadline is not resumed.
    const cut = scripted(blobServer(BLOB, { perAnswer: 40 }), { blobDeadlineMs: 0, maxAttempts: 5 });
    await expect(cut.client.getBlob(REPO, DIGEST)).rejects.toThrow(/not complete within its 0 s deadline/);
    expect(cut.seen).toHaveLength(1);
    // The default: 15 minutes plus a second per 512 KiB of the descriptor's size.
    expect(bodyDeadlineMs(4 * 1024 ** 3)).toBe(15 * 60_000 + 8192_000);
  });

  it('gives a resume that brought 64 KiB a fresh attempt budget, and one that brought less none', async () => {
    const window = 64 * 1024;
    const big = Buffer.alloc(3 * window, 7);
    const enough = scripted(blobServer(big, { perAnswer: window }), { maxAttempts: 2 });
    expect((await enough.client.getBlob(REPO, sha(big))).length).toBe(big.length);
    expect(enough.seen).toHaveLength(3);
    const short = scripted(blobServer(big, { perAnswer: window - 1 }), { maxAttempts: 2 });
    await expect(short.client.getBlob(REPO, sha(big))).rejects.toThrow(`the connection broke at byte ${2 * (window - 1)}`);
    expect(short.seen).toHaveLength(2);
  });

  it('checks the size and the digest at the end, and cuts off a blob longer than its descriptor', async () => {
    const { client, seen } = scripted(blobServer(BLOB, { piece: 30 }), { maxAttempts: 5 });
    expect((await readAll(client.openBlob(REPO, DIGEST, { size: 100 }))).equals(BLOB)).toBe(true);
    await expect(readAll(client.openBlob(REPO, DIGEST, { size: 101 }))).rejects.toThrow(new DigestMismatchError(`${WHAT_BLOB}: got 100 bytes, expected 101`));
    seen.splice(0);
    const over = await readAll(client.openBlob(REPO, DIGEST, { size: 99 })).catch((e: unknown) => e);
    expect(over).toBeInstanceOf(DigestMismatchError);
    expect((over as Error).message).toBe(`${WHAT_BLOB}: the registry sent more than the 99 bytes the descriptor gives; rejected`);
    expect(seen).toHaveLength(1);
    const other = `sha256:${'3'.repeat(64)}`;
    const corrupt = await client.getBlob(REPO, other).catch((e: unknown) => e);
    expect(corrupt).toBeInstanceOf(DigestMismatchError);
    expect((corrupt as Error).message).toBe(`blob ${other} in ${HOST}/team/app: content hashes to ${DIGEST}; the blob is corrupt and was rejected`);
  });
});

describe('uploads', () => {
  const DST = { registry: HOST, repository: 'team/dst' };

  it('skips a blob the registry has, and PUTs a small one whole after starting an upload', async () => {
    const mem = withImage();
    const { client, seen } = scripted(mem.route);
    expect(await client.pushBlob(REPO, LAYER, 'x/layer')).toEqual({ mediaType: 'x/layer', digest: sha(LAYER), size: LAYER.length });
    expect(seen.map((r) => r.method)).toEqual(['HEAD']);
    seen.splice(0);
    expect(await client.pushBlob(DST, LAYER)).toEqual({ mediaType: 'application/octet-stream', digest: sha(LAYER), size: LAYER.length });
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual([
      `HEAD ${ORIGIN}/v2/team/dst/blobs/${sha(LAYER)}`,
      `POST ${ORIGIN}/v2/team/dst/blobs/uploads/`,
      `PUT ${ORIGIN}/v2/team/dst/blobs/uploads/u1?_state=0&digest=${encodeURIComponent(sha(LAYER))}`,
    ]);
    expect(seen[2]?.headers['content-type']).toBe('application/octet-stream');
    expect(seen[2]?.body?.equals(LAYER)).toBe(true);
    expect(mem.blobs.get(`team/dst@${sha(LAYER)}`)?.equals(LAYER)).toBe(true);
  });

  it('uploads a blob larger than the chunk size in PATCH chunks of exactly that size, then closes with PUT ?digest=', async () => {
    const data = Buffer.from(Array.from({ length: 25 }, (_, i) => 65 + i));
    const mem = memoryRegistry();
    const { client, seen } = scripted(mem.route, { chunkSize: 10 });
    await client.pushBlob(DST, data);
    const writes = seen.filter((r) => r.method === 'PATCH' || r.method === 'PUT');
    expect(writes.map((r) => `${r.method} ${r.url} ${r.headers['content-range']} ${r.headers['content-length']} ${r.body?.toString() ?? ''}`)).toEqual([
      `PATCH ${ORIGIN}/v2/team/dst/blobs/uploads/u1?_state=0 0-9 10 ABCDEFGHIJ`,
      `PATCH ${ORIGIN}/v2/team/dst/blobs/uploads/u1?_state=1 10-19 10 KLMNOPQRST`,
      `PATCH ${ORIGIN}/v2/team/dst/blobs/uploads/u1?_state=2 20-24 5 UVWXY`,
      `PUT ${ORIGIN}/v2/team/dst/blobs/uploads/u1?_state=3&digest=${encodeURIComponent(sha(data))} undefined 0 `,
    ]);
    expect(writes.every((r) => r.headers['content-type'] === 'application/octet-stream')).toBe(true);
    expect(mem.blobs.get(`team/dst@${sha(data)}`)?.equals(data)).toBe(true);
    // exactly the chunk size: one PUT
    seen.splice(0);
    await client.pushBlob(DST, data.subarray(0, 10));
    expect(seen.map((r) => r.method)).toEqual(['HEAD', 'POST', 'PUT']);
  });

  it('re-chunks a stream whatever the sizes of its pieces', async () => {
    const data = Buffer.from('abcdefghijklmnopqrstuvwxyz0123');
    const mem = memoryRegistry();
    const { client, seen } = scripted(mem.route, { chunkSize: 10 });
    const pieces = [data.subarray(0, 3), data.subarray(3, 18), Buffer.alloc(0), data.subarray(18, 20), data.subarray(20)];
    await client.pushBlobStream(DST, () => Readable.from(pieces), { digest: sha(data), size: data.length });
    expect(seen.filter((r) => r.method === 'PATCH').map((r) => r.body?.toString())).toEqual(['abcdefghij', 'klmnopqrst', 'uvwxyz0123']);
    expect(mem.blobs.get(`team/dst@${sha(data)}`)?.equals(data)).toBe(true);
  });

  it('keeps the upload location when a PATCH answer gives none', async () => {
    const mem = memoryRegistry();
    const { client, seen } = scripted((req) => {
      const res = mem.route(req);
      return req.method === 'PATCH' && res ? new Response(null, { status: 204 }) : res;
    }, { chunkSize: 4 });
    const data = Buffer.from('12345678');
    await client.pushBlobStream(DST, () => Readable.from([data]), { digest: sha(data) });
    expect(seen.filter((r) => r.method !== 'POST').map((r) => `${r.method} ${new URL(r.url).search}`)).toEqual(['PATCH ?_state=0', 'PATCH ?_state=0', `PUT ?_state=0&digest=${encodeURIComponent(sha(data))}`]);
  });

  it('cancels the upload and fails when the source gives another size than announced', async () => {
    const mem = memoryRegistry();
    const { client, seen } = scripted(mem.route, { chunkSize: 4 });
    const data = Buffer.from('123456');
    await expect(client.pushBlobStream(DST, () => Readable.from([data]), { digest: sha(data), size: 7 })).rejects.toThrow(
      new RegistryError(`upload ${sha(data)} to ${HOST}/team/dst: the source gave 6 bytes, expected 7`),
    );
    expect(seen.map((r) => `${r.method} ${new URL(r.url).pathname}${new URL(r.url).search}`)).toEqual([
      'POST /v2/team/dst/blobs/uploads/',
      'PATCH /v2/team/dst/blobs/uploads/u1?_state=0',
      'PATCH /v2/team/dst/blobs/uploads/u1?_state=1',
      'DELETE /v2/team/dst/blobs/uploads/u1?_state=2',
    ]);
    expect(mem.uploads.size).toBe(0);
  });

  it('cancels the upload once, without retrying, when a PATCH fails, and keeps the PATCH error', async () => {
    const mem = memoryRegistry();
    const { client, seen } = scripted((req) => (req.method === 'PATCH' ? new Response('{"errors":[{"code":"DENIED"}]}', { status: 403 }) : req.method === 'DELETE' ? new Response(null, { status: 500 }) : mem.route(req)));
    const data = Buffer.from('1234');
    await expect(client.pushBlobStream(DST, () => Readable.from([data]), { digest: sha(data) })).rejects.toThrow(/denied access \(HTTP 403\)/);
    expect(seen.map((r) => r.method)).toEqual(['POST', 'PATCH', 'DELETE']);
  });

  it('sends each full chunk as soon as it has it, and nothing for an empty source', async () => {
    const mem = memoryRegistry();
    const { client, seen } = scripted(mem.route, { chunkSize: 4 });
    async function* thenBreak() {
      yield Buffer.from('1234');
      throw new Error('source broke');
    }
    await expect(client.pushBlobStream(DST, () => Readable.from(thenBreak()), { digest: sha(Buffer.from('1234')) })).rejects.toThrow('source broke');
    expect(seen.map((r) => `${r.method} ${r.body?.toString() ?? ''}`)).toEqual(['POST ', 'PATCH 1234', 'DELETE ']);
    seen.splice(0);
    await client.pushBlobStream(DST, () => Readable.from([]), { digest: sha(Buffer.alloc(0)), size: 0 });
    expect(seen.map((r) => r.method)).toEqual(['POST', 'PUT']);
    expect(mem.blobs.get(`team/dst@${sha(Buffer.alloc(0))}`)).toEqual(Buffer.alloc(0));
  });

  it('names the operation when an upload or a mount fails', async () => {
    const failing = (method: string) => scripted((req) => (req.method === method ? new Response(null, { status: 400 }) : memoryRegistry().route(req)));
    await expect(failing('POST').client.pushBlob(DST, LAYER)).rejects.toThrow(`start upload to ${HOST}/team/dst: ${HOST} answered HTTP 400`);
    await expect(failing('PUT').client.pushBlob(DST, LAYER)).rejects.toThrow(`upload ${sha(LAYER)} to ${HOST}/team/dst: ${HOST} answered HTTP 400`);
    await expect(failing('POST').client.mountBlob(REPO, DST, sha(LAYER))).rejects.toThrow(`mount ${sha(LAYER)} from team/app into team/dst: ${HOST} answered HTTP 400`);
    await expect(failing('POST').client.mountBlob(REPO, DST, 'sha256:nope')).rejects.toThrow(/^mount into 127\.0\.0\.1:5999\/team\/dst: "sha256:nope" is not a valid digest/);
  });

  it('cancels the body of the answer to an upload cancel', async () => {
    let cancelled = false;
    const answer = () => new Response(new ReadableStream({ cancel: () => void (cancelled = true) }), { status: 200 });
    const mem = memoryRegistry();
    const { client } = scripted((req) => (req.method === 'DELETE' ? answer() : mem.route(req)));
    expect(await client.mountBlob(REPO, DST, sha(LAYER))).toBe(false);
    expect(cancelled).toBe(true);
  });

  it('refuses an upload started without a Location', async () => {
    const { client } = scripted((req) => (req.method === 'POST' ? new Response(null, { status: 202 }) : undefined));
    await expect(client.pushBlob(DST, LAYER)).rejects.toThrow(new RegistryError(`${HOST} started an upload without a Location`));
  });

  it('mounts within a registry, cancels the upload a refusing registry started, and never mounts across registries', async () => {
    const mem = withImage();
    const { client, seen } = scripted(mem.route);
    expect(await client.mountBlob(REPO, DST, sha(LAYER))).toBe(true);
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual([`POST ${ORIGIN}/v2/team/dst/blobs/uploads/?mount=${encodeURIComponent(sha(LAYER))}&from=team%2Fapp`]);
    seen.splice(0);
    const absent = `sha256:${'4'.repeat(64)}`;
    expect(await client.mountBlob(REPO, DST, absent)).toBe(false);
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual([
      `POST ${ORIGIN}/v2/team/dst/blobs/uploads/?mount=${encodeURIComponent(absent)}&from=team%2Fapp`,
      `DELETE ${ORIGIN}/v2/team/dst/blobs/uploads/u1?_state=0`,
    ]);
    seen.splice(0);
    const bare = scripted(() => new Response(null, { status: 202 }));
    expect(await bare.client.mountBlob(REPO, DST, absent)).toBe(false);
    expect(bare.seen).toHaveLength(1);
    expect(await client.mountBlob({ registry: '127.0.0.1:6000', repository: 'team/app' }, DST, sha(LAYER))).toBe(false);
    expect(seen).toHaveLength(0);
    await expect(client.mountBlob(REPO, DST, 'sha256:nope')).rejects.toBeInstanceOf(RegistryError);
    expect(seen).toHaveLength(0);
  });
});

describe('copy', () => {
  it('mounts blobs within a registry, tags the destination, and reports each blob', async () => {
    const mem = withImage();
    const { client, seen } = scripted(mem.route);
    const lines: string[] = [];
    const stats = await client.copy(REF, { registry: HOST, repository: 'team/dst', tag: '2' }, (line) => lines.push(line));
    expect(stats).toEqual({ digest: mem.digest, mediaType: MediaType.OciManifest, blobsCopied: 0, blobsMounted: 2, blobsSkipped: 0, bytesCopied: 0 });
    expect(lines).toEqual([`${sha(CONFIG).slice(7, 19)} done (0 copied, 1 mounted, 0 present)`, `${sha(LAYER).slice(7, 19)} done (0 copied, 2 mounted, 0 present)`]);
    expect(seen.filter((r) => r.method === 'PUT').map((r) => r.url)).toEqual([`${ORIGIN}/v2/team/dst/manifests/2`]);
    expect(mem.manifests.get('team/dst@2')?.bytes.equals(mem.manifest)).toBe(true);
  });

  it('streams blobs to another registry, then skips them the second time; without a tag it puts by digest', async () => {
    const mem = withImage();
    const { client, seen } = scripted(mem.route);
    const dst = { registry: '127.0.0.1:6000', repository: 'far/app' };
    const first = await client.copy(REF, dst);
    expect(first).toEqual({ digest: mem.digest, mediaType: MediaType.OciManifest, blobsCopied: 2, blobsMounted: 0, blobsSkipped: 0, bytesCopied: CONFIG.length + LAYER.length });
    expect(seen.some((r) => r.url.includes('mount='))).toBe(false);
    expect(mem.blobs.get(`far/app@${sha(LAYER)}`)?.equals(LAYER)).toBe(true);
    expect(seen.filter((r) => r.url.includes('/manifests/') && r.method === 'PUT').map((r) => r.url)).toEqual([`http://127.0.0.1:6000/v2/far/app/manifests/${mem.digest}`]);
    const again = await client.copy(REF, { ...dst, tag: 'x', digest: `sha256:${'9'.repeat(64)}` });
    expect(again).toEqual({ ...first, blobsCopied: 0, blobsSkipped: 2, bytesCopied: 0 });
    expect(mem.manifests.get('far/app@x')?.bytes.equals(mem.manifest)).toBe(true);
  });

  it('holds a copied blob to the size its descriptor gives', async () => {
    const mem = withImage();
    const understated = enc({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: descriptor(MediaType.OciConfig, CONFIG), layers: [{ ...descriptor(MediaType.OciLayer, LAYER), size: LAYER.length - 1 }] });
    mem.manifests.set('team/app@short', { bytes: understated, mediaType: MediaType.OciManifest });
    const { client } = scripted(mem.route);
    const err = await client.copy({ ...REF, tag: 'short' }, { registry: '127.0.0.1:6000', repository: 'far/app', tag: 'short' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DigestMismatchError);
    expect((err as Error).message).toBe(`blob ${sha(LAYER)} in ${HOST}/team/app: the registry sent more than the ${LAYER.length - 1} bytes the descriptor gives; rejected`);
  });

  it('copies an index with its children, skipping the children already there', async () => {
    const mem = withImage();
    const index = enc({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [{ ...descriptor(MediaType.OciManifest, mem.manifest), platform: { os: 'linux', architecture: 'amd64' } }] });
    mem.manifests.set('team/app@multi', { bytes: index, mediaType: MediaType.OciIndex });
    const { client, seen } = scripted(mem.route);
    const dst = { registry: HOST, repository: 'team/dst', tag: 'multi' };
    const first = await client.copy({ ...REF, tag: 'multi' }, dst);
    expect(first).toEqual({ digest: sha(index), mediaType: MediaType.OciIndex, blobsCopied: 0, blobsMounted: 2, blobsSkipped: 0, bytesCopied: 0 });
    expect(seen.filter((r) => r.method === 'PUT').map((r) => r.url)).toEqual([`${ORIGIN}/v2/team/dst/manifests/${mem.digest}`, `${ORIGIN}/v2/team/dst/manifests/multi`]);
    seen.splice(0);
    const again = await client.copy({ ...REF, tag: 'multi' }, dst);
    expect(again).toEqual({ ...first, blobsMounted: 0 });
    expect(seen.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual([
      'GET /v2/team/app/manifests/multi',
      `HEAD /v2/team/dst/manifests/${mem.digest}`,
      'PUT /v2/team/dst/manifests/multi',
    ]);
  });
});

describe('ping and engine access', () => {
  it('pings /v2/, retrying unless told to try once', async () => {
    const ok = scripted(() => new Response(null, { status: 200 }));
    await ok.client.ping(HOST);
    expect(ok.seen.map((r) => `${r.method} ${r.url}`)).toEqual([`GET ${ORIGIN}/v2/`]);
    const down = scripted(() => new Response('', { status: 503 }));
    await expect(down.client.ping(HOST)).rejects.toThrow(new RegistryError(`registry ${HOST}: ${HOST} answered HTTP 503 after 2 attempts`, 503));
    expect(down.seen).toHaveLength(2);
    down.seen.splice(0);
    await expect(down.client.ping(HOST, { once: true })).rejects.toThrow(new RegistryError(`registry ${HOST}: ${HOST} answered HTTP 503`, 503));
    expect(down.seen).toHaveLength(1);
  });

  it('tells a build engine the credentials and the scheme it uses for a registry', async () => {
    const credential = { username: 'u', password: 'p' };
    const client = new RegistryClient({ insecureRegistries: ['plain.example:5000'], credentials: { explicit: { 'reg.example': credential }, env: { DOCKER_CONFIG: '/nonexistent' } } });
    expect(await client.engineAccess('reg.example')).toEqual({ credential, plainHttp: false });
    expect(await client.engineAccess('plain.example:5000')).toEqual({ credential: undefined, plainHttp: true });
    expect(await client.engineAccess(HOST)).toEqual({ credential: undefined, plainHttp: true });
  });
});

describe('token scopes', () => {
  /** Bearer auth in front of a route: the token names the scopes it was issued for. */
  const bearer =
    (route: Route): Route =>
    (req) => {
      const url = new URL(req.url);
      if (url.pathname === '/token') return Response.json({ token: `tok:${url.searchParams.getAll('scope').join(' ')}` });
      if (!req.headers.authorization?.startsWith('Bearer tok:')) {
        return new Response('', { status: 401, headers: { 'www-authenticate': `Bearer realm="${ORIGIN}/token",service="test"` } });
      }
      return route(req);
    };
  /** Each authorized registry request as "METHOD path scopes". */
  const granted = (seen: Seen[]) =>
    seen.filter((r) => r.headers.authorization && !r.url.includes('/token')).map((r) => `${r.method} ${new URL(r.url).pathname} ${r.headers.authorization!.slice('Bearer tok:'.length)}`);

  it('asks for pull to read and pull,push to write, per repository', async () => {
    const mem = withImage();
    const { client, seen } = scripted(bearer(mem.route), { chunkSize: 8 });
    const dst = { registry: HOST, repository: 'team/dst' };
    await client.ping(HOST);
    await client.listTags(REPO);
    await client.headManifest(REF);
    const manifest = client.imageOf(await client.getManifest(REF), REF);
    await client.getConfig(REPO, manifest);
    await client.headBlob(REPO, sha(LAYER));
    expect(granted(seen)).toEqual([
      'GET /v2/ ',
      'GET /v2/team/app/tags/list repository:team/app:pull',
      'HEAD /v2/team/app/manifests/1 repository:team/app:pull',
      'GET /v2/team/app/manifests/1 repository:team/app:pull',
      `GET /v2/team/app/blobs/${sha(CONFIG)} repository:team/app:pull`,
      `HEAD /v2/team/app/blobs/${sha(LAYER)} repository:team/app:pull`,
    ]);
    seen.splice(0);
    await client.mountBlob(REPO, dst, sha(LAYER));
    await client.mountBlob(REPO, dst, `sha256:${'5'.repeat(64)}`);
    await client.pushBlob(dst, Buffer.from('small'));
    await client.pushBlob(dst, Buffer.from('larger than eight'));
    await client.putManifest({ ...dst, tag: 't' }, mem.manifest, MediaType.OciManifest);
    await client.deleteManifest({ ...dst, digest: mem.digest });
    const push = 'repository:team/dst:pull,push';
    expect(granted(seen)).toEqual([
      `POST /v2/team/dst/blobs/uploads/ repository:team/app:pull ${push}`,
      `POST /v2/team/dst/blobs/uploads/ repository:team/app:pull ${push}`,
      `DELETE /v2/team/dst/blobs/uploads/u1 ${push}`,
      `HEAD /v2/team/dst/blobs/${sha(Buffer.from('small'))} repository:team/dst:pull`,
      `POST /v2/team/dst/blobs/uploads/ ${push}`,
      `PUT /v2/team/dst/blobs/uploads/u2 ${push}`,
      `HEAD /v2/team/dst/blobs/${sha(Buffer.from('larger than eight'))} repository:team/dst:pull`,
      `POST /v2/team/dst/blobs/uploads/ ${push}`,
      `PATCH /v2/team/dst/blobs/uploads/u3 ${push}`,
      `PATCH /v2/team/dst/blobs/uploads/u3 ${push}`,
      `PATCH /v2/team/dst/blobs/uploads/u3 ${push}`,
      `PUT /v2/team/dst/blobs/uploads/u3 ${push}`,
      `PUT /v2/team/dst/manifests/t ${push}`,
      `DELETE /v2/team/dst/manifests/${mem.digest} repository:team/dst:delete ${push}`,
    ]);
  });
});
