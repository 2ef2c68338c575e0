import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/adapters/registry/index.js';
import { attachArtifact } from '../../src/adapters/registry/referrers.js';
import { readRecords, storeRecords, subjectOf } from '../../src/app/verify-records.js';
import { parseReference } from '../../src/core/reference.js';
import { recordKey, VERIFICATION_ARTIFACT_TYPE, VERIFICATION_MEDIA_TYPE, encodeRecords, type VerificationRecord } from '../../src/core/verify-record.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { pushRandomImage } from '../support/synthetic-images.js';

describe('verification records beside the image in the real registry', () => {
  let reg: TestRegistry;
  let client: RegistryClient;
  beforeAll(async () => {
    reg = await startRegistry();
    client = new RegistryClient();
  });
  afterAll(() => reg?.stop());

  const record = (imageDigest: string, release: string, extra: Partial<VerificationRecord> = {}): VerificationRecord => ({ imageDigest, release, arch: 'x86_64', moduleSource: `sha256:${'c'.repeat(64)}`, flow: 'probe', verdict: 'pass', message: 'ok', at: '2026-12-08T01:00:00Z', ...extra });

  it('stores a run, finds it again by tag, unions a second run, and proves only the passes', async () => {
    const image = `${reg.host}/builders:debian-x86_64_gcc12.0.0-latest`;
    await pushRandomImage(client, parseReference(image), { layers: 1 });
    const subject = await subjectOf(client, image);
    expect(subject.size).toBeGreaterThan(0);
    expect((await readRecords(client, subject)).records).toEqual([]);

    const first = [record(subject.digest, '6.1.0-57-amd64'), record(subject.digest, '6.1.0-56-amd64', { verdict: 'fail', message: 'no .ko' })];
    expect(await storeRecords(client, subject, first)).toMatch(/^sha256:/);
    await storeRecords(client, subject, [record(subject.digest, '5.10.0-30-amd64')]);

    const again = await readRecords(client, await subjectOf(client, image));
    expect(again.records.map((r) => r.release).sort()).toEqual(['5.10.0-30-amd64', '6.1.0-56-amd64', '6.1.0-57-amd64']);
    expect(again.proven.has(recordKey(first[0]!))).toBe(true);
    expect(again.proven.has(recordKey(first[1]!))).toBe(false);
    expect(again.proven.size).toBe(2);
  });

  it("ignores records about another image's digest that a registry serves under this one", async () => {
    const image = `${reg.host}/builders:any-x86_64_gcc11.0.0-latest`;
    await pushRandomImage(client, parseReference(image), { layers: 1 });
    const subject = await subjectOf(client, image);
    const other = `sha256:${'d'.repeat(64)}`;
    expect(await storeRecords(client, subject, [record(other, '6.1.0-57-amd64')])).toBeUndefined();
    // Written by hand, as a hostile or confused writer would.
    await attachArtifact(client, subject, { artifactType: VERIFICATION_ARTIFACT_TYPE, layers: [{ mediaType: VERIFICATION_MEDIA_TYPE, bytes: encodeRecords([record(other, '6.1.0-57-amd64')]) }] });
    expect((await readRecords(client, subject)).records).toEqual([]);
  });
});
