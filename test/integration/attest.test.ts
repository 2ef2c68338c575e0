/**
 * push --attest --sign through the CLI with real buildah and the real registry: the pushed image gets an SPDX
 * SBOM and a SLSA provenance statement as OCI artifacts referring to it (the referrers tag fallback), and every
 * published tag a simple-signing signature in the lookaside store.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IN_TOTO_MEDIA_TYPE } from '../../src/core/provenance.js';
import { SPDX_MEDIA_TYPE } from '../../src/core/sbom.js';
import { listReferrers, RegistryClient } from '../../src/adapters/registry/index.js';
import { makeBuilderRepo } from '../support/builder-repo.js';
import { runCli } from '../support/cli.js';
import { git } from '../support/git.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { spdxSchemaErrors } from '../support/spdx-schema.js';

describe('push --attest --sign', () => {
  let reg: TestRegistry;
  let repo: ReturnType<typeof makeBuilderRepo>;
  let gnupg: string;
  const saved = process.env.GNUPGHOME;
  beforeAll(async () => {
    reg = await startRegistry();
    repo = makeBuilderRepo(`${reg.host}/builders`);
    gnupg = join(repo.root, '.gnupg-test');
    mkdirSync(gnupg, { mode: 0o700 });
    execFileSync('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', 'ci <ci@example.com>', 'ed25519', 'sign', 'never'], { env: { ...process.env, GNUPGHOME: gnupg }, stdio: 'ignore' });
    process.env.GNUPGHOME = gnupg;
  });
  afterAll(async () => {
    spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: gnupg } });
    if (saved === undefined) delete process.env.GNUPGHOME;
    else process.env.GNUPGHOME = saved;
    repo?.cleanup();
    await reg?.stop();
  });

  it('attaches SBOM and provenance to the pushed image and signs its tags', async () => {
    git(repo.root, 'remote', 'add', 'origin', 'https://github.com/example/builders.git');
    const store = join(repo.root, '..', `sigs-${Date.now()}`);
    const out = await runCli(['push', '--json', '--attest', '--sign', 'ci@example.com', '--signature-store', store, 'builder-any-x86_64_gcc12.0.0.Dockerfile'], repo.root);
    expect(out.code, out.stderr).toBe(0);
    const result = JSON.parse(out.stdout) as { images: { tag: string; tags: string[]; digest: string }[]; attestations: { digest: string }[]; signatures: { signatures: { reference: string; written: boolean }[] } };
    const image = result.images[0]!;
    expect(result.attestations.map((a) => a.digest)).toEqual([image.digest]);
    expect(result.signatures.signatures.map((s) => s.reference)).toEqual(image.tags.map((t) => `${reg.host}/builders:${t}`));
    expect(readdirSync(join(store, `builders@sha256=${image.digest.slice(7)}`)).sort()).toEqual(image.tags.map((_, i) => `signature-${i + 1}`));

    const client = new RegistryClient();
    const subject = { repo: { registry: reg.host, repository: 'builders' }, digest: image.digest };
    const referrers = await listReferrers(client, subject);
    expect(referrers.map((r) => r.artifactType).sort()).toEqual([IN_TOTO_MEDIA_TYPE, SPDX_MEDIA_TYPE].sort());

    const sbom = await runCli(['sbom', `${reg.host}/builders:${image.tag}`], repo.root);
    expect(sbom.stderr).not.toMatch(/reading the layers/);
    expect(spdxSchemaErrors(JSON.parse(sbom.stdout))).toEqual([]);

    const provenanceRef = referrers.find((r) => r.artifactType === IN_TOTO_MEDIA_TYPE)!;
    const manifest = (await client.getManifest({ ...subject.repo, digest: provenanceRef.digest })).manifest as { layers: { digest: string }[]; subject: { digest: string } };
    expect(manifest.subject.digest).toBe(image.digest);
    const statement = JSON.parse(Buffer.from(await client.getBlob(subject.repo, manifest.layers[0]!.digest)).toString()) as { predicate: { buildDefinition: { externalParameters: Record<string, unknown>; internalParameters: Record<string, unknown>; resolvedDependencies: unknown[] }; runDetails: Record<string, unknown> } };
    const commit = git(repo.root, 'rev-parse', 'HEAD').trim();
    const blob = git(repo.root, 'rev-parse', 'HEAD:images/builder-any-x86_64_gcc12.0.0.Dockerfile').trim();
    expect(statement).toMatchObject({
      _type: 'https://in-toto.io/Statement/v1',
      predicateType: 'https://slsa.dev/provenance/v1',
      subject: image.tags.map((t) => ({ name: `${reg.host}/builders:${t}`, digest: { sha256: image.digest.slice(7) } })),
    });
    expect(statement.predicate.buildDefinition.externalParameters.dockerfile).toEqual({ path: 'images/builder-any-x86_64_gcc12.0.0.Dockerfile', digest: { gitBlob: blob } });
    expect(statement.predicate.buildDefinition.internalParameters.platform).toBe('linux/amd64');
    expect(statement.predicate.buildDefinition.internalParameters.SOURCE_DATE_EPOCH).toBe(Number(git(repo.root, 'log', '-1', '--format=%ct').trim()));
    expect(statement.predicate.runDetails.builder).toEqual({ id: 'urn:builder-images:local', version: { 'builder-images': '0.1.0', engine: 'buildah' } });
    expect(statement.predicate.buildDefinition.resolvedDependencies).toEqual([{ uri: `git+https://github.com/example/builders@${commit}`, digest: { gitCommit: commit } }]);
  });
});
