import { describe, expect, it } from 'vitest';
import { dep5Licenses, parseDpkgStatus, parseOsRelease } from '../../src/core/dpkg.js';
import { debPurl, ociPurl, spdxDocument } from '../../src/core/sbom.js';
import { spdxSchemaErrors } from '../support/spdx-schema.js';
import { STATUS } from '../support/dpkg-status.js';


describe('dpkg status', () => {
  it('reads installed packages, their source and version; skips the not installed', () => {
    expect(parseDpkgStatus(STATUS)).toEqual([
      { name: 'gcc-12', version: '12.2.0-14', architecture: 'amd64', source: 'gcc-12', sourceVersion: '12.2.0-14', maintainer: 'Debian GCC Maintainers <debian-gcc@lists.debian.org>', homepage: 'http://gcc.gnu.org/' },
      { name: 'libstdc++6', version: '12.2.0-14', architecture: 'amd64', source: 'gcc-12', sourceVersion: '12.2.0-14', maintainer: 'Debian GCC Maintainers <debian-gcc@lists.debian.org>' },
      { name: 'libc6', version: '2.36-9+deb12u4', architecture: 'amd64', source: 'glibc' },
    ]);
    // distroless status.d: no Status field at all.
    expect(parseDpkgStatus('Package: base-files\nVersion: 12.4\nArchitecture: amd64\n')).toEqual([{ name: 'base-files', version: '12.4', architecture: 'amd64' }]);
  });

  it('reads DEP-5 licence names and refuses free-form copyright files', () => {
    const dep5 = 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: x\n\nFiles: *\nCopyright: 2020 A\nLicense: GPL-2+\n\nFiles: lib/*\nCopyright: 2021 B\nLicense: LGPL-2.1+ or MIT\n\nLicense: GPL-2+\n This program is free software\n';
    expect(dep5Licenses(dep5)).toEqual(['GPL-2+', 'LGPL-2.1+ or MIT']);
    expect(dep5Licenses('This is the Debian prepackaged version of x.\nCopyright: whatever\n')).toBeUndefined();
  });

  it('reads os-release', () => {
    expect(parseOsRelease('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n')).toEqual({ id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' });
  });
});

describe('SPDX document', () => {
  const distro = { id: 'debian', versionId: '12' };
  const packages = parseDpkgStatus(STATUS);

  it('gives purls as the purl spec writes them for Debian packages and OCI images', () => {
    expect(debPurl(packages[0]!, distro)).toBe('pkg:deb/debian/gcc-12@12.2.0-14?arch=amd64&distro=debian-12');
    expect(debPurl(packages[1]!, distro)).toBe('pkg:deb/debian/libstdc%2B%2B6@12.2.0-14?arch=amd64&distro=debian-12&upstream=gcc-12%4012.2.0-14');
    expect(debPurl({ name: 'x', version: '1:2.3-4', architecture: 'all' })).toBe('pkg:deb/debian/x@1%3A2.3-4?arch=all');
    expect(ociPurl('127.0.0.1:5000/org/builders', `sha256:${'a'.repeat(64)}`)).toBe(`pkg:oci/builders@sha256%3A${'a'.repeat(64)}?repository_url=127.0.0.1%3A5000%2Forg%2Fbuilders`);
  });

  it('validates against SPDX 2.3 JSON schema, is deterministic, and names gcc with its version', () => {
    const input = {
      repository: '127.0.0.1:5000/builders',
      digest: `sha256:${'b'.repeat(64)}`,
      created: '2021-03-04T05:06:07.000Z',
      tool: 'builder-images',
      distro,
      packages,
      licenses: new Map([['gcc-12', ['GPL-3+', 'GFDL-1.2+']]]),
      gccLinks: [{ path: '/usr/bin/gcc-12.0.0', target: '/usr/bin/x86_64-linux-gnu-gcc-12', owner: 'gcc-12' }],
    };
    const doc = spdxDocument(input);
    expect(spdxSchemaErrors(doc)).toEqual([]);
    expect(JSON.stringify(spdxDocument(input))).toBe(JSON.stringify(doc));
    const gcc = (doc.packages as Record<string, unknown>[]).find((p) => p.name === 'gcc-12')!;
    expect(gcc).toMatchObject({ versionInfo: '12.2.0-14', licenseDeclared: 'NOASSERTION', licenseComments: expect.stringContaining('GPL-3+; GFDL-1.2+') });
    expect(doc.creationInfo).toEqual({ created: '2021-03-04T05:06:07Z', creators: ['Tool: builder-images'] });
    const image = (doc.packages as Record<string, unknown>[])[0]!;
    expect(image).toMatchObject({ primaryPackagePurpose: 'CONTAINER', versionInfo: input.digest });
    expect(JSON.stringify(image.annotations)).toContain('/usr/bin/gcc-12.0.0 -> /usr/bin/x86_64-linux-gnu-gcc-12 (package gcc-12)');
    expect((doc.relationships as unknown[]).length).toBe(1 + packages.length);
  });

  it('is refused by the schema when broken (the validator is not a rubber stamp)', () => {
    const doc = spdxDocument({ repository: 'r/x', digest: `sha256:${'c'.repeat(64)}`, created: 'x', tool: 't', packages, gccLinks: [] });
    expect(spdxSchemaErrors({ ...doc, creationInfo: { created: '2021-03-04 05:06', creators: [] } }).length).toBeGreaterThan(0);
    const { name: _name, ...nameless } = (doc.packages as Record<string, unknown>[])[1]!;
    expect(spdxSchemaErrors({ ...doc, packages: [nameless] }).join('\n')).toMatch(/name/);
    expect(spdxSchemaErrors({ ...doc, packages: [{ ...nameless, name: 'x', licence: 'MIT' }] }).join('\n')).toMatch(/additional properties/);
  });
});
