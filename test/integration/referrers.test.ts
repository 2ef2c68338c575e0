import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaType, sha256Digest } from '../../src/core/oci.js';
import { parseReference } from '../../src/core/reference.js';
import { attachArtifact, EMPTY_CONFIG, listReferrers, referrersTag, RegistryClient, RegistryError, type Subject } from '../../src/adapters/registry/index.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { pushRandomImage } from '../support/synthetic-images.js';

const SBOM = 'application/spdx+json';
const RECORD = 'application/vnd.example.verification+json';
const text = (s: string) => new TextEncoder().encode(s);

describe('referrers on the real registry (no referrers API: the tag schema fallback)', () => {
  let reg: TestRegistry;
  let client: RegistryClient;
  beforeAll(async () => {
    reg = await startRegistry();
    client = new RegistryClient();
  });
  afterAll(() => reg?.stop());

  async function subjectImage(repository: string): Promise<Subject> {
    const ref = parseReference(`${reg.host}/${repository}:img`);
    const pushed = await pushRandomImage(client, ref, { layers: 1 });
    return { repo: { registry: reg.host, repository }, digest: pushed.digest, mediaType: MediaType.OciManifest, size: pushed.bytes.length };
  }

  it('pushes an artifact manifest with subject and artifactType, and indexes it under sha256-<hex>', async () => {
    const subject = await subjectImage('r/one');
    const attached = await attachArtifact(client, subject, {
      artifactType: SBOM,
      layers: [{ mediaType: SBOM, bytes: text('{"spdxVersion":"SPDX-2.3"}'), annotations: { 'org.opencontainers.image.title': 'sbom.spdx.json' } }],
      annotations: { 'org.example.kind': 'sbom' },
    });
    const tag = `sha256-${subject.digest.slice(7)}`;
    expect(referrersTag(subject.digest)).toBe(tag);
    expect(attached.indexedBy).toEqual({ tag, updated: true });

    const manifest = await client.getManifest({ ...subject.repo, digest: attached.descriptor.digest });
    const body = JSON.parse(Buffer.from(manifest.bytes).toString()) as Record<string, unknown>;
    expect(body).toMatchObject({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      artifactType: SBOM,
      config: EMPTY_CONFIG,
      subject: { mediaType: MediaType.OciManifest, digest: subject.digest, size: subject.size },
      annotations: { 'org.example.kind': 'sbom' },
    });
    expect(Buffer.from(await client.getBlob(subject.repo, EMPTY_CONFIG.digest)).toString()).toBe('{}');

    const index = await client.getManifest({ ...subject.repo, tag });
    expect(index.mediaType).toBe(MediaType.OciIndex);
    expect(JSON.parse(Buffer.from(index.bytes).toString())).toEqual({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [{ mediaType: MediaType.OciManifest, digest: attached.descriptor.digest, size: manifest.size, artifactType: SBOM, annotations: { 'org.example.kind': 'sbom' } }],
    });
    const layer = (body.layers as { digest: string }[])[0]!;
    expect(Buffer.from(await client.getBlob(subject.repo, layer.digest)).toString()).toBe('{"spdxVersion":"SPDX-2.3"}');
  });

  it('appends without duplicates, lists all or one artifactType, and the same artifact has the same digest', async () => {
    const subject = await subjectImage('r/two');
    const sbom = { artifactType: SBOM, layers: [{ mediaType: SBOM, bytes: text('{"a":1}') }] };
    const first = await attachArtifact(client, subject, sbom);
    const again = await attachArtifact(client, subject, sbom);
    expect(again.descriptor.digest).toBe(first.descriptor.digest);
    expect(again.indexedBy).toEqual({ tag: referrersTag(subject.digest), updated: false });
    const record = await attachArtifact(client, subject, { artifactType: RECORD, layers: [{ mediaType: 'application/json', bytes: text('{"ok":true}') }] });

    const all = await listReferrers(client, subject);
    expect(all.map((d) => d.digest)).toEqual([first.descriptor.digest, record.descriptor.digest]);
    expect(all.map((d) => d.artifactType)).toEqual([SBOM, RECORD]);
    expect((await listReferrers(client, subject, { artifactType: RECORD })).map((d) => d.digest)).toEqual([record.descriptor.digest]);
    expect(await listReferrers(client, subject, { artifactType: 'application/none' })).toEqual([]);
  });

  it('an image nobody refers to has no referrers; an artifact without layers carries the empty blob', async () => {
    const subject = await subjectImage('r/three');
    expect(await listReferrers(client, subject)).toEqual([]);
    const bare = await attachArtifact(client, subject, { artifactType: RECORD, layers: [] });
    const m = JSON.parse(Buffer.from((await client.getManifest({ ...subject.repo, digest: bare.descriptor.digest })).bytes).toString()) as { layers: unknown[] };
    expect(m.layers).toEqual([EMPTY_CONFIG]);
    expect((await listReferrers(client, subject)).map((d) => d.digest)).toEqual([bare.descriptor.digest]);
  });

  it('refuses to overwrite a fallback tag that holds something else than an OCI index', async () => {
    const subject = await subjectImage('r/four');
    const squatter = await pushRandomImage(client, parseReference(`${reg.host}/r/four:${referrersTag(subject.digest)}`), { layers: 1 });
    const err = await attachArtifact(client, subject, { artifactType: SBOM, layers: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as Error).message).toMatch(/not an OCI image index/);
    expect((await client.headManifest(parseReference(`${reg.host}/r/four:${referrersTag(subject.digest)}`))).digest).toBe(squatter.digest);
  });

  it('refuses a malformed subject digest before any request', async () => {
    const subject = { repo: { registry: reg.host, repository: 'r/five' }, digest: 'sha256:../../x', mediaType: MediaType.OciManifest, size: 1 };
    await expect(attachArtifact(client, subject, { artifactType: SBOM, layers: [] })).rejects.toThrow(/digest/);
    await expect(listReferrers(client, subject)).rejects.toThrow(/digest/);
  });
});

describe('referrers through a registry that has the referrers API', () => {
  // A stand-in for a 1.1 registry: it answers the referrers API itself (paginated, filter applied) and says
  // OCI-Subject on a manifest PUT with a subject, so the client must not write the fallback tag.
  let server: Server;
  let host: string;
  const puts: string[] = [];
  const referrer = { mediaType: MediaType.OciManifest, digest: sha256Digest('x'), size: 1, artifactType: SBOM };
  const other = { mediaType: MediaType.OciManifest, digest: sha256Digest('y'), size: 1, artifactType: RECORD };
  const subjectDigest = sha256Digest('subject');
  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'HEAD' && url.pathname.includes('/blobs/')) return void res.writeHead(200, { 'content-length': '2' }).end();
      if (req.method === 'PUT' && url.pathname.includes('/manifests/')) {
        puts.push(url.pathname);
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => res.writeHead(201, { 'oci-subject': subjectDigest, 'docker-content-digest': sha256Digest(Buffer.concat(chunks)) }).end());
        return;
      }
      if (url.pathname === `/v2/r/api/referrers/${subjectDigest}`) {
        const page2 = url.searchParams.get('page') === '2';
        const filter = url.searchParams.get('artifactType');
        const manifests = filter ? [referrer, other].filter((d) => d.artifactType === filter) : page2 ? [other] : [referrer];
        const headers: Record<string, string> = { 'content-type': MediaType.OciIndex };
        if (filter) headers['oci-filters-applied'] = 'artifactType';
        else if (!page2) headers.link = `</v2/r/api/referrers/${subjectDigest}?page=2>; rel="next"`;
        return void res.writeHead(200, headers).end(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests }));
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reads every page of the API, filtered by the registry or by us', async () => {
    const client = new RegistryClient();
    const subject = { repo: { registry: host, repository: 'r/api' }, digest: subjectDigest };
    expect(await listReferrers(client, subject)).toEqual([referrer, other]);
    expect(await listReferrers(client, subject, { artifactType: RECORD })).toEqual([other]);
  });

  it('leaves the fallback tag alone when the registry answers OCI-Subject', async () => {
    const client = new RegistryClient();
    const subject = { repo: { registry: host, repository: 'r/api' }, digest: subjectDigest, mediaType: MediaType.OciManifest, size: 7 };
    const attached = await attachArtifact(client, subject, { artifactType: SBOM, layers: [] });
    expect(attached.indexedBy).toBe('api');
    expect(puts).toEqual([`/v2/r/api/manifests/${attached.descriptor.digest}`]);
  });
});
