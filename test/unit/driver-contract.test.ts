import { describe, expect, it } from 'vitest';
import { checkContract, DEFAULT_PATH, findCommand, parseShebang, pathOf, readDistro } from '../../src/core/contract-rules.js';
import { contractNeeds, DEFAULT_CONTRACT, familiesOf, packageFor, parseFlowsLabel, parseOsRelease, type ContractChoice } from '../../src/core/driver-contract.js';
import { FileTree, type LayerEntry } from '../../src/core/filetree.js';
import { DEBIAN_OS_RELEASE, driverToolLayer } from '../support/driver-tools.js';
import { AARCH64, elfHeader, X86_64 } from '../support/elf.js';

const exe = (path: string, head: Uint8Array = elfHeader(X86_64), mode = 0o755): LayerEntry => ({ path, type: 'file', mode, size: head.length, uid: 0, gid: 0, head });
const text = (path: string, content: string): LayerEntry => ({ path, type: 'file', mode: 0o644, size: content.length, uid: 0, gid: 0, head: Buffer.from(content) });
const link = (path: string, target: string): LayerEntry => ({ path, type: 'symlink', mode: 0o777, size: 0, uid: 0, gid: 0, linkname: target });
const script = (path: string, line: string) => exe(path, Buffer.from(`${line}\necho hi\n`));

function tree(...layers: LayerEntry[][]): FileTree {
  const t = new FileTree();
  for (const l of layers) t.applyLayer(l);
  return t;
}
const names = (target: string | undefined, choice: ContractChoice = DEFAULT_CONTRACT) => contractNeeds(target, choice).map((n) => n.need.name);
const missing = (t: FileTree, target = 'any', choice = DEFAULT_CONTRACT, env?: string[]) =>
  checkContract(t, { arch: 'x86_64', target, choice, env })!
    .findings.filter((f) => f.verdict === 'error')
    .map((f) => `${f.need}=${f.package ?? '?'}`);

describe('the contract as data', () => {
  it('a debian image needs the common kernel-module tools and the .deb unpackers, not the rpm ones', () => {
    const needs = names('debian');
    for (const n of ['/bin/bash', 'curl', 'ca-certificates', 'tar', 'gzip', 'cmake', 'cc', 'c++', 'make', 'sed', 'strip', 'modinfo', 'find', 'ar', 'xz']) expect(needs).toContain(n);
    for (const n of ['rpm2cpio', 'cpio', 'zstd', 'bc', 'clang', 'llc', 'libelf-headers']) expect(needs).not.toContain(n);
  });

  it('rpm targets unpack with rpm2cpio and cpio, amazonlinux links with ld.bfd, kernel sources need gcc, bc, flex, bison, libssl and libelf', () => {
    expect(names('centos')).toEqual(expect.arrayContaining(['rpm2cpio', 'cpio']));
    expect(names('centos')).not.toContain('ar');
    expect(names('amazonlinux2')).toEqual(expect.arrayContaining(['rpm2cpio', 'cpio', 'ld.bfd']));
    expect(names('flatcar')).toEqual(expect.arrayContaining(['gcc', 'bc', 'flex', 'bison', 'libssl-headers', 'libelf-headers', 'xz']));
    expect(names('ubuntu')).toEqual(expect.arrayContaining(['ar', 'xz', 'zstd']));
  });

  it('an any image serves every default family once per need, saying who needs it; the config can narrow it', () => {
    const xz = contractNeeds('any', DEFAULT_CONTRACT).find((n) => n.need.name === 'xz')!;
    expect(xz.for).toEqual(['kmod/debian', 'kmod/ubuntu', 'kmod/archlinux', 'kmod/kernel-source']);
    expect(new Set(names('any')).size).toBe(names('any').length);
    expect(names('any')).not.toContain('yum');
    const debOnly = { ...DEFAULT_CONTRACT, anyFamilies: ['debian' as const] };
    expect(names('any', debOnly)).not.toContain('rpm2cpio');
    expect(familiesOf(undefined, debOnly)).toEqual(['debian']);
    expect(familiesOf('no-such-target', DEFAULT_CONTRACT)).toEqual([]);
  });

  it('the eBPF probe needs clang and llc only where the flow is claimed; contract none needs nothing', () => {
    expect(names('debian', { ...DEFAULT_CONTRACT, flows: ['kmod', 'ebpf'] })).toEqual(expect.arrayContaining(['clang', 'llc']));
    expect(names('debian', { ...DEFAULT_CONTRACT, flows: ['ebpf'] })).toEqual(['clang', 'llc']);
    expect(names('debian', { ...DEFAULT_CONTRACT, contract: 'none' })).toEqual([]);
  });

  it('a flows label names known flows, or says what is wrong', () => {
    expect(parseFlowsLabel('kmod, ebpf kmod')).toEqual({ flows: ['kmod', 'ebpf'] });
    expect(parseFlowsLabel('kmod bpf')).toEqual({ error: expect.stringContaining('unknown: bpf') });
    expect(parseFlowsLabel(' ')).toHaveProperty('error');
  });
});

describe('os-release and package names', () => {
  const centos7 = parseOsRelease('NAME="CentOS Linux"\nVERSION="7 (Core)"\nID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="7"\nPRETTY_NAME="CentOS Linux 7 (Core)"\n');
  const amzn2 = parseOsRelease('NAME="Amazon Linux"\nVERSION="2"\nID="amzn"\nID_LIKE="centos rhel fedora"\nVERSION_ID="2"\nPRETTY_NAME="Amazon Linux 2"\n');
  const ubuntu = parseOsRelease('NAME="Ubuntu"\nVERSION_ID="18.04"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME="Ubuntu 18.04.6 LTS"\n');
  const debian = parseOsRelease(DEBIAN_OS_RELEASE);

  it('reads ID, ID_LIKE, VERSION_ID and the pretty name, quotes and escapes undone', () => {
    expect(debian).toEqual({ id: 'debian', idLike: [], versionId: '12', name: 'Debian GNU/Linux 12 (bookworm)', family: 'debian' });
    expect(centos7).toMatchObject({ id: 'centos', idLike: ['rhel', 'fedora'], versionId: '7', family: 'rpm' });
    expect(parseOsRelease("ID='x'\nID_LIKE=\"ubuntu debian\"\nNAME=\"A \\\"q\\\"\"\n")).toMatchObject({ id: 'x', family: 'debian', name: 'A "q"' });
    expect(parseOsRelease('ID=plan9\n')).toMatchObject({ family: null, name: 'plan9' });
  });

  it('names the package of each need in the distro it is in', () => {
    const deb = ['curl', 'cmake', 'cc', 'c++', 'ar', 'strip', 'xz', 'modinfo', 'ca-certificates', 'libelf-headers', 'rpm2cpio', 'llc', 'sh'].map((n) => packageFor(n, debian));
    expect(deb).toEqual(['curl', 'cmake', 'gcc', 'g++', 'binutils', 'binutils', 'xz-utils', 'kmod', 'ca-certificates', 'libelf-dev', 'rpm2cpio', 'llvm', 'dash']);
    expect(packageFor('c++', ubuntu)).toBe('g++');
    expect(['c++', 'xz', 'rpm2cpio', 'libelf-headers', 'libssl-headers'].map((n) => packageFor(n, parseOsRelease('ID=fedora\nVERSION_ID=41\n')))).toEqual([
      'gcc-c++',
      'xz',
      'rpm',
      'elfutils-libelf-devel',
      'openssl-devel',
    ]);
    expect(packageFor('cmake', centos7)).toMatch(/^cmake3 /);
    expect(packageFor('cmake', amzn2)).toMatch(/^cmake3 /);
    expect(packageFor('cmake', parseOsRelease('ID=centos\nVERSION_ID=8\n'))).toBe('cmake');
    expect(packageFor('curl', parseOsRelease('ID=plan9\n'))).toBeUndefined();
    expect(packageFor('curl', null)).toBeUndefined();
  });
});

describe('proving the contract on a tree', () => {
  it('a complete Debian image meets the default any contract, its distro read through the /etc link', () => {
    const t = tree(driverToolLayer());
    const report = checkContract(t, { arch: 'x86_64', target: 'any', choice: DEFAULT_CONTRACT })!;
    expect(report.findings.filter((f) => f.verdict === 'error')).toEqual([]);
    expect(report).toMatchObject({ ok: true, osRelease: '/etc/os-release', families: DEFAULT_CONTRACT.anyFamilies, path: DEFAULT_PATH.split(':') });
    expect(report.findings.find((f) => f.need === '/bin/bash')).toMatchObject({ verdict: 'ok', found: '/usr/bin/bash' });
    expect(report.findings.find((f) => f.need === 'CA certificates')).toMatchObject({ verdict: 'ok', found: '/etc/ssl/certs/ca-certificates.crt' });
  });

  it("today's GCC 12 image: curl, cmake, cc and c++ missing, each with its Debian package and why", () => {
    const t = tree(driverToolLayer({ without: ['curl', 'cmake', 'cc', 'c++'] }));
    expect(missing(t, 'debian')).toEqual(['curl=curl', 'cmake=cmake', 'cc=gcc', 'c++=g++']);
    const cc = checkContract(t, { arch: 'x86_64', target: 'debian', choice: DEFAULT_CONTRACT })!.findings.find((f) => f.need === 'cc')!;
    expect(cc.message).toBe(
      "cc is not on PATH (/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin): cmake's project() looks for the unversioned C compiler; install gcc (the Debian GNU/Linux 12 (bookworm) package)",
    );
  });

  it('the CA bundle is looked for where the distro keeps it', () => {
    const base = driverToolLayer().filter((e) => !e.path.includes('os-release') && !e.path.includes('ca-certificates'));
    const rpm = tree(base, [text('etc/os-release', 'ID=fedora\nVERSION_ID=41\n'), text('etc/pki/tls/certs/ca-bundle.crt', 'x')]);
    expect(missing(rpm, 'fedora')).toEqual([]);
    const debWithRpmBundle = tree(base, [text('etc/os-release', DEBIAN_OS_RELEASE), text('etc/pki/tls/certs/ca-bundle.crt', 'x')]);
    expect(missing(debWithRpmBundle, 'debian')).toEqual(['CA certificates=ca-certificates']);
    // No os-release: any known bundle will do, and the hint says the distro is unknown.
    const unknown = checkContract(tree(base, [text('etc/pki/tls/certs/ca-bundle.crt', 'x')]), { arch: 'x86_64', target: 'debian', choice: DEFAULT_CONTRACT })!;
    expect(unknown.distro).toBeNull();
    expect(unknown.ok).toBe(true);
    const noCa = checkContract(tree(base), { arch: 'x86_64', target: 'debian', choice: DEFAULT_CONTRACT })!;
    expect(noCa.findings.find((f) => f.verdict === 'error')!.message).toMatch(/^CA certificates are missing \(no \/etc\/ssl\/certs\/ca-certificates.crt or .*\): curl verifies .*install the package that ships it \(the image has no \/etc\/os-release/);
  });

  it('a foreign-arch, non-executable or dangling command is a finding that says so', () => {
    const base = driverToolLayer({ without: ['curl', 'cmake', 'make'] });
    const t = tree(base, [exe('usr/bin/curl', elfHeader(AARCH64)), exe('usr/bin/cmake', elfHeader(X86_64), 0o644), link('usr/bin/make', 'gmake')]);
    const findings = checkContract(t, { arch: 'x86_64', target: 'debian', choice: DEFAULT_CONTRACT })!.findings.filter((f) => f.verdict === 'error');
    expect(findings.map((f) => f.message!.split(':')[0])).toEqual([
      '/usr/bin/curl is an AArch64 binary in a linux/amd64 image',
      'cmake is not on PATH (/usr/local/sbin',
      'make is not on PATH (/usr/local/sbin',
    ]);
    expect(findings[1]!.message).toContain('not executable: /usr/bin/cmake (mode 644)');
    expect(findings[2]!.message).toContain('dangling: /usr/bin/make (/usr/bin/make -> gmake)');
  });

  it('PATH comes from the config Env: a tool outside it is missing, one in it is found', () => {
    const t = tree(driverToolLayer({ without: ['cmake'] }), [exe('opt/cmake/bin/cmake')]);
    expect(missing(t, 'debian')).toEqual(['cmake=cmake']);
    expect(missing(t, 'debian', DEFAULT_CONTRACT, ['A=1', 'PATH=/nowhere', 'PATH=/opt/cmake/bin:/usr/bin'])).toEqual([]);
    expect(pathOf(['PATH=/a::relative:/b'])).toEqual(['/a', '/b']);
  });

  it('a script runs when its interpreter does, env NAME included; otherwise it says which does not', () => {
    const layer = driverToolLayer({ without: ['cmake', 'curl', 'make'] });
    const ok = tree(layer, [script('usr/local/bin/cmake', '#!/bin/sh -e'), script('usr/bin/curl', '#! /usr/bin/env bash'), script('usr/bin/make', '#!/usr/bin/env -S make -f')], [exe('usr/bin/env')]);
    expect(missing(ok, 'debian')).toEqual([]);
    const broken = tree(layer, [script('usr/bin/cmake', '#!/opt/python3'), script('usr/bin/curl', '#!/usr/bin/env nodejs'), exe('usr/bin/make', Buffer.from('plain text\n'))]);
    const messages = checkContract(broken, { arch: 'x86_64', target: 'debian', choice: DEFAULT_CONTRACT })!.findings.filter((f) => f.verdict === 'error').map((f) => f.message!.split(': ')[0]);
    expect(messages).toEqual([
      '/usr/bin/curl runs nodejs through env, which does not run',
      '/usr/bin/cmake is a script for /opt/python3, which does not run',
      '/usr/bin/make is neither an ELF executable nor a #! script',
    ]);
  });

  it('a script whose interpreter is itself a script is followed, but not forever', () => {
    const layer = driverToolLayer({ without: ['cmake'] });
    const loop = tree(layer, [script('usr/bin/cmake', '#!/usr/bin/cmake')]);
    expect(findCommand(loop, 'cmake', ['/usr/bin'], 'x86_64')).toMatchObject({ ok: false, problem: expect.stringContaining('more than 4 interpreters deep') });
  });

  it('parses #! lines, and leaves a line cut at the bytes kept unjudged', () => {
    expect(parseShebang(Buffer.from('#!/bin/sh\n'))).toEqual({ interpreter: '/bin/sh' });
    expect(parseShebang(Buffer.from('#!  /usr/bin/env  python3 \n'))).toEqual({ interpreter: '/usr/bin/env', argument: 'python3' });
    expect(parseShebang(Buffer.from('#!/very/long/interpreter/path/cut'))).toEqual({ interpreter: null });
    expect(parseShebang(Buffer.from('#!/usr/bin/perl -w -partial'))).toEqual({ interpreter: '/usr/bin/perl' });
    expect(parseShebang(Buffer.from('#!relative\n'))).toBeNull();
    expect(parseShebang(Buffer.from('echo\n'))).toBeNull();
    expect(parseShebang(undefined)).toBeNull();
  });

  it('reads os-release from /usr/lib when /etc has none; none at all is null', () => {
    expect(readDistro(tree([text('usr/lib/os-release', 'ID=ubuntu\nVERSION_ID="22.04"\n')]))).toMatchObject({ from: '/usr/lib/os-release', distro: { id: 'ubuntu', family: 'debian' } });
    expect(readDistro(tree([text('etc/hostname', 'x')]))).toEqual({ distro: null, from: null });
  });

  it('contract none checks nothing', () => {
    expect(checkContract(tree([]), { arch: 'x86_64', choice: { ...DEFAULT_CONTRACT, contract: 'none' } })).toBeNull();
  });
});
