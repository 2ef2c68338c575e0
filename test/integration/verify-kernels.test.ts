/**
 * verify --kernels end to end, cheaply but for real: a real registry, real buildah runs of an image whose `make`
 * is a script that drops a prepared module (so no compiler is needed), real staging of Debian headers packages
 * downloaded from a loopback server, and the verification records read back from the registry.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/adapters/registry/index.js';
import { parseReference } from '../../src/core/reference.js';
import { moduleElf, X86_64 } from '../support/elf.js';
import { dir, file, pushLayeredImage, symlink } from '../support/image-builder.js';
import { debianHeaders, makeDeb } from '../support/kernel-packages.js';
import { makeRepo, runCli } from '../support/cli.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { startFakeGitHub } from '../support/fake-github.js';
import { git, gitInitCommit } from '../support/git.js';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const ABIS = ['6.1.0-50', '6.1.0-53', '6.1.0-55', '6.1.0-57'];
// 6.1.0-55 gets a module for another kernel: a real failure, judged from the module's vermagic.
const koFor = (abi: string) => moduleElf({ machine: X86_64, modinfo: [`vermagic=${abi === '6.1.0-55' ? '6.1.0-1' : abi}-amd64 SMP preempt mod_unload modversions`, 'name=bi_probe'] });

// `make -C <build> M=<dir> …`: copies the module prepared for the kernel whose release utsrelease.h names.
const FAKE_MAKE = `#!/bin/sh
for a in "$@"; do case "$a" in M=*) m=\${a#M=};; esac; done
while [ $# -gt 0 ]; do [ "$1" = -C ] && b=$2; shift; done
rel=$(sed -n 's/.*UTS_RELEASE "\\(.*\\)".*/\\1/p' "$b/include/generated/utsrelease.h")
echo "fake make: building for $rel in $m"
cp "/ko/$rel.ko" "$m/bi_probe.ko"
`;

let reg: TestRegistry;
let server: Server;
let base: string;
const served = new Map<string, Buffer>();
let requests = 0;

beforeAll(async () => {
  reg = await startRegistry();
  const busybox = readFileSync('/bin/busybox');
  const tools = ['sh', 'cp', 'rm', 'mkdir', 'sed', 'cat', 'true'].map((t) => symlink(`bin/${t}`, 'busybox'));
  const kos = ABIS.map((abi) => file(`ko/${abi}-amd64.ko`, koFor(abi), 0o644));
  const image = `${reg.host}/builders:debian-x86_64_gcc12.0.0-latest`;
  await pushLayeredImage(new RegistryClient(), parseReference(image), [[dir('bin'), file('bin/busybox', busybox), ...tools, dir('usr'), dir('usr/bin'), file('usr/bin/make', FAKE_MAKE), dir('ko'), ...kos, dir('tmp')]]);
  for (const abi of ABIS) {
    const pkgs = debianHeaders(abi, 'amd64');
    served.set(`/linux-headers-${abi}-amd64_1_amd64.deb`, await makeDeb(pkgs.arch, 'amd64', 'gz'));
    served.set(`/linux-headers-${abi}-common_1_all.deb`, await makeDeb(pkgs.common, 'all', 'gz'));
  }
  served.set('/linux-kbuild-6.1_1_amd64.deb', await makeDeb(debianHeaders('6.1.0-50', 'amd64').kbuild, 'amd64', 'gz'));
  server = createServer((req, res) => {
    requests++;
    const body = served.get(req.url!);
    if (!body) return res.writeHead(404).end();
    res.writeHead(200, { 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);
afterAll(async () => {
  await new Promise<void>((r) => server?.close(() => r()));
  await reg?.stop();
});

function project() {
  const list = {
    Debian: ABIS.map((abi) => ({
      kernelversion: 1,
      kernelrelease: `${abi}-amd64`,
      target: 'debian',
      // A mirror that does not have it first, as kernel-crawler lists two mirrors: the one that answers is used.
      headers: [`${base}/gone/linux-headers-${abi}-amd64_1_amd64.deb`, `${base}/linux-headers-${abi}-amd64_1_amd64.deb`, `${base}/linux-headers-${abi}-common_1_all.deb`, `${base}/linux-kbuild-6.1_1_amd64.deb`],
    })),
  };
  const index = `images:\n  - name: ${reg.host}/builders:debian-x86_64_gcc12.0.0-latest\n    target: debian\n    arch: x86_64\n    tag: latest\n    gcc_versions: ["12.0.0"]\n`;
  return makeRepo({ 'builder-images.yaml': `repositories: [${reg.host}/builders]\nengine: buildah\n`, 'index.yaml': index, 'list.json': JSON.stringify(list) });
}

interface Row {
  kernel: string;
  verdict: string;
  cached?: boolean;
  message: string;
}

describe('verify --kernels (real buildah, real registry)', () => {
  it('builds every kernel with --jobs 2, as two shards whose union is the same set, and a second recorded run rebuilds nothing', async () => {
    const repo = project();
    try {
      const all = await runCli(['verify', '--kernels', 'list.json', '--jobs', '2', '--record', '--json'], repo.root);
      expect(all.code).toBe(1);
      const rows = JSON.parse(all.stdout) as Row[];
      expect(rows.map((r) => [r.kernel, r.verdict]), all.stdout).toEqual([
        ['6.1.0-50-amd64', 'pass'],
        ['6.1.0-53-amd64', 'pass'],
        ['6.1.0-55-amd64', 'fail'],
        ['6.1.0-57-amd64', 'pass'],
      ]);
      expect(rows[2]!.message).toMatch(/vermagic/);
      expect(all.stderr).toMatch(/3 verification record\(s\) stored|4 verification record\(s\) stored/);

      const shards = await Promise.all(['1/2', '2/2'].map((s) => runCli(['verify', '--kernels', 'list.json', '--shard', s, '--json'], repo.root)));
      const shardRows = shards.map((s) => (JSON.parse(s.stdout) as Row[]).map((r) => r.kernel));
      expect(shardRows[0]!.length + shardRows[1]!.length).toBe(4);
      expect([...shardRows[0]!, ...shardRows[1]!].sort()).toEqual(rows.map((r) => r.kernel).sort());

      const before = requests;
      const again = await runCli(['verify', '--kernels', 'list.json', '--record', '--json'], repo.root);
      const second = JSON.parse(again.stdout) as Row[];
      expect(second.filter((r) => r.cached).map((r) => r.kernel)).toEqual(['6.1.0-50-amd64', '6.1.0-53-amd64', '6.1.0-57-amd64']);
      // Only the failed kernel was built again: its headers were probed, the proven ones' were not.
      expect(second.filter((r) => !r.cached).map((r) => [r.kernel, r.verdict])).toEqual([['6.1.0-55-amd64', 'fail']]);
      expect(requests - before).toBeLessThanOrEqual(4);
    } finally {
      repo.cleanup();
    }
  });

  it('merges shard reports into one matrix, prints the CI plan, and refuses bad flags', async () => {
    const repo = project();
    try {
      const plan = await runCli(['verify', '--plan', '3'], repo.root);
      expect(JSON.parse(plan.stdout)).toEqual({
        include: [
          ...[1, 2, 3].map((i) => ({ shard: `${i}/3`, arch: 'x86_64', runner: 'ubuntu-24.04', name: `verify x86_64 ${i} of 3` })),
          ...[1, 2, 3].map((i) => ({ shard: `${i}/3`, arch: 'aarch64', runner: 'ubuntu-24.04-arm', name: `verify aarch64 ${i} of 3` })),
        ],
      });
      expect(JSON.parse((await runCli(['verify', '--plan', '1', '--arch', 'aarch64'], repo.root)).stdout).include).toEqual([{ shard: '1/1', arch: 'aarch64', runner: 'ubuntu-24.04-arm', name: 'verify aarch64 1 of 1' }]);
      expect(await runCli(['verify', '--kernels', 'list.json', '--shard', '3/2'], repo.root)).toMatchObject({ code: 2, stderr: expect.stringContaining('--shard takes I/N') });
      expect(await runCli(['verify', '--kernels', 'list.json', '--jobs', '0'], repo.root)).toMatchObject({ code: 2, stderr: expect.stringContaining('--jobs takes a whole number') });
      expect(await runCli(['verify', '--merge', 'list.json'], repo.root)).toMatchObject({ code: 2, stderr: expect.stringContaining('--merge list.json: not a verify --json report') });
    } finally {
      repo.cleanup();
    }
  });
});

describe('verify --kernels --diff: exactly the kernels a change moves, reported on the pull request', () => {
  it('builds only the moved kernels and keeps one pull request comment up to date', async () => {
    const repo = project();
    const github = await startFakeGitHub('gh-token');
    const env = { GITHUB_TOKEN: process.env.GITHUB_TOKEN, GITHUB_REPOSITORY: process.env.GITHUB_REPOSITORY, GITHUB_API_URL: process.env.GITHUB_API_URL };
    try {
      const dockerfile = `ARG BASE_IMAGE=debian:bookworm@sha256:${'a'.repeat(64)}\nFROM \${BASE_IMAGE}\n`;
      mkdirSync(join(repo.root, 'images'));
      writeFileSync(join(repo.root, 'images/builder-any-x86_64_gcc11.0.0.Dockerfile'), dockerfile);
      gitInitCommit(repo.root);
      // The change: a debian GCC 12 image, which the 6.1 kernels move to (from the any GCC 11 image).
      writeFileSync(join(repo.root, 'images/builder-debian-x86_64_gcc12.0.0.Dockerfile'), dockerfile);
      Object.assign(process.env, { GITHUB_TOKEN: 'gh-token', GITHUB_REPOSITORY: 'o/r', GITHUB_API_URL: github.url });
      const first = await runCli(['verify', '--kernels', 'list.json', '--diff', 'HEAD', '--release', '-5[07]-', '--comment-pr', '7', '--json'], repo.root);
      expect(first.stderr).toContain('2 of 2 kernel(s) change image or GCC between images/ at HEAD');
      expect((JSON.parse(first.stdout) as Row[]).map((r) => [r.kernel, r.verdict])).toEqual([['6.1.0-50-amd64', 'pass'], ['6.1.0-57-amd64', 'pass']]);
      expect(github.comments).toHaveLength(1);
      expect(github.comments[0]!.issue).toBe(7);
      expect(github.comments[0]!.body).toMatch(/^<!-- builder-images verify -->\n### verify list\.json \(the kernels this change moves against HEAD\)/);
      expect(github.comments[0]!.body).toContain('| debian x86_64 6.1 | ✅ 2 pass |');
      await runCli(['verify', '--kernels', 'list.json', '--diff', 'HEAD', '--release', '-50-', '--comment-pr', '7'], repo.root);
      expect(github.comments).toHaveLength(1);
      expect(github.comments[0]!.body).toContain('| debian x86_64 6.1 | ✅ 1 pass |');
      git(repo.root, 'add', '-A');
      git(repo.root, 'commit', '-qm', 'gcc 12');
      const none = await runCli(['verify', '--kernels', 'list.json', '--diff', 'HEAD', '--json'], repo.root);
      expect(none.stderr).toContain('0 of 4 kernel(s) change image or GCC');
      expect(JSON.parse(none.stdout)).toEqual([]);

      // index --verify reads the records too: which kernels verify proved for each entry's digest (the first test's
      // recorded run proved 6.1.0-57 for the same image in this registry).
      await runCli(['verify', '--kernels', 'list.json', '--release', '-5[03]-', '--record'], repo.root);
      const index = JSON.parse((await runCli(['index', '--verify', '--json'], repo.root)).stdout) as { name: string; provenKernels: string[] }[];
      expect(index.find((e) => e.name.includes('debian-x86_64_gcc12.0.0'))?.provenKernels).toEqual(['6.1.0-50-amd64', '6.1.0-53-amd64', '6.1.0-57-amd64']);
      expect(index.find((e) => e.name.includes('any-x86_64_gcc11.0.0'))?.provenKernels).toEqual([]);
    } finally {
      for (const [k, v] of Object.entries(env)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await github.stop();
      repo.cleanup();
    }
  });
});
