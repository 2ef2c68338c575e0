/**
 * sbom against the real registry: an image (built by buildah) with a dpkg database, a GCC link and a DEP-5
 * copyright file; the SPDX document read from its layers validates against SPDX 2.3's schema, names gcc-12 and
 * the link's owner, is attached as an OCI artifact referring to the image, and is read back from there.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReference } from '../../src/core/reference.js';
import { SPDX_MEDIA_TYPE } from '../../src/core/sbom.js';
import { listReferrers, RegistryClient } from '../../src/adapters/registry/index.js';
import { runCli } from '../support/cli.js';
import { elfHeader, X86_64 } from '../support/elf.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { spdxSchemaErrors } from '../support/spdx-schema.js';
import { STATUS } from '../support/dpkg-status.js';

describe('sbom (real registry, buildah image)', () => {
  let reg: TestRegistry;
  let work: string;
  beforeAll(async () => {
    reg = await startRegistry();
    work = mkdtempSync(join(tmpdir(), 'bi-sbom-'));
  });
  afterAll(async () => {
    rmSync(work, { recursive: true, force: true });
    await reg?.stop();
  });

  it('reads the packages from the layers, attaches the document and reads it back', async () => {
    const root = join(work, 'root');
    for (const dir of ['var/lib/dpkg/info', 'usr/bin', 'usr/lib', 'etc', 'usr/share/doc/gcc-12']) mkdirSync(join(root, dir), { recursive: true });
    writeFileSync(join(root, 'var/lib/dpkg/status'), STATUS);
    writeFileSync(join(root, 'var/lib/dpkg/info/gcc-12.list'), '/.\n/usr\n/usr/bin\n/usr/bin/x86_64-linux-gnu-gcc-12\n');
    writeFileSync(join(root, 'usr/bin/x86_64-linux-gnu-gcc-12'), elfHeader(X86_64), { mode: 0o755 });
    symlinkSync('x86_64-linux-gnu-gcc-12', join(root, 'usr/bin/gcc-12'));
    symlinkSync('gcc-12', join(root, 'usr/bin/gcc-12.0.0'));
    writeFileSync(join(root, 'usr/lib/os-release'), 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n');
    symlinkSync('../usr/lib/os-release', join(root, 'etc/os-release'));
    writeFileSync(join(root, 'usr/share/doc/gcc-12/copyright'), 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nCopyright: FSF\nLicense: GPL-3+\n');
    const storage = ['--storage-driver', process.env.BUILDAH_STORAGE_DRIVER ?? 'vfs'];
    const ctr = execFileSync('buildah', [...storage, 'from', '--quiet', 'scratch'], { encoding: 'utf8' }).trim();
    execFileSync('buildah', [...storage, 'copy', ctr, root, '/']);
    execFileSync('buildah', [...storage, 'config', '--label', 'io.builder-images.gcc-versions=12.0.0', ctr]);
    execFileSync('buildah', [...storage, 'commit', '--quiet', ctr, 'localhost/bi-test-sbom:1']);
    execFileSync('buildah', [...storage, 'rm', ctr]);
    const image = `${reg.host}/builders:any-x86_64_gcc12.0.0-1`;
    execFileSync('buildah', [...storage, 'push', '--quiet', '--tls-verify=false', 'localhost/bi-test-sbom:1', `docker://${image}`]);
    execFileSync('buildah', [...storage, 'rmi', 'localhost/bi-test-sbom:1']);
    const client = new RegistryClient();
    const head = await client.headManifest(parseReference(image));

    const fresh = await runCli(['sbom', image], work);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stderr).toMatch(/no SBOM attached; reading the layers/);
    const doc = JSON.parse(fresh.stdout) as { packages: Record<string, unknown>[] };
    expect(spdxSchemaErrors(doc)).toEqual([]);
    expect(doc.packages.map((p) => [p.name, p.versionInfo])).toEqual([
      [`${reg.host}/builders`, head.digest],
      ['gcc-12', '12.2.0-14'],
      ['libc6', '2.36-9+deb12u4'],
      ['libstdc++6', '12.2.0-14'],
    ]);
    const gcc = doc.packages[1]!;
    expect(gcc.externalRefs).toEqual([{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: 'pkg:deb/debian/gcc-12@12.2.0-14?arch=amd64&distro=debian-12' }]);
    expect(gcc.licenseComments).toMatch(/GPL-3\+/);
    expect(JSON.stringify(doc.packages[0]!.annotations)).toContain('GCC link /usr/bin/gcc-12.0.0 -> /usr/bin/x86_64-linux-gnu-gcc-12 (package gcc-12)');

    const attach = await runCli(['sbom', '--attach', image], work);
    expect(attach.code, attach.stderr).toBe(0);
    expect(attach.stderr).toContain(`listed by the referrers tag sha256-${head.digest.slice(7)}`);
    expect(attach.stdout).toBe(fresh.stdout);
    const referrers = await listReferrers(client, { repo: { registry: reg.host, repository: 'builders' }, digest: head.digest }, { artifactType: SPDX_MEDIA_TYPE });
    expect(referrers).toHaveLength(1);

    const attached = await runCli(['sbom', image], work);
    expect(attached.code).toBe(0);
    expect(attached.stderr).not.toMatch(/reading the layers/);
    expect(JSON.parse(attached.stdout)).toEqual(doc);
    const table = await runCli(['sbom', '--packages', image], work);
    expect(table.stdout).toMatch(/gcc-12\s+12\.2\.0-14\s+pkg:deb\/debian\/gcc-12@12\.2\.0-14\?arch=amd64&distro=debian-12/);
    expect(table.stdout).toMatch(/3 package\(s\) .* attached in the registry/);
  });
});
