/**
 * The driver builder's contract through the real CLI, on images pushed to a real registry: an image shaped like
 * the GCC 12 image `make e2e` built from images/ before they met it (bookworm's os-release, gcc-12 and make, no
 * curl, cmake, cc or c++) fails naming each with its Debian package, in text, --json, --format github and the
 * job summary; the same image with them passes; the config and an image label choose the contract.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/adapters/registry/index.js';
import { parseReference } from '../../src/core/reference.js';
import { makeRepo, runCli } from '../support/cli.js';
import { withDriverTools } from '../support/driver-tools.js';
import { elfHeader, X86_64 } from '../support/elf.js';
import { gitInitCommit } from '../support/git.js';
import { dir, file, pushLayeredImage, symlink, type TestEntry } from '../support/image-builder.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

const GCC12: TestEntry[] = [dir('usr/'), dir('usr/bin/'), file('usr/bin/x86_64-linux-gnu-gcc-12', elfHeader(X86_64)), symlink('usr/bin/gcc-12', 'x86_64-linux-gnu-gcc-12'), symlink('usr/bin/gcc-12.0.0', 'gcc-12')];
const TODAY = withDriverTools(GCC12, { without: ['curl', 'cmake', 'cc', 'c++'] });
const PATH = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];

describe("check proves the driver builder's contract", () => {
  let reg: TestRegistry;
  let repo: { root: string; cleanup: () => void };
  let work: string;
  const client = new RegistryClient();
  const push = (tag: string, layers: TestEntry[][], options: Parameters<typeof pushLayeredImage>[3] = {}) => pushLayeredImage(client, parseReference(`${reg.host}/b:${tag}`), layers, { env: PATH, ...options });

  beforeAll(async () => {
    reg = await startRegistry();
    repo = makeRepo({ 'builder-images.yaml': `repositories: [${reg.host}/b]\n`, 'images/builder-debian-x86_64_gcc12.0.0.Dockerfile': 'FROM scratch\n' });
    gitInitCommit(repo.root);
    work = mkdtempSync(join(tmpdir(), 'bi-contract-'));
  });
  afterAll(async () => {
    repo?.cleanup();
    rmSync(work, { recursive: true, force: true });
    await reg?.stop();
  });

  it("today's GCC 12 image: curl, cmake, cc and c++ missing, each with its Debian package, in every output", async () => {
    await push('debian-x86_64_gcc12.0.0-today', [TODAY]);
    const ref = `${reg.host}/b:debian-x86_64_gcc12.0.0-today`;

    const text = await runCli(['check', ref], repo.root);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/12\.0\.0\s+\/usr\/bin\/gcc-12\.0\.0\s+\/usr\/bin\/x86_64-linux-gnu-gcc-12\s+ok/);
    expect(text.stdout).toContain('driverkit contract, kmod (debian), on Debian GNU/Linux 12 (bookworm): 27 of 31 met; missing curl, cmake, cc, c++');
    expect(text.stdout).toMatch(/curl\s+curl\s+kmod\n\s+cmake\s+cmake\s+kmod\n\s+cc\s+gcc\s+kmod\n\s+c\+\+\s+g\+\+\s+kmod\n/);
    expect(text.stdout).toContain('  install: curl cmake gcc g++\n');
    expect(text.stdout).toContain("error: c++ is not on PATH (/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin): cmake's project() looks for the unversioned C++ compiler; install g++ (the Debian GNU/Linux 12 (bookworm) package)");

    const json = await runCli(['check', '--json', ref], repo.root);
    const [result] = JSON.parse(json.stdout) as { ok: boolean; dockerfile: string; contract: { distro: { id: string; versionId: string }; findings: { need: string; verdict: string; package?: string; found?: string }[] } }[];
    expect(result).toMatchObject({ ok: false, dockerfile: 'images/builder-debian-x86_64_gcc12.0.0.Dockerfile', contract: { distro: { id: 'debian', versionId: '12' } } });
    expect(result!.contract.findings.filter((f) => f.verdict === 'error').map((f) => [f.need, f.package])).toEqual([
      ['curl', 'curl'],
      ['cmake', 'cmake'],
      ['cc', 'gcc'],
      ['c++', 'g++'],
    ]);
    expect(result!.contract.findings.find((f) => f.need === 'make')).toMatchObject({ verdict: 'ok', found: '/usr/bin/make' });

    const github = await runCli(['check', '--format', 'github', ref], repo.root);
    const annotations = github.stdout.split('\n').filter((l) => l.startsWith('::error '));
    expect(annotations).toHaveLength(4);
    expect(annotations[0]).toMatch(/^::error file=images\/builder-debian-x86_64_gcc12\.0\.0\.Dockerfile,line=1,title=check::.*curl is not on PATH .*install curl/);

    const summaryFile = join(work, 'summary.md');
    process.env.GITHUB_STEP_SUMMARY = summaryFile;
    try {
      await runCli(['check', ref], repo.root);
    } finally {
      delete process.env.GITHUB_STEP_SUMMARY;
    }
    const md = readFileSync(summaryFile, 'utf8');
    expect(md).toContain('| IMAGE | PLATFORM | DIGEST | VERDICT | GCC | DRIVER BUILDER | PROBLEMS |');
    expect(md).toMatch(/\| failed \| 12\.0\.0 ok \| missing curl, cmake, cc, c\+\+ \(install curl cmake gcc g\+\+\) \| curl is not on PATH/);
  });

  it('the same image with curl, cmake, cc and c++ passes; --contract none passes today\'s', async () => {
    await push('debian-x86_64_gcc12.0.0-fixed', [TODAY, [file('usr/bin/curl', elfHeader(X86_64)), file('usr/local/bin/cmake', elfHeader(X86_64)), symlink('usr/bin/cc', 'gcc-12'), file('usr/bin/c++', '#!/bin/sh\nexec g++-12 "$@"\n')]]);
    const fixed = await runCli(['check', '--json', `${reg.host}/b:debian-x86_64_gcc12.0.0-fixed`], repo.root);
    expect(fixed.code).toBe(0);
    const [result] = JSON.parse(fixed.stdout) as { ok: boolean; contract: { ok: boolean; findings: { need: string; found?: string }[] } }[];
    expect(result).toMatchObject({ ok: true, contract: { ok: true } });
    expect(Object.fromEntries(result!.contract.findings.filter((f) => ['cc', 'c++', 'cmake'].includes(f.need)).map((f) => [f.need, f.found]))).toEqual({
      cmake: '/usr/local/bin/cmake',
      cc: '/usr/bin/x86_64-linux-gnu-gcc-12',
      'c++': '/usr/bin/c++',
    });
    const text = await runCli(['check', `${reg.host}/b:debian-x86_64_gcc12.0.0-fixed`], repo.root);
    expect(text.stdout).toContain('driverkit contract, kmod (debian), on Debian GNU/Linux 12 (bookworm): 31 of 31 met\n');

    const off = await runCli(['check', '--contract', 'none', '--json', `${reg.host}/b:debian-x86_64_gcc12.0.0-today`], repo.root);
    expect(off.code).toBe(0);
    expect(JSON.parse(off.stdout)[0]).toMatchObject({ ok: true, contract: null });
  });

  it('the config narrows what an any image serves; an image label claims the eBPF flow, a bad one is an error', async () => {
    const tools = withDriverTools(GCC12, { without: ['rpm2cpio', 'cpio'] });
    await push('any-x86_64_gcc12.0.0-deb', [tools]);
    await push('any-x86_64_gcc12.0.0-ebpf', [tools], { labels: { 'io.builder-images.flows': 'kmod ebpf' } });
    await push('any-x86_64_gcc12.0.0-badlabel', [tools], { labels: { 'io.builder-images.flows': 'kmod bpf' } });
    const needs = async (tag: string, root: string) => {
      const out = await runCli(['check', '--json', `${reg.host}/b:${tag}`], root);
      const [r] = JSON.parse(out.stdout) as { undeclared: { message: string }[]; contract: { findings: { need: string; verdict: string }[] } }[];
      return { code: out.code, missing: r!.contract.findings.filter((f) => f.verdict === 'error').map((f) => f.need), undeclared: r!.undeclared.map((u) => u.message) };
    };
    expect(await needs('any-x86_64_gcc12.0.0-deb', repo.root)).toEqual({ code: 1, missing: ['rpm2cpio', 'cpio'], undeclared: [] });
    const debOnly = makeRepo({ 'builder-images.yaml': `repositories: [${reg.host}/b]\ncheck: { anyFamilies: [debian, kernel-source] }\n` });
    try {
      gitInitCommit(debOnly.root);
      expect(await needs('any-x86_64_gcc12.0.0-deb', debOnly.root)).toEqual({ code: 0, missing: [], undeclared: [] });
      expect(await needs('any-x86_64_gcc12.0.0-ebpf', debOnly.root)).toEqual({ code: 1, missing: ['clang', 'llc'], undeclared: [] });
      expect(await needs('any-x86_64_gcc12.0.0-badlabel', debOnly.root)).toEqual({ code: 1, missing: [], undeclared: [expect.stringContaining('io.builder-images.flows="kmod bpf" must name flows from kmod, ebpf (unknown: bpf)')] });
    } finally {
      debOnly.cleanup();
    }
    const badConfig = makeRepo({ 'builder-images.yaml': `check: { contract: maybe }\n` });
    try {
      const out = await runCli(['check', `${reg.host}/b:any-x86_64_gcc12.0.0-deb`], badConfig.root);
      expect(out).toMatchObject({ code: 2, stderr: expect.stringMatching(/builder-images\.yaml.*check\.contract/) });
    } finally {
      badConfig.cleanup();
    }
  });
});
